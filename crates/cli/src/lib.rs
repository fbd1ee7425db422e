//! `commonplace`: the command line of Commonplace, for scripting and for running a headless
//! peer. Every command is a thin call into `commonplace_node`; this crate only parses
//! arguments, runs the command and prints its result.
//!
//! A command runs in one of two places. When no other process holds the profile, the
//! command opens it itself. When one does — `commonplace serve` or the desktop app — the
//! command is sent over the profile's control socket ([`control`]) and runs inside that
//! process, against its open node and its live network; the output and exit status come
//! back as if it had run here. Either way the same code runs, printing through one writer
//! ([`Out`]).
//!
//! The modules follow the domains of the node: identity, community and roster, threads,
//! the repertoire, events, health and insight, bundles and key backups, and the network.
//!
//! ```no_run
//! use clap::Parser;
//! let cli = commonplace_cli::Cli::parse_from(["commonplace", "thread", "list", "--json"]);
//! let status = commonplace_cli::run(cli, std::env::args_os().collect());
//! # let _ = status;
//! ```

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use commonplace_node::{Node, NodeError, Presence, Profile};
use zeroize::Zeroizing;

#[macro_use]
mod output;
mod backup;
mod bundles;
mod community;
pub mod control;
mod events;
mod health;
mod identity;
mod net;
mod qr_image;
mod repertoire;
mod threads;

pub use control::ControlServer;
pub use output::Out;

#[derive(Debug, Parser)]
#[command(name = "commonplace", version, about, long_about = None)]
pub struct Cli {
    /// The profile directory (default: $COMMONPLACE_PROFILE, else the platform data dir).
    #[arg(long, global = true, value_name = "DIR")]
    profile: Option<PathBuf>,
    /// Print machine-readable JSON (see docs/cli.md for the shapes).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

impl Cli {
    /// Whether this is `commonplace serve` (the always-on peer logs its syncs).
    pub fn is_serve(&self) -> bool {
        matches!(self.command, Command::Serve { .. })
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
    Community(community::CommunityCmd),
    /// Open, list, show and resolve threads.
    #[command(subcommand)]
    Thread(threads::ThreadCmd),
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
    Entry(repertoire::EntryCmd),
    /// The roster.
    #[command(subcommand)]
    Member(community::MemberCmd),
    /// The roster; with --levels, everyone's participation level (same as `member list`).
    Members {
        #[command(flatten)]
        community: community::CommunityArg,
        /// Show participation levels (core, active, peripheral, inactive).
        #[arg(long)]
        levels: bool,
    },
    /// Events: meetings, calls, workshops, sessions; answers, notes, calendar export.
    #[command(subcommand)]
    Event(events::EventCmd),
    /// The health report for a period, as Markdown, CSV, HTML with charts, or JSON.
    Health(health::HealthArgs),
    /// Who knows what: expertise per topic; --ask THREAD, --meet for suggestions.
    Experts(health::ExpertsArgs),
    /// The knowledge map and its gaps: uncovered topics, unanswered requests, stale entries.
    Gaps(health::GapsArgs),
    /// Write a signed bundle of everything about a community (for USB sticks and e-mail).
    Export {
        #[command(flatten)]
        community: community::CommunityArg,
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
    Invite(net::InviteCmd),
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
        community: community::CommunityArg,
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

/// What a command needs around it: the open node, where its output goes, what it may read
/// (standard input and a passphrase, here or sent by a control-socket client) and, inside a
/// running `serve` or app, that process's live network.
pub(crate) struct Ctx<'a> {
    pub(crate) node: &'a Node,
    pub(crate) out: &'a Out,
    pub(crate) input: &'a Input,
    pub(crate) live: Option<&'a Live>,
}

/// The network of the process a command runs in, when it runs inside `serve` or the app.
pub(crate) struct Live {
    pub(crate) presence: Presence,
    /// The runtime of that process: a command (on a blocking thread) waits on it.
    pub(crate) runtime: tokio::runtime::Handle,
}

/// What a command may read besides its arguments.
pub(crate) enum Input {
    /// This process's standard input and terminal.
    Terminal,
    /// What a control-socket client read before it sent the command: its standard input
    /// (if the command reads it) and the passphrase (if the command needs one).
    Sent {
        stdin: Mutex<Option<Vec<u8>>>,
        passphrase: Option<Zeroizing<String>>,
    },
}

impl Ctx<'_> {
    /// Runs `work` to its end: on the running process's runtime, else on a runtime of its own.
    pub(crate) fn block_on<F: std::future::Future>(&self, work: F) -> Result<F::Output> {
        match self.live {
            Some(live) => Ok(live.runtime.block_on(work)),
            None => Ok(runtime()?.block_on(work)),
        }
    }

    /// The text of an argument: itself, or standard input for "-".
    pub(crate) fn text_arg(&self, s: String) -> Result<String> {
        if s != "-" {
            return Ok(s);
        }
        match self.input {
            Input::Terminal => {
                let mut buf = String::new();
                std::io::stdin()
                    .read_to_string(&mut buf)
                    .context("reading standard input")?;
                Ok(buf)
            }
            Input::Sent { stdin, .. } => {
                let bytes = stdin
                    .lock()
                    .ok()
                    .and_then(|mut s| s.take())
                    .unwrap_or_default();
                String::from_utf8(bytes)
                    .map_err(|_| {
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            "stream did not contain valid UTF-8",
                        )
                    })
                    .context("reading standard input")
            }
        }
    }
}

/// Runs the parsed command line `cli` (`argv`: the arguments it was parsed from), printing
/// to this process's standard output and error: through the running process holding the
/// profile if there is one, else against the profile opened here.
pub fn run(cli: Cli, argv: Vec<OsString>) -> ExitCode {
    let out = Out::stdio(cli.json);
    match run_here_or_there(cli, argv, &out) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The sentence after `error:` for a failed command.
pub(crate) fn error_line(e: &anyhow::Error) -> String {
    match e.downcast_ref::<NodeError>() {
        Some(n) => n.to_string(),
        None => format!("{e:#}"),
    }
}

fn run_here_or_there(cli: Cli, argv: Vec<OsString>, out: &Out) -> Result<ExitCode> {
    let profile = profile(cli.profile.clone())?;
    let input = Input::Terminal;
    match cli.command {
        Command::Init {
            name,
            region,
            organisation,
        } => {
            identity::init(
                profile,
                &name,
                region.as_deref(),
                organisation.as_deref(),
                out,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore(args) => {
            backup::restore(profile, args, out)?;
            Ok(ExitCode::SUCCESS)
        }
        command => {
            let stale = match control::connect(profile.dir()) {
                control::Probe::Live(stream) => {
                    return control::run_remote(stream, &command, argv);
                }
                control::Probe::Stale(path) => Some(path),
                control::Probe::Absent => None,
            };
            let node = Node::open(profile)?;
            if let Some(path) = stale {
                // The profile is ours now: nobody listens on that socket.
                let _ = std::fs::remove_file(path);
            }
            let cx = Ctx {
                node: &node,
                out,
                input: &input,
                live: None,
            };
            dispatch(command, &cx)?;
            Ok(ExitCode::SUCCESS)
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

/// Runs a command on an open node: each domain's commands are in its module.
pub(crate) fn dispatch(command: Command, cx: &Ctx) -> Result<()> {
    match command {
        Command::Init { .. } | Command::Restore(_) => {
            bail!("this profile already has an identity (it is open in another process)")
        }
        Command::Backup(args) => backup::backup(cx, args),
        Command::Whoami => identity::whoami(cx),
        Command::Profile {
            name,
            region,
            organisation,
        } => identity::update(cx, name, region, organisation),
        Command::Community(cmd) => community::community(cx, cmd),
        Command::Member(cmd) => community::member(cx, cmd),
        Command::Members { community, levels } => community::members(cx, &community, levels),
        Command::Thread(cmd) => threads::thread(cx, cmd),
        Command::Reply { thread, body, to } => threads::reply(cx, &thread, body, to),
        Command::Entry(cmd) => repertoire::entry(cx, cmd),
        Command::Event(cmd) => events::event(cx, cmd),
        Command::Health(args) => health::health(cx, args),
        Command::Experts(args) => health::experts(cx, args),
        Command::Gaps(args) => health::gaps(cx, args),
        Command::Export { community, out } => bundles::export(cx, &community, &out),
        Command::Import { file } => bundles::import(cx, &file),
        Command::Invite(cmd) => net::invite(cx, cmd),
        Command::Join {
            code,
            qr,
            via,
            net: n,
        } => net::join(cx, code, qr, &via, n),
        Command::Serve { net: n, interval } => net::serve(cx, n, interval),
        Command::Sync {
            community,
            peer,
            timeout,
            net: n,
        } => net::sync(cx, &community, peer, timeout, n),
        Command::Status => net::status(cx),
    }
}

impl Command {
    /// Whether the command reads standard input (a text argument given as "-"): a client
    /// of the control socket reads it and sends it along.
    pub(crate) fn reads_stdin(&self) -> bool {
        let dash = |s: &Option<String>| s.as_deref() == Some("-");
        match self {
            Command::Thread(threads::ThreadCmd::New { body, .. }) | Command::Reply { body, .. } => {
                body == "-"
            }
            Command::Entry(repertoire::EntryCmd::New { body, .. })
            | Command::Entry(repertoire::EntryCmd::Edit { body, .. }) => dash(body),
            Command::Event(events::EventCmd::New { agenda, .. }) => agenda == "-",
            Command::Event(events::EventCmd::Edit(args)) => args.reads_stdin(),
            Command::Event(events::EventCmd::Notes { body, .. }) => dash(body),
            _ => false,
        }
    }

    /// Paths in the command made absolute against `cwd`, the directory of the client that
    /// sent it (the running process's own directory is another).
    pub(crate) fn resolve_paths(&mut self, cwd: &Path) {
        let fix = |p: &mut PathBuf| *p = cwd.join(&*p);
        match self {
            Command::Backup(args) => args.resolve_paths(cwd),
            Command::Export { out, .. } => fix(out),
            Command::Import { file } => fix(file),
            Command::Join { qr: Some(qr), .. } => fix(qr),
            Command::Event(events::EventCmd::ExportIcs { out, .. }) => fix(out),
            Command::Health(args) => args.resolve_paths(cwd),
            _ => {}
        }
    }

    /// The passphrase options of a command that needs a passphrase (`backup`).
    pub(crate) fn passphrase(&self) -> Option<&backup::PassphraseArgs> {
        match self {
            Command::Backup(args) => Some(args.passphrase()),
            _ => None,
        }
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Writes via a temporary file and a rename, so a crash never leaves half a bundle under the
/// final name.
pub(crate) fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    Ok(commonplace_node::write_atomically(path, bytes)?)
}
