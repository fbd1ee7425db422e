//! Threads: `thread new|list|show|resolve|reopen|helped` and `reply`.

use anyhow::{Result, bail};
use clap::Subcommand;
use commonplace_base::{DocId, PostId};
use commonplace_model::ActivityKind;
use commonplace_node::{NewThread, Node, ThreadFilter, ThreadState};

use crate::Ctx;
use crate::community::CommunityArg;

#[derive(Debug, Subcommand)]
pub(crate) enum ThreadCmd {
    /// Open a thread; prints the thread id.
    New {
        #[command(flatten)]
        community: CommunityArg,
        /// problem, request, development, story or discussion.
        #[arg(long)]
        kind: ActivityKind,
        /// Title.
        #[arg(long)]
        title: String,
        /// Opening post ("-" reads standard input).
        #[arg(long)]
        body: String,
        /// A topic (repeat for several).
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// Threads, most recently active first.
    List {
        #[command(flatten)]
        community: CommunityArg,
        /// Only this kind.
        #[arg(long)]
        kind: Option<ActivityKind>,
        /// Only open threads.
        #[arg(long, conflicts_with = "resolved")]
        open: bool,
        /// Only resolved threads.
        #[arg(long)]
        resolved: bool,
        /// Only threads with this tag.
        #[arg(long)]
        tag: Option<String>,
    },
    /// A thread with its replies.
    Show {
        /// The thread (id or unique prefix).
        thread: String,
    },
    /// Mark a thread solved or answered.
    Resolve {
        /// The thread.
        thread: String,
        /// The reply that answered it.
        #[arg(long, value_name = "POST")]
        answer: Option<String>,
    },
    /// Open a resolved thread again.
    Reopen {
        /// The thread.
        thread: String,
    },
    /// Say "this helped" about a post (the thread id names the opening post).
    Helped {
        /// The thread.
        thread: String,
        /// The post (not your own).
        post: String,
        /// Withdraw your mark instead.
        #[arg(long)]
        undo: bool,
    },
}

pub(crate) fn thread(cx: &Ctx, cmd: ThreadCmd) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    match cmd {
        ThreadCmd::New {
            community,
            kind,
            title,
            body,
            tags,
        } => {
            let c = node.find_community(community.community.as_deref())?;
            let id = node.create_thread(
                &c,
                &NewThread {
                    activity: kind,
                    title,
                    body: cx.text_arg(body)?,
                    tags,
                },
            )?;
            out.created("thread", &id.to_string())
        }
        ThreadCmd::List {
            community,
            kind,
            open,
            resolved,
            tag,
        } => {
            let c = node.find_community(community.community.as_deref())?;
            let state = match (open, resolved) {
                (true, _) => Some(ThreadState::Open),
                (_, true) => Some(ThreadState::Resolved),
                _ => None,
            };
            let threads = node.threads(
                &c,
                &ThreadFilter {
                    activity: kind,
                    state,
                    tag,
                },
            )?;
            out.threads(&node.community(&c)?, &threads)
        }
        ThreadCmd::Show { thread } => {
            let id = node.find_thread(&thread)?;
            let t = node.thread(&id)?;
            out.thread(&node.community(&t.community)?, &t)
        }
        ThreadCmd::Resolve { thread, answer } => {
            let id = node.find_thread(&thread)?;
            let answer = answer.map(|a| find_post(node, &id, &a)).transpose()?;
            node.resolve(&id, answer.as_ref())?;
            out.done(&format!("resolved {}", id.short()))
        }
        ThreadCmd::Reopen { thread } => {
            let id = node.find_thread(&thread)?;
            node.reopen(&id)?;
            out.done(&format!("reopened {}", id.short()))
        }
        ThreadCmd::Helped { thread, post, undo } => {
            let id = node.find_thread(&thread)?;
            let post = find_post(node, &id, &post)?;
            if undo {
                node.unmark_helped(&id, &post)?;
                out.done("no longer marked as helpful")
            } else {
                node.mark_helped(&id, &post)?;
                out.done("marked as helpful")
            }
        }
    }
}

/// Replies to a thread (or to one of its posts, `to`); prints the post id.
pub(crate) fn reply(cx: &Ctx, thread: &str, body: String, to: Option<String>) -> Result<()> {
    let id = cx.node.find_thread(thread)?;
    let to = to.map(|p| find_post(cx.node, &id, &p)).transpose()?;
    let post = cx.node.reply(&id, &cx.text_arg(body)?, to.as_ref())?;
    cx.out.created("post", &post.to_string())
}

/// The post of `thread` whose id starts with `text` (at least four characters).
fn find_post(node: &Node, thread: &DocId, text: &str) -> Result<PostId> {
    let t = node.thread(thread)?;
    let lower = text.trim().to_lowercase();
    let hits: Vec<_> = std::iter::once(&t.opening)
        .chain(&t.replies)
        .filter(|p| p.id.to_string().starts_with(&lower))
        .collect();
    match hits.as_slice() {
        [one] if lower.len() >= 4 => Ok(one.id),
        [] => bail!("no post in this thread matches '{text}'"),
        _ => bail!("'{text}' matches several posts or is too short; type more of the id"),
    }
}
