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
use commonplace_node::{Node, NodeError, NodeEvent, Online, Profile, RelayMode};
use tauri::{AppHandle, Emitter};
use tracing::{info, warn};

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
    pub(crate) online: tokio::sync::RwLock<Option<Online>>,
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

    /// The running network, waiting up to ten seconds for it when it is still starting (just
    /// after the first run or a restore).
    pub(crate) async fn online_soon(&self) -> Result<Online, commands::AppError> {
        for _ in 0..50 {
            if let Some(o) = self.online.read().await.clone() {
                return Ok(o);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.online().await
    }

    pub(crate) async fn online(&self) -> Result<Online, commands::AppError> {
        self.online
            .read()
            .await
            .clone()
            .ok_or_else(|| commands::AppError {
                code: commonplace_node::ErrorCode::Network,
                message: "not connected to the network: see Sync for why".into(),
            })
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
        online: tokio::sync::RwLock::new(None),
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
            if let tauri::RunEvent::Exit = event
                && let Ok(node) = on_exit.node()
                && let Err(e) = node.compact()
            {
                tracing::warn!(error = %e, "could not save fresh snapshots on exit");
            }
        });
    Ok(())
}

/// Forwards the node's events to the UI and takes the node online, syncing known peers now
/// and then every 30 seconds.
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
    tauri::async_runtime::spawn(async move {
        if let Err(e) = go_online(&app, &state, &node).await {
            warn!("could not go online: {e}");
            let _ = app.emit("sync:changed", ());
            return;
        }
        // Every 30 s, and at once after a sleep or a network change. A settings change
        // replaces the online node: the loop then follows the new one.
        loop {
            let Some(online) = state.online.read().await.clone() else {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            };
            let replaced = async {
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let now = state.online.read().await.clone();
                    if !now.is_some_and(|n| n.same_as(&online)) {
                        return;
                    }
                }
            };
            let rounds = online.keep_in_touch(Duration::from_secs(30), |round| {
                match &round.results {
                    Ok(results) => {
                        for (peer, _, r) in results {
                            if let Err(e) = r {
                                info!(peer = %peer.short(), "not reachable: {e}");
                            }
                        }
                    }
                    Err(e) => warn!("sync round failed: {e}"),
                }
                let _ = app.emit("sync:changed", ());
            });
            tokio::select! {
                () = rounds => {}
                () = replaced => {}
            }
        }
    });
}

/// Starts (or restarts, after a settings change) the network.
pub(crate) async fn go_online(
    app: &AppHandle,
    state: &AppState,
    node: &Node,
) -> Result<(), NodeError> {
    let mut slot = state.online.write().await;
    if let Some(old) = slot.take() {
        old.shutdown().await;
    }
    let o = state.options.lock().map(|o| o.clone()).unwrap_or_default();
    let cfg = node.net_config(o.bind, o.relay.clone(), !o.no_mdns)?;
    let online = Online::start(node.clone(), cfg).await?;
    if let Some(sock) = online.network().bound_sockets().first() {
        node.set_net_setting("bind", &sock.to_string())?;
    }
    *slot = Some(online);
    drop(slot);
    let _ = app.emit("sync:changed", ());
    Ok(())
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
