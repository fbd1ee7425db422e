//! The one owner of the node's life on the network.
//!
//! [`Presence`] is an actor: it takes the node online ([`Online::start`]: the endpoint, live
//! updates, local-network discovery), keeps in touch with every known member (a round at
//! once, then every `interval`, and at once after a sleep or a change of network), restarts
//! the network when it is reconfigured (another relay, another bind address), retries with a
//! growing pause when going online fails (an address in use, no network yet), and shuts it all
//! down when asked. Front ends (the desktop app, `commonplace serve`) only start it, read its
//! state and forward its events; none of them drives the network itself.
//!
//! Its state ([`Connectivity`]) is always readable without waiting, and what happens is
//! published as [`PresenceEvent`]s.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use commonplace_net::PeerTicket;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tracing::{info, warn};

use crate::{Node, NodeError, Online, RelayMode, Round};

/// How the node is to be on the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetPlan {
    /// The address to bind; `None`: the one used last time (kept in the profile), else any.
    pub bind: Option<SocketAddr>,
    /// The relays; `None`: the profile's setting.
    pub relay: Option<RelayMode>,
    /// Look for members on the local network (multicast DNS).
    pub mdns: bool,
    /// How often every known member is synced with.
    pub interval: Duration,
}

impl Default for NetPlan {
    fn default() -> Self {
        NetPlan {
            bind: None,
            relay: None,
            mdns: true,
            interval: Duration::from_secs(30),
        }
    }
}

/// Where the node stands with the network.
#[derive(Debug, Clone)]
pub enum Connectivity {
    /// Going online (at start, or after a reconfiguration).
    Starting,
    /// Online.
    Online(Box<Online>),
    /// Going online failed; it is tried again after `retry_in`.
    Offline {
        /// Why.
        error: Arc<NodeError>,
        /// When it is tried again.
        retry_in: Duration,
    },
    /// Shut down.
    Stopped,
}

impl Connectivity {
    /// The running network, if online.
    pub fn online(&self) -> Option<&Online> {
        match self {
            Connectivity::Online(o) => Some(o),
            _ => None,
        }
    }
}

/// What the network owner did.
#[derive(Debug, Clone)]
pub enum PresenceEvent {
    /// The node is online (again), at this address.
    Online {
        /// Its address for others to dial.
        address: PeerTicket,
    },
    /// Going online failed; it is tried again after `retry_in`.
    Offline {
        /// Why, in words.
        reason: String,
        /// When it is tried again.
        retry_in: Duration,
    },
    /// A round of syncs with every known member ended.
    Round(Arc<Round>),
    /// The network was shut down.
    Stopped,
}

enum Command {
    Reconfigure(NetPlan, oneshot::Sender<Result<(), Arc<NodeError>>>),
    Shutdown(oneshot::Sender<()>),
}

/// Handle on the network owner. Cheap to clone; every clone talks to the same actor.
#[derive(Debug, Clone)]
pub struct Presence {
    commands: mpsc::Sender<Command>,
    state: watch::Receiver<Connectivity>,
    events: broadcast::Sender<PresenceEvent>,
    plan: Arc<Mutex<NetPlan>>,
    task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Reconfigure(..) => "Reconfigure",
            Command::Shutdown(_) => "Shutdown",
        })
    }
}

/// The first pause after going online failed; it doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(2);
/// The longest pause between attempts to go online.
const MAX_RETRY: Duration = Duration::from_secs(60);

fn retry_after(failures: u32) -> Duration {
    FIRST_RETRY
        .saturating_mul(1u32 << failures.saturating_sub(1).min(6))
        .min(MAX_RETRY)
}

impl Presence {
    /// Starts the network owner on the current Tokio runtime; it goes online at once. Read
    /// [`Presence::state`] or wait with [`Presence::settled`].
    pub fn start(node: Node, plan: NetPlan) -> Presence {
        let (commands, inbox) = mpsc::channel(8);
        let (state_tx, state) = watch::channel(Connectivity::Starting);
        let (events, _) = broadcast::channel(256);
        let task = tokio::spawn(run(node, plan.clone(), inbox, state_tx, events.clone()));
        Presence {
            commands,
            state,
            events,
            plan: Arc::new(Mutex::new(plan)),
            task: Arc::new(Mutex::new(Some(task))),
        }
    }

    /// Where it stands now.
    pub fn state(&self) -> Connectivity {
        self.state.borrow().clone()
    }

    /// The running network, if online now.
    pub fn online(&self) -> Option<Online> {
        self.state.borrow().online().cloned()
    }

    /// The plan it runs with.
    pub fn plan(&self) -> NetPlan {
        self.plan.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PresenceEvent> {
        self.events.subscribe()
    }

    /// Waits until the current attempt to go online ended: the running network, or why it
    /// is offline.
    pub async fn settled(&self) -> Result<Online, Arc<NodeError>> {
        let mut state = self.state.clone();
        let settled = state
            .wait_for(|s| !matches!(s, Connectivity::Starting))
            .await
            .map(|s| s.clone());
        match settled {
            Ok(Connectivity::Online(o)) => Ok(*o),
            Ok(Connectivity::Offline { error, .. }) => Err(error),
            Ok(Connectivity::Starting | Connectivity::Stopped) | Err(_) => Err(Arc::new(stopped())),
        }
    }

    /// The running network, waiting up to `wait` for it while it is still starting or
    /// retrying (just after the first run, a restore or a reconfiguration).
    pub async fn online_within(&self, wait: Duration) -> Result<Online, Arc<NodeError>> {
        let mut state = self.state.clone();
        // Whatever the wait ends with, the state after it says.
        let _ = tokio::time::timeout(
            wait,
            state.wait_for(|s| matches!(s, Connectivity::Online(_) | Connectivity::Stopped)),
        )
        .await;
        match self.state() {
            Connectivity::Online(o) => Ok(*o),
            Connectivity::Offline { error, .. } => Err(error),
            Connectivity::Starting | Connectivity::Stopped => Err(Arc::new(stopped())),
        }
    }

    /// Restarts the network with `plan` (another relay, another address); returns once the
    /// new network is online, or with why it is not (it keeps retrying).
    pub async fn reconfigure(&self, plan: NetPlan) -> Result<(), Arc<NodeError>> {
        if let Ok(mut p) = self.plan.lock() {
            *p = plan.clone();
        }
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Reconfigure(plan, reply))
            .await
            .map_err(|_| Arc::new(stopped()))?;
        answer.await.map_err(|_| Arc::new(stopped()))?
    }

    /// Takes the node off the network: live updates stop, open connections close (peers see
    /// it leave at once), the endpoint shuts down. Returns when it is done; calling it again
    /// does nothing.
    pub async fn shutdown(&self) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Shutdown(reply)).await.is_ok() {
            let _ = done.await;
        }
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

fn stopped() -> NodeError {
    NodeError::Net(commonplace_net::NetError::ShutDown)
}

/// Goes online with `plan`, and remembers the bound address so members find this node again
/// where they last saw it.
async fn go_online(node: &Node, plan: &NetPlan) -> Result<Online, NodeError> {
    let config = node.net_config(plan.bind, plan.relay.clone(), plan.mdns)?;
    let online = Online::start(node.clone(), config).await?;
    if let Some(sock) = online.network().bound_sockets().first() {
        node.set_net_setting("bind", &sock.to_string())?;
    }
    Ok(online)
}

/// The actor.
async fn run(
    node: Node,
    mut plan: NetPlan,
    mut inbox: mpsc::Receiver<Command>,
    state: watch::Sender<Connectivity>,
    events: broadcast::Sender<PresenceEvent>,
) {
    let mut failures = 0u32;
    // A reconfiguration waiting to hear whether the new network came up.
    let mut waiting: Option<oneshot::Sender<Result<(), Arc<NodeError>>>> = None;
    let mut finished: Option<oneshot::Sender<()>> = None;
    'life: loop {
        state.send_replace(Connectivity::Starting);
        let online = match go_online(&node, &plan).await {
            Ok(o) => o,
            Err(e) => {
                failures += 1;
                let retry_in = retry_after(failures);
                warn!("could not go online (trying again in {retry_in:?}): {e}");
                let error = Arc::new(e);
                let _ = events.send(PresenceEvent::Offline {
                    reason: error.to_string(),
                    retry_in,
                });
                state.send_replace(Connectivity::Offline {
                    error: error.clone(),
                    retry_in,
                });
                if let Some(w) = waiting.take() {
                    let _ = w.send(Err(error));
                }
                tokio::select! {
                    () = tokio::time::sleep(retry_in) => continue 'life,
                    cmd = inbox.recv() => match cmd {
                        Some(Command::Reconfigure(p, reply)) => {
                            plan = p;
                            failures = 0;
                            waiting = Some(reply);
                            continue 'life;
                        }
                        Some(Command::Shutdown(reply)) => {
                            finished = Some(reply);
                            break 'life;
                        }
                        None => break 'life,
                    },
                }
            }
        };
        failures = 0;
        info!(address = %online.ticket(), "online");
        state.send_replace(Connectivity::Online(Box::new(online.clone())));
        let _ = events.send(PresenceEvent::Online {
            address: online.ticket(),
        });
        if let Some(w) = waiting.take() {
            let _ = w.send(Ok(()));
        }
        let rounds_events = events.clone();
        let mut rounds = Box::pin(online.keep_in_touch(plan.interval, move |round| {
            let _ = rounds_events.send(PresenceEvent::Round(Arc::new(round)));
        }));
        let cmd = tokio::select! {
            () = &mut rounds => None,
            cmd = inbox.recv() => cmd,
        };
        // The rounds end with the network they run on.
        drop(rounds);
        state.send_replace(Connectivity::Starting);
        online.shutdown().await;
        match cmd {
            Some(Command::Reconfigure(p, reply)) => {
                info!("restarting the network with new settings");
                plan = p;
                waiting = Some(reply);
            }
            Some(Command::Shutdown(reply)) => {
                finished = Some(reply);
                break 'life;
            }
            None => break 'life,
        }
    }
    state.send_replace(Connectivity::Stopped);
    let _ = events.send(PresenceEvent::Stopped);
    if let Some(w) = waiting.take() {
        let _ = w.send(Err(Arc::new(stopped())));
    }
    if let Some(f) = finished {
        let _ = f.send(());
    }
}

#[cfg(test)]
mod tests {
    use super::retry_after;
    use std::time::Duration;

    #[test]
    fn retries_double_and_are_capped() {
        assert_eq!(retry_after(1), Duration::from_secs(2));
        assert_eq!(retry_after(2), Duration::from_secs(4));
        assert_eq!(retry_after(5), Duration::from_secs(32));
        assert_eq!(retry_after(40), Duration::from_secs(60));
    }
}
