//! The repertoire: `entry new|edit|list|show`.

use anyhow::{Result, bail};
use clap::Subcommand;
use commonplace_model::{EntryKind, TextEdit};
use commonplace_node::{EntryFilter, NewEntry, Promotion};

use crate::Ctx;
use crate::community::CommunityArg;

#[derive(Debug, Subcommand)]
pub(crate) enum EntryCmd {
    /// Add to the repertoire, or promote a thread with --from-thread; prints the entry id.
    New {
        #[command(flatten)]
        community: CommunityArg,
        /// story, case, tool, method, lesson or document.
        #[arg(long)]
        kind: EntryKind,
        /// Title (default when promoting: the thread's title).
        #[arg(long)]
        title: Option<String>,
        /// Text ("-" reads standard input; default when promoting: question and answer).
        #[arg(long)]
        body: Option<String>,
        /// A topic (repeat for several).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Promote this thread, keeping links to its posts and contributors.
        #[arg(long, value_name = "THREAD")]
        from_thread: Option<String>,
    },
    /// Edit an entry's text; concurrent edits by others merge.
    Edit {
        /// The entry (id or unique prefix).
        entry: String,
        /// Replace the whole text ("-" reads standard input).
        #[arg(long, group = "edit")]
        body: Option<String>,
        /// Add text at the end.
        #[arg(long, group = "edit")]
        append: Option<String>,
        /// Insert --text at this character position.
        #[arg(long, group = "edit", requires = "text")]
        insert_at: Option<usize>,
        /// The text to insert.
        #[arg(long, requires = "insert_at")]
        text: Option<String>,
        /// Delete this many characters at --insert-at... see --delete-at.
        #[arg(long, group = "edit", requires = "count")]
        delete_at: Option<usize>,
        /// How many characters to delete.
        #[arg(long, requires = "delete_at")]
        count: Option<usize>,
        /// New title.
        #[arg(long)]
        title: Option<String>,
    },
    /// Entries, most recently updated first.
    List {
        #[command(flatten)]
        community: CommunityArg,
        /// Only this kind.
        #[arg(long)]
        kind: Option<EntryKind>,
        /// Only entries with this tag.
        #[arg(long)]
        tag: Option<String>,
    },
    /// One entry.
    Show {
        /// The entry (id or unique prefix).
        entry: String,
    },
}

pub(crate) fn entry(cx: &Ctx, cmd: EntryCmd) -> Result<()> {
    let (node, out) = (cx.node, cx.out);
    match cmd {
        EntryCmd::New {
            community,
            kind,
            title,
            body,
            tags,
            from_thread,
        } => {
            let c = node.find_community(community.community.as_deref())?;
            let from_thread = from_thread.map(|t| node.find_thread(&t)).transpose()?;
            if from_thread.is_none() && title.is_none() {
                bail!("an entry needs --title (or --from-thread to promote a thread)");
            }
            let new = NewEntry {
                kind,
                title,
                body: body.map(|b| cx.text_arg(b)).transpose()?,
                tags,
                from_thread,
            };
            if new.from_thread.is_none() {
                out.created("entry", &node.create_entry(&c, &new)?.to_string())
            } else {
                match node.promote_thread(&c, &new)? {
                    Promotion::Created { entry } => out.created("entry", &entry.to_string()),
                    Promotion::Existing { entry } => out.already_promoted(&entry.to_string()),
                }
            }
        }
        EntryCmd::Edit {
            entry,
            body,
            append,
            insert_at,
            text,
            delete_at,
            count,
            title,
        } => {
            let id = node.find_entry(&entry)?;
            let edit = match (body, append, insert_at.zip(text), delete_at.zip(count)) {
                (Some(b), ..) => Some(TextEdit::Replace(cx.text_arg(b)?)),
                (_, Some(a), ..) => Some(TextEdit::Append(a)),
                (_, _, Some((at, text)), _) => Some(TextEdit::Insert { at, text }),
                (_, _, _, Some((at, len))) => Some(TextEdit::Delete { at, len }),
                _ => None,
            };
            if edit.is_none() && title.is_none() {
                bail!(
                    "say what to change: --body, --append, --insert-at/--text, --delete-at/--count or --title"
                );
            }
            if let Some(edit) = edit {
                node.edit_entry(&id, &edit)?;
            }
            if let Some(t) = title {
                node.retitle_entry(&id, Some(&t), None)?;
            }
            out.done(&format!("edited {}", id.short()))
        }
        EntryCmd::List {
            community,
            kind,
            tag,
        } => {
            let c = node.find_community(community.community.as_deref())?;
            let entries = node.entries(&c, &EntryFilter { kind, tag })?;
            out.entries(&node.community(&c)?, &entries)
        }
        EntryCmd::Show { entry } => {
            let id = node.find_entry(&entry)?;
            let e = node.entry(&id)?;
            out.entry(&node.community(&e.community)?, &e)
        }
    }
}
