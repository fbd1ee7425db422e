//! The Commonplace desktop app: a thin Tauri shell over [`commonplace_node`].
//!
//! Every command is a one-line call into the node ([`commands`]); the node's domain events are
//! re-emitted as namespaced Tauri events (`node:thread-changed`, …) so the UI refreshes without
//! polling. The UI's TypeScript types are generated from the Rust types ([`bindings`]).

pub mod bindings;
mod commands;
mod files;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context, bail};
use commonplace_node::{
    NetPlan, Node, NodeError, NodeEvent, Online, Presence, PresenceEvent, Profile, RelayMode,
};
use tauri::{AppHandle, Emitter};
use tracing::info;

/// Command-line usage.
pub const USAGE: &str = "usage: commonplace-app [--profile DIR] [--bind ADDR] [--relay default|none|URL] [--no-mdns]\n\
  --profile DIR   the member profile (default: $COMMONPLACE_PROFILE, else the platform data dir)\n\
  --bind ADDR     the UDP address to listen on (default: the one used last time, else any)\n\
  --relay MODE    iroh's default relays, none, or a self-hosted relay URL (default: the profile's setting)\n\
  --no-mdns       do not look for members on the local network";

/// How the app was started.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The profile directory.
    pub profile: Option<std::path::PathBuf>,
    /// Listen address override.
    pub bind: Option<SocketAddr>,
    /// Relay override.
    pub relay: Option<RelayMode>,
    /// Local-network discovery off.
    pub no_mdns: bool,
    /// Print usage.
    pub help: bool,
}

impl Options {
    /// Parses the command line (without the program name).
    pub fn from_args(args: impl IntoIterator<Item = String>) -> anyhow::Result<Options> {
        let mut o = Options::default();
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            let (flag, inline) = match a.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (a.clone(), None),
            };
            let mut value = |name: &str| {
                inline
                    .clone()
                    .or_else(|| it.next())
                    .with_context(|| format!("{name} needs a value"))
            };
            match flag.as_str() {
                "--profile" => o.profile = Some(value("--profile")?.into()),
                "--bind" => {
                    let v = value("--bind")?;
                    o.bind =
                        Some(v.parse().with_context(|| {
                            format!("'{v}' is not an address like 0.0.0.0:7070")
                        })?);
                }
                "--relay" => o.relay = Some(RelayMode::parse(&value("--relay")?)),
                "--no-mdns" => o.no_mdns = true,
                "-h" | "--help" => o.help = true,
                other => bail!("unknown argument '{other}'"),
            }
        }
        Ok(o)
    }

    fn profile(&self) -> anyhow::Result<Profile> {
        match &self.profile {
            Some(p) => Ok(Profile::at(p)),
            None => Profile::default_location()
                .context("no data directory on this system: pass --profile DIR"),
        }
    }
}

/// What the shell keeps between commands.
pub struct AppState {
    pub(crate) profile: Profile,
    pub(crate) options: std::sync::Mutex<Options>,
    pub(crate) node: RwLock<Option<Node>>,
    /// The network owner, once the profile has an identity.
    pub(crate) presence: RwLock<Option<Presence>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub(crate) fn node(&self) -> Result<Node, NodeError> {
        self.node
            .read()
            .ok()
            .and_then(|n| n.clone())
            .ok_or_else(|| NodeError::NoIdentity(self.profile.dir().display().to_string()))
    }

    pub(crate) fn presence(&self) -> Option<Presence> {
        self.presence.read().ok().and_then(|p| p.clone())
    }

    /// How the network is to run: the command line's overrides, else the profile's settings.
    pub(crate) fn plan(&self) -> NetPlan {
        let o = self.options.lock().map(|o| o.clone()).unwrap_or_default();
        NetPlan {
            bind: o.bind,
            relay: o.relay,
            mdns: !o.no_mdns,
            interval: Duration::from_secs(30),
        }
    }

    /// The running network, waiting up to ten seconds for it when it is still starting (just
    /// after the first run or a restore).
    pub(crate) async fn online_soon(&self) -> Result<Online, commands::AppError> {
        let presence = self.presence().ok_or_else(not_online)?;
        presence
            .online_within(Duration::from_secs(10))
            .await
            .map_err(|e| offline_because(&e))
    }

    pub(crate) async fn online(&self) -> Result<Online, commands::AppError> {
        let presence = self.presence().ok_or_else(not_online)?;
        match presence.state() {
            commonplace_node::Connectivity::Online(o) => Ok(*o),
            commonplace_node::Connectivity::Offline { error, .. } => Err(offline_because(&error)),
            _ => Err(not_online()),
        }
    }
}

fn not_online() -> commands::AppError {
    commands::AppError {
        code: commonplace_node::ErrorCode::Network,
        message: "not connected to the network: see Sync for why".into(),
    }
}

fn offline_because(e: &NodeError) -> commands::AppError {
    commands::AppError {
        code: commonplace_node::ErrorCode::Network,
        message: format!("not connected to the network: {e}"),
    }
}

/// Starts the app on `opts.profile`.
pub fn run(opts: Options) -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,commonplace=info".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let profile = opts.profile()?;
    // Open before the window: a profile held by another process is a clear error at once.
    let node = match Node::open(profile.clone()) {
        Ok(n) => Some(n),
        Err(NodeError::NoIdentity(_)) => None,
        Err(e) => return Err(e).context("opening the profile"),
    };
    let state = Arc::new(AppState {
        profile,
        options: std::sync::Mutex::new(opts),
        node: RwLock::new(node.clone()),
        presence: RwLock::new(None),
    });
    let on_exit = state.clone();
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(state.clone())
        .invoke_handler(commands::handler())
        .setup(move |app| {
            if let Some(node) = node {
                start_node(app.handle().clone(), state.clone(), node);
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("starting the app")?
        .run(move |_, event| {
            // The process ends without dropping the node: save the fresh snapshots that
            // dropping it would (the next start then loads the documents without replaying
            // the changes written since their last snapshot).
            if let tauri::RunEvent::Exit = event {
                // Leave the network first, so members' nodes see this one go at once.
                if let Some(p) = on_exit.presence() {
                    tauri::async_runtime::block_on(async {
                        let _ = tokio::time::timeout(Duration::from_secs(3), p.shutdown()).await;
                    });
                }
                if let Ok(node) = on_exit.node()
                    && let Err(e) = node.compact()
                {
                    tracing::warn!(error = %e, "could not save fresh snapshots on exit");
                }
            }
        });
    Ok(())
}

/// Forwards the node's events to the UI and starts the network owner ([`Presence`]: online,
/// syncing every known member at once and then every 30 seconds), forwarding what it does.
pub(crate) fn start_node(app: AppHandle, state: Arc<AppState>, node: Node) {
    let mut events = node.subscribe();
    let events_app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(ev) => emit_node_event(&events_app, &ev),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    // Some events were dropped: have the UI refresh everything.
                    let _ = events_app.emit("node:resync", ());
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    let plan = state.plan();
    // The owner runs on the app's runtime; entering it lets it spawn there.
    let _guard = tauri::async_runtime::handle().inner().enter();
    let presence = Presence::start(node.clone(), plan);
    let mut net = presence.subscribe();
    // `commonplace` commands on this profile run here meanwhile, through the control socket;
    // it closes when the network owner stops (the app's exit).
    let mut control = commonplace_cli::ControlServer::start(node, presence.clone())
        .inspect_err(|e| tracing::warn!("no control socket for the command line: {e}"))
        .ok();
    if let Ok(mut slot) = state.presence.write() {
        *slot = Some(presence);
    }
    tauri::async_runtime::spawn(async move {
        loop {
            match net.recv().await {
                Ok(PresenceEvent::Round(round)) => {
                    if let Ok(results) = &round.results {
                        for (peer, _, r) in results {
                            if let Err(e) = r {
                                info!(peer = %peer.short(), "not reachable: {e}");
                            }
                        }
                    }
                }
                Ok(PresenceEvent::Stopped)
                | Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    if let Some(c) = control.take() {
                        c.shutdown().await;
                    }
                    let _ = app.emit("sync:changed", ());
                    break;
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            }
            let _ = app.emit("sync:changed", ());
        }
    });
}

fn emit_node_event(app: &AppHandle, ev: &NodeEvent) {
    let name = match ev {
        // Only the status changes: who is connected.
        NodeEvent::PeersChanged => {
            let _ = app.emit("sync:changed", ());
            return;
        }
        NodeEvent::CommunityChanged { .. } => "node:community-changed",
        NodeEvent::ThreadChanged { .. } => "node:thread-changed",
        NodeEvent::EntryChanged { .. } => "node:entry-changed",
        NodeEvent::EventChanged { .. } => "node:event-changed",
        _ => "node:changed",
    };
    let _ = app.emit(name, ev);
    let _ = app.emit("sync:changed", ());
}
