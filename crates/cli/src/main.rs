//! `commonplace`: the command line of Commonplace, for scripting and for running a headless
//! peer. Every command is a thin call into `commonplace_node`; this file only parses
//! arguments and prints results.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use commonplace_model::{ActivityKind, EntryKind, Role, TextEdit};
use commonplace_node::{
    EntryFilter, NewCommunity, NewEntry, NewThread, Node, NodeError, Profile, Promotion,
    ThreadFilter, ThreadState,
};

#[macro_use]
mod output;
mod backup;
mod cultivate;
mod net;
mod qr_image;

use output::Out;

/// Commonplace: a home for a community of practice, with no server.
#[derive(Debug, Parser)]
#[command(name = "commonplace", version, about, long_about = None)]
struct Cli {
    /// The profile directory (default: $COMMONPLACE_PROFILE, else the platform data dir).
    #[arg(long, global = true, value_name = "DIR")]
    profile: Option<PathBuf>,
    /// Print machine-readable JSON (see docs/cli.md for the shapes).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create this profile's identity (an ed25519 key pair) and print the member id.
    Init {
        /// Your name as other members will see it.
        #[arg(long)]
        name: String,
        /// Your region.
        #[arg(long)]
        region: Option<String>,
        /// Your organisation.
        #[arg(long)]
        organisation: Option<String>,
    },
    /// Create this profile's identity from a key backup (`commonplace backup`), on a new
    /// device: the communities return from other members at the next sync.
    Restore(backup::RestoreArgs),
    /// Write a backup of your key, sealed under a passphrase you choose (at least 8
    /// characters). Keep it apart from this computer: without it, a lost laptop is a lost
    /// membership.
    Backup(backup::BackupArgs),
    /// Show who this profile is.
    Whoami,
    /// Change your name, region or organisation, here and in the roster of every community
    /// you belong to (others see it after the next sync). Options not given stay; "" clears
    /// a region or organisation.
    Profile {
        /// Your name.
        #[arg(long)]
        name: Option<String>,
        /// Your region.
        #[arg(long)]
        region: Option<String>,
        /// Your organisation.
        #[arg(long)]
        organisation: Option<String>,
    },
    /// Create, list and show communities.
    #[command(subcommand)]
    Community(CommunityCmd),
    /// Open, list, show and resolve threads.
    #[command(subcommand)]
    Thread(ThreadCmd),
    /// Reply to a thread; prints the post id.
    Reply {
        /// The thread (id or unique prefix).
        thread: String,
        /// The reply ("-" reads standard input).
        #[arg(long)]
        body: String,
        /// Answer a particular post rather than the thread.
        #[arg(long, value_name = "POST")]
        to: Option<String>,
    },
    /// The shared repertoire: stories, cases, tools, methods, lessons, documents.
    #[command(subcommand)]
    Entry(EntryCmd),
    /// The roster.
    #[command(subcommand)]
    Member(MemberCmd),
    /// The roster; with --levels, everyone's participation level (same as `member list`).
    Members {
        #[command(flatten)]
        community: CommunityArg,
        /// Show participation levels (core, active, peripheral, inactive).
        #[arg(long)]
        levels: bool,
    },
    /// Events: meetings, calls, workshops, sessions; answers, notes, calendar export.
    #[command(subcommand)]
    Event(cultivate::EventCmd),
    /// The health report for a period, as Markdown, CSV, HTML with charts, or JSON.
    Health(cultivate::HealthArgs),
    /// Who knows what: expertise per topic; --ask THREAD, --meet for suggestions.
    Experts(cultivate::ExpertsArgs),
    /// The knowledge map and its gaps: uncovered topics, unanswered requests, stale entries.
    Gaps(cultivate::GapsArgs),
    /// Write a signed bundle of everything about a community (for USB sticks and e-mail).
    Export {
        #[command(flatten)]
        community: CommunityArg,
        /// Where to write the bundle.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify and import a bundle. One bad change refuses the whole file.
    Import {
        /// The bundle file.
        file: PathBuf,
    },
    /// Invitations to a community (coordinators).
    #[command(subcommand)]
    Invite(InviteCmd),
    /// Join a community with an invitation code: the inviting node (or any member's node
    /// given with --via) admits you and you receive the whole community. The code is the
    /// short one (K7QM-3XPA-9FHD-2WNE), the long one (cpinvite1…), or a QR image (--qr).
    Join {
        /// The invitation code, short or long (not needed with --qr).
        #[arg(required_unless_present = "qr")]
        code: Option<String>,
        /// Read the code from a PNG image of its QR code (a screenshot or a photo).
        #[arg(long, value_name = "FILE.png", conflicts_with = "code")]
        qr: Option<PathBuf>,
        /// Join through this member's node (its address, from `status`); repeatable. A short
        /// code is resolved there (the inviting node's address, while it runs). The inviting
        /// node named in the code is tried last.
        #[arg(long, visible_alias = "peer", value_name = "ADDR")]
        via: Vec<String>,
        #[command(flatten)]
        net: net::NetArgs,
    },
    /// Run as an always-on peer: accept syncs from members and sync with known peers.
    Serve {
        #[command(flatten)]
        net: net::NetArgs,
        /// How often to sync with known peers.
        #[arg(long, default_value = "30s", value_parser = net::duration_up_to(net::MAX_INTERVAL))]
        interval: std::time::Duration,
    },
    /// Sync once with a peer (or every known peer), then exit with a summary.
    Sync {
        #[command(flatten)]
        community: CommunityArg,
        /// The peer's address, as printed by its `commonplace serve`.
        #[arg(long)]
        peer: Option<String>,
        /// Give up after this long.
        #[arg(long, default_value = "30s", value_parser = net::duration_up_to(net::MAX_TIMEOUT))]
        timeout: std::time::Duration,
        #[command(flatten)]
        net: net::NetArgs,
    },
    /// Own address, known peers and the last sync with each.
    Status,
}

#[derive(Debug, Subcommand)]
enum InviteCmd {
    /// Create a single-use invitation code (coordinators only).
    Create {
        #[command(flatten)]
        community: CommunityArg,
        /// How long the code works.
        #[arg(long, default_value = "7d", value_parser = net::duration_up_to(net::MAX_EXPIRES))]
        expires: std::time::Duration,
        /// The newcomer's role.
        #[arg(long, default_value = "member")]
        role: Role,
        /// Also draw the code as a QR code in the terminal, for a phone or a second laptop.
        #[arg(long)]
        qr: bool,
        #[command(flatten)]
        net: net::NetArgs,
    },
    /// The invitations created on this node: short code, role, state, who used them.
    List {
        /// Only those to this community (id, id prefix or name).
        #[arg(long, short = 'c')]
        community: Option<String>,
    },
    /// Revoke an unused invitation: this node refuses it at once, every member's node once
    /// the record has synced to it.
    Revoke {
        /// Its short code.
        code: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct CommunityArg {
    /// The community (id, id prefix or name); optional when the profile has only one.
    #[arg(long, short = 'c')]
    pub(crate) community: Option<String>,
}

#[derive(Debug, Subcommand)]
enum CommunityCmd {
    /// Found a community; you become its first coordinator. Prints the community id.
    Create {
        /// Its name.
        #[arg(long)]
        name: String,
        /// The shared domain, in a sentence or two.
        #[arg(long, default_value = "")]
        domain: String,
        /// A key issue (repeat for several).
        #[arg(long = "issue")]
        issues: Vec<String>,
        /// A value the community holds (repeat for several).
        #[arg(long = "value")]
        values: Vec<String>,
        /// A topic (repeat for several).
        #[arg(long = "topic")]
        topics: Vec<String>,
    },
    /// Communities in this profile.
    List,
    /// A community's charter and figures.
    Show {
        /// The community (id, id prefix or name).
        community: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ThreadCmd {
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

#[derive(Debug, Subcommand)]
enum EntryCmd {
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

#[derive(Debug, Subcommand)]
enum MemberCmd {
    /// The roster.
    List {
        #[command(flatten)]
        community: CommunityArg,
        /// Show participation levels (core, active, peripheral, inactive).
        #[arg(long)]
        levels: bool,
    },
    /// Show or set the participation thresholds (setting: coordinators only).
    Thresholds(cultivate::ThresholdArgs),
    /// Add a member (coordinators only).
    Add {
        /// Their member id (they get it from `commonplace whoami`).
        member: String,
        /// Their name.
        #[arg(long)]
        name: String,
        /// coordinator, member or observer.
        #[arg(long, default_value = "member")]
        role: Role,
        #[command(flatten)]
        community: CommunityArg,
    },
    /// Change a member's role (coordinators only).
    Role {
        /// The member (id, prefix or name).
        member: String,
        /// coordinator, member or observer.
        role: Role,
        #[command(flatten)]
        community: CommunityArg,
    },
    /// Remove a member; their past contributions stay (coordinators only).
    Remove {
        /// The member (id, prefix or name).
        member: String,
        #[command(flatten)]
        community: CommunityArg,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The always-on peer reports its syncs; everything else stays quiet unless asked
    // (COMMONPLACE_LOG), so that a failure is the one `error:` line below. Libraries' own
    // log lines (Automerge, iroh) are never shown by default.
    let default_level = if matches!(cli.command, Command::Serve { .. }) {
        "off,commonplace_node=info,commonplace_net=info,commonplace=info"
    } else {
        "off"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COMMONPLACE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = match e.downcast_ref::<NodeError>() {
                Some(n) => n.to_string(),
                None => format!("{e:#}"),
            };
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn profile(cli_profile: Option<PathBuf>) -> Result<Profile> {
    match cli_profile {
        Some(p) => Ok(Profile::at(p)),
        None => Profile::default_location()
            .context("no data directory on this system: pass --profile DIR"),
    }
}

pub(crate) fn text_arg(s: String) -> Result<String> {
    if s == "-" {
        let mut buf = String::new();
        std::io::stdin()
            .read_to_string(&mut buf)
            .context("reading standard input")?;
        Ok(buf)
    } else {
        Ok(s)
    }
}

fn run(cli: Cli) -> Result<()> {
    let out = Out { json: cli.json };
    let profile = profile(cli.profile)?;
    if let Command::Init {
        name,
        region,
        organisation,
    } = &cli.command
    {
        let node = Node::init(profile, name, region.as_deref(), organisation.as_deref())?;
        return out.identity(&node.identity()?, true);
    }
    if let Command::Restore(args) = cli.command {
        return backup::restore(profile, args, &out);
    }
    let node = Node::open(profile)?;
    match cli.command {
        Command::Init { .. } | Command::Restore(_) => unreachable_init(),
        Command::Backup(args) => backup::backup(&node, args, &out),
        Command::Whoami => out.identity(&node.identity()?, false),
        Command::Profile {
            name,
            region,
            organisation,
        } => {
            let me = node.identity()?;
            let id = node.update_profile(
                name.as_deref().unwrap_or(&me.name),
                region.as_deref().or(me.region.as_deref()),
                organisation.as_deref().or(me.organisation.as_deref()),
            )?;
            out.identity(&id, false)
        }
        Command::Community(cmd) => match cmd {
            CommunityCmd::Create {
                name,
                domain,
                issues,
                values,
                topics,
            } => {
                let id = node.create_community(&NewCommunity {
                    name,
                    domain,
                    issues,
                    values,
                    topics,
                })?;
                out.created("community", &id.to_string())
            }
            CommunityCmd::List => out.communities(&node.communities()?),
            CommunityCmd::Show { community } => {
                let id = node.find_community(community.as_deref())?;
                let overview = node
                    .communities()?
                    .into_iter()
                    .find(|c| c.id == id)
                    .context("community vanished")?;
                out.community(&node.community(&id)?, &overview)
            }
        },
        Command::Thread(cmd) => match cmd {
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
                        body: text_arg(body)?,
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
                let answer = answer.map(|a| find_post(&node, &id, &a)).transpose()?;
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
                let post = find_post(&node, &id, &post)?;
                if undo {
                    node.unmark_helped(&id, &post)?;
                    out.done("no longer marked as helpful")
                } else {
                    node.mark_helped(&id, &post)?;
                    out.done("marked as helpful")
                }
            }
        },
        Command::Reply { thread, body, to } => {
            let id = node.find_thread(&thread)?;
            let to = to.map(|p| find_post(&node, &id, &p)).transpose()?;
            let post = node.reply(&id, &text_arg(body)?, to.as_ref())?;
            out.created("post", &post.to_string())
        }
        Command::Entry(cmd) => match cmd {
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
                    body: body.map(text_arg).transpose()?,
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
                    (Some(b), ..) => Some(TextEdit::Replace(text_arg(b)?)),
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
        },
        Command::Member(cmd) => match cmd {
            MemberCmd::List { community, levels } => {
                let c = node.find_community(community.community.as_deref())?;
                if levels {
                    cultivate::levels(&node, &c, &out)
                } else {
                    out.members(&node.members(&c)?)
                }
            }
            MemberCmd::Thresholds(args) => cultivate::thresholds(&node, args, &out),
            MemberCmd::Add {
                member,
                name,
                role,
                community,
            } => {
                let c = node.find_community(community.community.as_deref())?;
                let m = member.parse().map_err(|e| {
                    anyhow::anyhow!("{e}: pass the full member id from `commonplace whoami`")
                })?;
                node.add_member(&c, &m, &name, role)?;
                out.done(&format!("added {name} as {role}"))
            }
            MemberCmd::Role {
                member,
                role,
                community,
            } => {
                let c = node.find_community(community.community.as_deref())?;
                let m = node.find_member(&c, &member)?;
                node.set_role(&c, &m, role)?;
                out.done(&format!("{} is now {role}", m.short()))
            }
            MemberCmd::Remove { member, community } => {
                let c = node.find_community(community.community.as_deref())?;
                let m = node.find_member(&c, &member)?;
                node.remove_member(&c, &m)?;
                out.done(&format!("removed {}", m.short()))
            }
        },
        Command::Members { community, levels } => {
            let c = node.find_community(community.community.as_deref())?;
            if levels {
                cultivate::levels(&node, &c, &out)
            } else {
                out.members(&node.members(&c)?)
            }
        }
        Command::Event(cmd) => cultivate::event(&node, cmd, &out),
        Command::Health(args) => cultivate::health(&node, args, &out),
        Command::Experts(args) => cultivate::experts(&node, args, &out),
        Command::Gaps(args) => cultivate::gaps(&node, args, &out),
        Command::Export {
            community,
            out: path,
        } => {
            let c = node.find_community(community.community.as_deref())?;
            let size = node.export_to_file(&c, &path)?;
            out.exported(&path, size)
        }
        Command::Invite(InviteCmd::Create {
            community,
            expires,
            role,
            qr,
            net: n,
        }) => {
            let c = node.find_community(community.community.as_deref())?;
            runtime()?.block_on(net::invite(node, n, c, role, expires, qr, &out))
        }
        Command::Invite(InviteCmd::List { community }) => {
            let c = community
                .map(|c| node.find_community(Some(&c)))
                .transpose()?;
            out.invitations(&node.pending_invitations(c.as_ref())?)
        }
        Command::Invite(InviteCmd::Revoke { code }) => {
            let p = node.revoke_invite(&code)?;
            out.done(&format!(
                "revoked {} (to {}); it no longer admits anyone",
                p.short_code, p.community_name
            ))
        }
        Command::Join {
            code,
            qr,
            via,
            net: n,
        } => {
            let code = match (code, qr) {
                (Some(c), _) => c,
                (None, Some(path)) => qr_image::read_code(&path)?,
                (None, None) => anyhow::bail!("give the invitation code, or --qr FILE.png"),
            };
            runtime()?.block_on(net::join(node, n, &code, &via, &out))
        }
        Command::Serve { net: n, interval } => {
            runtime()?.block_on(net::serve(node, n, interval, &out))
        }
        Command::Sync {
            community,
            peer,
            timeout,
            net: n,
        } => {
            let c = community
                .community
                .as_deref()
                .map(|c| node.find_community(Some(c)))
                .transpose()?;
            runtime()?.block_on(net::sync(node, n, c, peer, timeout, &out))
        }
        Command::Status => net::status(&node, &out),
        Command::Import { file } => {
            let report = node.import_file(&file)?;
            out.imported(&report)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn unreachable_init() -> Result<()> {
    bail!("init and restore were handled above")
}

fn find_post(
    node: &Node,
    thread: &commonplace_base::DocId,
    text: &str,
) -> Result<commonplace_base::PostId> {
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

/// Writes via a temporary file and a rename, so a crash never leaves half a bundle under the
/// final name.
pub(crate) fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    Ok(commonplace_node::write_atomically(path, bytes)?)
}
