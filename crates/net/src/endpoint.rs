//! The iroh endpoint, the accept side of the sync protocol, and outgoing sync sessions.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use commonplace_base::{CommunityId, DocId, MemberId};
use commonplace_sync::{Frame, Session, SessionError, SessionStats};
use iroh::endpoint::{
    Connection, IdleTimeout, QuicTransportConfig, RecvStream, SendStream, presets,
};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use iroh::{Endpoint, EndpointAddr, RelayMode, RelayUrl, SecretKey};
use tracing::{debug, info, warn};

use crate::stream::{
    FrameStream, IDLE_TIMEOUT, ReadFailure, read_frame, write_frame, write_frame_sized,
};
use commonplace_model::invite::InviteError;

use crate::{
    BindError, ConfigError, JOIN_ALPN, MAX_JOIN_BYTES, NetError, RECOVER_ALPN, RESOLVE_ALPN,
    Refusal, SYNC_ALPN, StreamError, SyncService,
};

/// How often an idle connection is pinged, so both ends notice at once when it stops.
pub(crate) const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(2);
/// A connection that hears nothing (not even a keep-alive) for this long is closed: a peer
/// that crashed or lost its network stops counting as connected within these seconds.
pub(crate) const CONNECTION_IDLE: std::time::Duration = std::time::Duration::from_secs(8);
/// How long dialling a peer may take before it counts as unreachable.
pub(crate) const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Which relays to use for NAT traversal.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RelayConfig {
    /// iroh's public relays.
    #[default]
    Default,
    /// No relays: direct connections only (local networks, tests).
    Disabled,
    /// A community's own `iroh-relay`.
    Custom(String),
}

/// How to run the network.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Where to bind (default: any address, a random port).
    pub bind: Option<SocketAddr>,
    /// Relays.
    pub relay: RelayConfig,
    /// A session with no frame from the peer for this long ends (default [`IDLE_TIMEOUT`]).
    pub idle_timeout: std::time::Duration,
    /// Find and be found by members on the local network (multicast DNS). Off by default:
    /// the CLI and the app turn it on; tests never send multicast.
    pub mdns: bool,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            bind: None,
            relay: RelayConfig::Default,
            idle_timeout: IDLE_TIMEOUT,
            mdns: false,
        }
    }
}

/// A node found on the local network.
#[derive(Debug, Clone)]
pub struct LocalPeer {
    /// Its member id.
    pub member: MemberId,
    /// Its addresses.
    pub addr: EndpointAddr,
}

/// What one sync session achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// The peer.
    pub peer: MemberId,
    /// The community.
    pub community: CommunityId,
    /// Counters.
    pub stats: SessionStats,
    /// Documents that changed here.
    pub changed: Vec<DocId>,
    /// Documents whose changes from the peer were refused, and why; the session went on
    /// with the others (see `commonplace_sync::Session::refused_docs`).
    pub refused: Vec<(DocId, String)>,
    /// Frame bytes this side sent (after its hello).
    pub bytes_sent: u64,
    /// Frame bytes this side received (after the peer's hello).
    pub bytes_received: u64,
}

/// A running endpoint that accepts sync sessions and starts them.
#[derive(Debug, Clone)]
pub struct Network {
    mdns: Option<iroh_mdns_address_lookup::MdnsAddressLookup>,
    endpoint: Endpoint,
    router: Router,
    gossip: iroh_gossip::Gossip,
    lookup: iroh::address_lookup::MemoryLookup,
    service: Arc<dyn SyncServiceDebug>,
    /// Admits members only as gossip neighbours, and drops those who stop being members.
    gate: crate::gate::GossipGate,
    idle: std::time::Duration,
    /// Connections we dialled, kept open for the next session with the same peer: a live
    /// pull then costs one new stream instead of a QUIC handshake.
    conns: Arc<std::sync::Mutex<HashMap<iroh::EndpointId, Connection>>>,
    /// The short codes' resolver endpoints.
    resolvers: crate::resolver::Resolvers,
}

/// Most dialled connections kept open at once.
const MAX_CACHED_CONNECTIONS: usize = 256;

/// `SyncService` with `Debug`, for the router's handler.
pub(crate) trait SyncServiceDebug: SyncService + std::fmt::Debug {}
impl<T: SyncService + std::fmt::Debug> SyncServiceDebug for T {}

pub(crate) fn relay_mode_of(config: &NetConfig) -> Result<RelayMode, NetError> {
    Ok(match &config.relay {
        RelayConfig::Default => RelayMode::Default,
        RelayConfig::Disabled => RelayMode::Disabled,
        RelayConfig::Custom(url) => {
            let url: RelayUrl = url.parse().map_err(|source| ConfigError::RelayUrl {
                url: url.clone(),
                source,
            })?;
            RelayMode::custom([url])
        }
    })
}

fn member_of(id: iroh::EndpointId) -> Result<MemberId, NetError> {
    MemberId::from_bytes(*id.as_bytes()).map_err(|e| NetError::Stream {
        peer: id.fmt_short().to_string(),
        source: e.into(),
    })
}

impl Network {
    /// Binds the endpoint with the member's key and starts accepting sessions.
    pub async fn start<S: SyncService + std::fmt::Debug>(
        secret: [u8; 32],
        config: NetConfig,
        service: Arc<S>,
    ) -> Result<Network, NetError> {
        let relay_mode = relay_mode_of(&config)?;
        let service: Arc<dyn SyncServiceDebug> = service;
        let gate = crate::gate::GossipGate::new(service.clone());
        // No address lookup services: peers are found through invite tickets, known addresses
        // and the local network, never through a third party's DNS.
        let transport = QuicTransportConfig::builder()
            .keep_alive_interval(KEEP_ALIVE)
            .default_path_keep_alive_interval(KEEP_ALIVE)
            .max_idle_timeout(Some(
                IdleTimeout::try_from(CONNECTION_IDLE).map_err(ConfigError::IdleTimeout)?,
            ))
            .build();
        let mut builder = Endpoint::builder(presets::Minimal)
            .secret_key(SecretKey::from_bytes(&secret))
            .alpns(vec![
                SYNC_ALPN.to_vec(),
                JOIN_ALPN.to_vec(),
                RECOVER_ALPN.to_vec(),
                RESOLVE_ALPN.to_vec(),
            ])
            .transport_config(transport)
            .relay_mode(relay_mode)
            .hooks(gate.clone());
        if let Some(addr) = config.bind {
            builder = builder
                .clear_ip_transports()
                .bind_addr(addr)
                .map_err(BindError::Address)?;
        }
        let lookup = iroh::address_lookup::MemoryLookup::new();
        let endpoint = builder
            .address_lookup(lookup.clone())
            .bind()
            .await
            .map_err(BindError::Endpoint)?;
        let mdns = if config.mdns {
            Some(local_discovery(&endpoint)?)
        } else {
            None
        };
        let gossip = iroh_gossip::Gossip::builder()
            .max_message_size(crate::live::GOSSIP_MAX_MESSAGE)
            .spawn(endpoint.clone());
        let router = Router::builder(endpoint.clone())
            .accept(
                SYNC_ALPN,
                SyncProtocol {
                    service: service.clone(),
                    idle: config.idle_timeout,
                },
            )
            // Gossip links pass the gate (an endpoint hook) before gossip sees them.
            .accept(iroh_gossip::ALPN, gossip.clone())
            .accept(
                JOIN_ALPN,
                JoinProtocol {
                    service: service.clone(),
                    idle: config.idle_timeout,
                    ask: Ask::Join,
                },
            )
            .accept(
                RESOLVE_ALPN,
                JoinProtocol {
                    service: service.clone(),
                    idle: config.idle_timeout,
                    ask: Ask::Resolve,
                },
            )
            .accept(
                RECOVER_ALPN,
                RecoverProtocol {
                    service: service.clone(),
                },
            )
            .spawn();
        let resolvers = crate::resolver::Resolvers::new(&config, relay_mode_of(&config)?);
        info!(id = %endpoint.id().fmt_short(), "network started");
        Ok(Network {
            mdns,
            endpoint,
            router,
            gossip,
            lookup,
            service,
            gate,
            idle: config.idle_timeout,
            conns: Arc::default(),
            resolvers,
        })
    }

    /// Our member id (the endpoint id).
    pub fn id(&self) -> MemberId {
        member_of(self.endpoint.id()).unwrap_or_else(|_| unreachable_member())
    }

    pub(crate) fn gossip(&self) -> &iroh_gossip::Gossip {
        &self.gossip
    }

    /// Closes the gossip links of peers who are no longer active members of any community this
    /// node holds (ask after a roster changed); returns them. Gossip drops them as neighbours,
    /// and they cannot link again: every gossip connection, in or out, asks
    /// [`SyncService::may_gossip`] first.
    pub async fn recheck_gossip_links(&self) -> Vec<MemberId> {
        self.gate.recheck().await
    }

    /// Members with an open connection to this node now (a sync session, or the gossip link
    /// that carries live updates), in either direction. This is what "connected" means: not
    /// a recent sync, a connection that is there.
    pub fn connected_peers(&self) -> Vec<MemberId> {
        self.gate.connected()
    }

    /// A number that changes whenever a sync or gossip connection opens or closes: poll it to
    /// learn that [`Network::connected_peers`] may have changed, without missing a connection
    /// that came and went between two looks.
    pub fn connections_generation(&self) -> u64 {
        self.gate.generation()
    }

    /// Asks the node at `addr` which of the communities it holds we are an active member of
    /// (see [`RECOVER_ALPN`]).
    pub async fn communities_for_me(
        &self,
        addr: EndpointAddr,
    ) -> Result<Vec<CommunityId>, NetError> {
        let peer = addr.id.fmt_short().to_string();
        let answer = exchange(&self.endpoint, addr, RECOVER_ALPN, &[], self.idle).await?;
        let ids: Vec<[u8; 16]> = postcard::from_bytes(&answer).map_err(|e| NetError::Stream {
            peer,
            source: StreamError::Answer(e),
        })?;
        Ok(ids.into_iter().map(CommunityId::from_bytes).collect())
    }

    /// Peers with an open gossip link to this node (on any topic).
    pub fn gossip_links(&self) -> Vec<MemberId> {
        self.gate.neighbours()
    }

    /// Members' nodes found on the local network, as they appear. `None` when local discovery
    /// is off.
    pub async fn local_peers(
        &self,
    ) -> Option<impl n0_future::Stream<Item = LocalPeer> + Unpin + use<>> {
        use n0_future::StreamExt;
        let m = self.mdns.as_ref()?;
        Some(m.subscribe().await.filter_map(|ev| match ev {
            iroh_mdns_address_lookup::DiscoveryEvent::Discovered { endpoint_info, .. } => {
                let addr = endpoint_info.into_endpoint_addr();
                let member = MemberId::from_bytes(*addr.id.as_bytes()).ok()?;
                Some(LocalPeer { member, addr })
            }
            _ => None,
        }))
    }

    /// Remembers a peer's address, so it can be dialled (and bootstrap gossip) by id alone.
    pub fn remember(&self, addr: EndpointAddr) {
        self.lookup.add_endpoint_info(addr);
    }

    /// Our current address: id, direct addresses and home relay.
    pub fn addr(&self) -> EndpointAddr {
        self.endpoint.addr()
    }

    /// The sockets the endpoint is bound to.
    pub fn bound_sockets(&self) -> Vec<SocketAddr> {
        self.endpoint.bound_sockets()
    }

    /// The endpoint, for protocols layered beside sync (gossip).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Syncs `community` with the peer at `addr`, to the end.
    pub async fn sync(
        &self,
        addr: EndpointAddr,
        community: CommunityId,
    ) -> Result<SyncReport, NetError> {
        self.sync_scoped(addr, community, None).await
    }

    /// Like [`Network::sync`]; with `scope`, only that document (and the community document)
    /// is synced: what a live pull needs.
    pub async fn sync_scoped(
        &self,
        addr: EndpointAddr,
        community: CommunityId,
        scope: Option<DocId>,
    ) -> Result<SyncReport, NetError> {
        let (conn, mut send, recv) = self.open_stream(addr).await?;
        let peer = member_of(conn.remote_id())?;
        let result = async {
            let service = self.service.clone();
            let (session, hello) = blocking(move || service.start(&community, &peer, scope))
                .await?
                .map_err(|source| NetError::Session {
                    peer: peer.short(),
                    source,
                })?;
            send_frames(&mut send, &peer, &[hello]).await?;
            drive(
                self.service.clone(),
                session,
                send,
                recv,
                Vec::new(),
                self.idle,
            )
            .await
        }
        .await;
        if result.is_err() {
            // A failed session may leave the connection in any state: the next session opens
            // a new one. It is not closed here: other sessions (a live pull, a catch-up with a
            // new gossip neighbour) may be running on it, and a failure of this one is no
            // reason to cut theirs; it closes when the last of them lets go of it.
            self.forget_connection(&conn);
        }
        self.service.finished(&peer, &community, &result);
        result
    }

    /// A new stream to the peer at `addr`: on the connection already open to it if there is
    /// a live one, else on a new connection (kept for next time).
    async fn open_stream(
        &self,
        addr: EndpointAddr,
    ) -> Result<(Connection, SendStream, RecvStream), NetError> {
        let id = addr.id;
        let peer_label = id.fmt_short().to_string();
        let cached = self
            .conns
            .lock()
            .ok()
            .and_then(|c| c.get(&id).cloned())
            .filter(|c| c.close_reason().is_none());
        if let Some(conn) = cached {
            match conn.open_bi().await {
                Ok((send, recv)) => return Ok((conn, send, recv)),
                Err(e) => {
                    debug!(peer = %peer_label, "cached connection unusable: {e}");
                    self.forget_connection(&conn);
                }
            }
        }
        let conn = dial(&self.endpoint, addr, SYNC_ALPN, self.idle).await?;
        let (send, recv) = conn.open_bi().await.map_err(|e| NetError::Stream {
            peer: peer_label.clone(),
            source: e.into(),
        })?;
        // Connections are never closed from here: sessions may be running on any of them (two
        // sessions that dialled at once each made one). One dropped from the cache closes when
        // its last session lets go of it.
        if let Ok(mut c) = self.conns.lock() {
            c.retain(|_, c| c.close_reason().is_none());
            if !c.contains_key(&id) {
                if c.len() >= MAX_CACHED_CONNECTIONS
                    && let Some(k) = c.keys().next().copied()
                {
                    c.remove(&k);
                }
                c.insert(id, conn.clone());
            }
        }
        Ok((conn, send, recv))
    }

    fn forget_connection(&self, conn: &Connection) {
        if let Ok(mut c) = self.conns.lock()
            && c.get(&conn.remote_id())
                .is_some_and(|k| k.stable_id() == conn.stable_id())
        {
            c.remove(&conn.remote_id());
        }
    }

    /// Sends a join request to the node at `addr` and returns its answer.
    pub async fn join(&self, addr: EndpointAddr, request: &[u8]) -> Result<Vec<u8>, NetError> {
        ask(&self.endpoint, addr, JOIN_ALPN, request, self.idle).await
    }

    /// Asks the node at `addr` (any member's node, or a short code's resolver endpoint,
    /// dialled by id alone) for the invitation a short code names; `proof` shows we know the
    /// code. Returns the answer (the long code), or the node's refusal.
    pub async fn resolve_invite(
        &self,
        addr: EndpointAddr,
        proof: &[u8],
    ) -> Result<Vec<u8>, NetError> {
        ask(&self.endpoint, addr, RESOLVE_ALPN, proof, self.idle).await
    }

    /// Runs one resolver endpoint per seed (a short code's [`resolver_seed`]) and closes
    /// those whose seed is no longer given; at most [`MAX_RESOLVERS`] (the first ones).
    ///
    /// [`resolver_seed`]: https://docs.rs/commonplace-model
    pub async fn serve_short_codes(&self, seeds: &[[u8; 32]]) -> Result<(), NetError> {
        self.resolvers.serve(seeds, self.service.clone()).await
    }

    /// The addresses of the resolver endpoints now running.
    pub async fn resolver_addrs(&self) -> Vec<EndpointAddr> {
        self.resolvers.addrs().await
    }

    /// Stops accepting, closes connections and the endpoint.
    pub async fn shutdown(&self) {
        let conns: Vec<Connection> = self
            .conns
            .lock()
            .map(|mut c| c.drain().map(|(_, c)| c).collect())
            .unwrap_or_default();
        for c in conns {
            c.close(0u32.into(), b"shutdown");
        }
        self.resolvers.shutdown().await;
        if let Err(e) = self.router.shutdown().await {
            warn!("network shutdown: {e}");
        }
    }
}

/// Dials `addr` on `alpn`, giving up after [`CONNECT_TIMEOUT`] (or `idle`, if shorter).
pub(crate) async fn dial(
    endpoint: &Endpoint,
    addr: EndpointAddr,
    alpn: &[u8],
    idle: std::time::Duration,
) -> Result<Connection, NetError> {
    let peer = addr.id.fmt_short().to_string();
    let wait = CONNECT_TIMEOUT.min(idle);
    tokio::time::timeout(wait, endpoint.connect(addr, alpn))
        .await
        .map_err(|_| NetError::Unreachable {
            peer: peer.clone(),
            secs: wait.as_secs(),
        })?
        .map_err(|source| NetError::Connect { peer, source })
}

/// One request, one answer (at most [`MAX_JOIN_BYTES`]), on a new connection.
async fn exchange(
    endpoint: &Endpoint,
    addr: EndpointAddr,
    alpn: &[u8],
    request: &[u8],
    idle: std::time::Duration,
) -> Result<Vec<u8>, NetError> {
    let peer_label = addr.id.fmt_short().to_string();
    let stream_err = |source: StreamError| NetError::Stream {
        peer: peer_label.clone(),
        source,
    };
    let conn = dial(endpoint, addr, alpn, idle).await?;
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| stream_err(e.into()))?;
    send.write_all(request)
        .await
        .map_err(|e| stream_err(e.into()))?;
    send.finish().map_err(|e| stream_err(e.into()))?;
    let answer = tokio::time::timeout(idle, recv.read_to_end(MAX_JOIN_BYTES))
        .await
        .map_err(|_| NetError::Timeout {
            peer: peer_label.clone(),
            secs: idle.as_secs(),
        })?
        .map_err(|e| stream_err(e.into()))?;
    conn.close(0u32.into(), b"done");
    Ok(answer)
}

/// One request, one answer (a status byte, then the body), on a new connection.
pub(crate) async fn ask(
    endpoint: &Endpoint,
    addr: EndpointAddr,
    alpn: &[u8],
    request: &[u8],
    idle: std::time::Duration,
) -> Result<Vec<u8>, NetError> {
    let peer = addr.id.fmt_short().to_string();
    let answer = exchange(endpoint, addr, alpn, request, idle).await?;
    match answer.split_first() {
        Some((0, rest)) => Ok(rest.to_vec()),
        Some((&NOT_HELD, reason)) => Err(NetError::CommunityNotHeld(
            String::from_utf8_lossy(reason).into_owned(),
        )),
        Some((&kind, reason)) => Err(match invite_refusal(kind) {
            Some(e) => NetError::InviteRefused(e),
            None => NetError::Refused(String::from_utf8_lossy(reason).into_owned()),
        }),
        None => Err(NetError::Stream {
            peer,
            source: StreamError::NoAnswer,
        }),
    }
}

/// Local-network discovery (mDNS) for `endpoint`, added to its address lookup.
pub(crate) fn local_discovery(
    endpoint: &Endpoint,
) -> Result<iroh_mdns_address_lookup::MdnsAddressLookup, NetError> {
    let m = iroh_mdns_address_lookup::MdnsAddressLookup::builder()
        .service_name("commonplace")
        .build(endpoint.id())
        .map_err(BindError::LocalDiscovery)?;
    endpoint
        .address_lookup()
        .map_err(BindError::Closed)?
        .add(m.clone());
    Ok(m)
}

/// The first byte of a refused answer to a join or resolve request: refused for the reason
/// that follows, or (join only) because this node does not hold the community, or because of
/// the invitation (the kinds of [`invite_kind`]). The sentence follows every kind, so a node
/// that does not know a kind still shows why.
const REFUSED: u8 = 1;
const NOT_HELD: u8 = 2;

/// The answer's first byte for a refused invitation; `None` for the kinds that travel as a
/// sentence only.
fn invite_kind(e: &InviteError) -> Option<u8> {
    Some(match e {
        InviteError::Expired => 3,
        InviteError::Used => 4,
        InviteError::Revoked => 5,
        InviteError::NotACoordinator => 6,
        InviteError::Forged => 7,
        InviteError::Malformed => 8,
        _ => return None,
    })
}

/// The invitation refusal an answer's first byte stands for.
fn invite_refusal(kind: u8) -> Option<InviteError> {
    Some(match kind {
        3 => InviteError::Expired,
        4 => InviteError::Used,
        5 => InviteError::Revoked,
        6 => InviteError::NotACoordinator,
        7 => InviteError::Forged,
        8 => InviteError::Malformed,
        _ => return None,
    })
}

fn unreachable_member() -> MemberId {
    // An iroh endpoint id is always a valid ed25519 key; this is never reached.
    commonplace_base::SecretKey::from_seed([0; 32]).member_id()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, NetError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| NetError::Stream {
            peer: "local".into(),
            source: e.into(),
        })
}

/// After a failed write: the peer's refusal, if one is waiting in the stream.
async fn peer_reason(
    frames: &mut FrameStream,
    recv: &mut RecvStream,
    peer: &MemberId,
) -> Option<NetError> {
    let deadline = std::time::Duration::from_secs(2);
    for _ in 0..64 {
        match tokio::time::timeout(deadline, frames.next(recv)).await {
            Ok(Ok((Frame::Refuse { reason }, _))) => {
                return Some(NetError::Session {
                    peer: peer.short(),
                    source: SessionError::Refused(reason),
                });
            }
            Ok(Ok(_)) => continue,
            _ => return None,
        }
    }
    None
}

/// Tells the peer why we end the session and waits (briefly) until it has read it, so closing
/// the connection right after does not swallow the reason. Best effort: the peer may be gone.
async fn refuse(send: &mut SendStream, reason: impl Into<String>) {
    end_with(
        send,
        &Frame::Refuse {
            reason: reason.into(),
        },
    )
    .await;
}

async fn end_with(send: &mut SendStream, frame: &Frame) {
    let _ = write_frame(send, frame).await;
    let _ = send.finish();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), send.stopped()).await;
}

async fn send_frames(
    send: &mut SendStream,
    peer: &MemberId,
    frames: &[Frame],
) -> Result<u64, NetError> {
    let mut total = 0u64;
    for f in frames {
        total += write_frame_sized(send, f)
            .await
            .map_err(|source| NetError::Stream {
                peer: peer.short(),
                source,
            })? as u64;
    }
    Ok(total)
}

/// Runs a session to its end: reads the peer's frames (each within [`IDLE_TIMEOUT`]), lets the
/// service handle them off the async threads, writes the answers.
async fn drive(
    service: Arc<dyn SyncServiceDebug>,
    mut session: Session,
    send: SendStream,
    mut recv: RecvStream,
    first: Vec<Frame>,
    idle: std::time::Duration,
) -> Result<SyncReport, NetError> {
    let peer = session.peer();
    let community = session.community();
    // Writing runs beside reading: if both sides only wrote until the other read, two peers
    // with much to send would wait on each other's flow-control windows forever.
    let writer = Writer::spawn(send);
    let mut pending = first;
    let mut bytes_received = 0u64;
    let mut frames = FrameStream::default();
    let failure = loop {
        // The frames that arrived together go to the session together: it verifies them one
        // by one and stores what they carry with one durable write.
        if !pending.is_empty() {
            let batch = std::mem::take(&mut pending);
            let svc = service.clone();
            let (s, res) = blocking(move || {
                let r = svc.receive_batch(&mut session, batch);
                (session, r)
            })
            .await?;
            session = s;
            match res {
                Ok(out) => {
                    if !writer.send(out) {
                        break Some(None);
                    }
                }
                Err(source) => {
                    if !matches!(source, SessionError::Refused(_)) {
                        writer.send(vec![source.refusal()]);
                    }
                    break Some(Some(NetError::Session {
                        peer: peer.short(),
                        source,
                    }));
                }
            }
        }
        if session.is_done() {
            break None;
        }
        let (frame, first_len) = match tokio::time::timeout(idle, frames.next(&mut recv)).await {
            Err(_) => {
                writer.send(vec![Frame::Refuse {
                    reason: "no progress for too long".into(),
                }]);
                break Some(Some(NetError::Timeout {
                    peer: peer.short(),
                    secs: idle.as_secs(),
                }));
            }
            Ok(Ok((f, n))) => {
                bytes_received += n as u64;
                (f, n)
            }
            Ok(Err(ReadFailure::Frame(e))) => {
                let source = SessionError::Frame(e);
                writer.send(vec![source.refusal()]);
                break Some(Some(NetError::Session {
                    peer: peer.short(),
                    source,
                }));
            }
            Ok(Err(ReadFailure::Finished)) => {
                break Some(Some(NetError::Stream {
                    peer: peer.short(),
                    source: StreamError::EndedEarly,
                }));
            }
            Ok(Err(ReadFailure::Transport(source))) => {
                break Some(Some(NetError::Stream {
                    peer: peer.short(),
                    source,
                }));
            }
        };
        let more = frames.ready(&mut recv, &frame, first_len).await;
        pending.push(frame);
        for (f, n) in more {
            bytes_received += n as u64;
            pending.push(f);
        }
    };
    let (mut send, written) = writer.close().await;
    let _ = send.finish();
    match failure {
        Some(err) => {
            // Give our last frame (a refusal) a moment to reach the peer before the
            // connection closes.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), send.stopped()).await;
            let written_err = written.err().map(|source| NetError::Stream {
                peer: peer.short(),
                source,
            });
            let err = match err.or(written_err) {
                Some(e) => e,
                None => NetError::Stream {
                    peer: peer.short(),
                    source: StreamError::SessionEndedEarly,
                },
            };
            // A failed write usually means the peer ended the session and said why.
            if matches!(err, NetError::Stream { .. })
                && let Some(reason) = peer_reason(&mut frames, &mut recv, &peer).await
            {
                return Err(reason);
            }
            Err(err)
        }
        None => {
            let bytes_sent = match written {
                Ok(n) => n,
                Err(source) => {
                    return Err(peer_reason(&mut frames, &mut recv, &peer).await.unwrap_or(
                        NetError::Stream {
                            peer: peer.short(),
                            source,
                        },
                    ));
                }
            };
            // Wait (briefly) for the peer to finish too, so our last frames are not cut off
            // by the connection closing.
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                recv.read_to_end(64 * 1024),
            )
            .await;
            debug!(peer = %peer.short(), "sync session complete");
            let refused: Vec<(DocId, String)> = session
                .refused_docs()
                .map(|(d, why)| (*d, why.to_string()))
                .collect();
            for (doc, why) in &refused {
                tracing::warn!(peer = %peer.short(), %doc, "document left out of the sync: {why}");
            }
            Ok(SyncReport {
                refused,
                peer,
                community,
                stats: session.stats(),
                changed: session.changed_docs().copied().collect(),
                bytes_sent,
                bytes_received,
            })
        }
    }
}

/// Writes a session's frames in order, on its own task.
struct Writer {
    tx: tokio::sync::mpsc::UnboundedSender<Frame>,
    task: tokio::task::JoinHandle<(SendStream, Result<u64, StreamError>)>,
}

impl Writer {
    fn spawn(mut send: SendStream) -> Writer {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Frame>();
        let task = tokio::spawn(async move {
            let mut total = 0u64;
            while let Some(f) = rx.recv().await {
                match write_frame_sized(&mut send, &f).await {
                    Ok(n) => total += n as u64,
                    Err(e) => return (send, Err(e)),
                }
            }
            (send, Ok(total))
        });
        Writer { tx, task }
    }

    /// Queues frames; false if the writer has stopped (the peer is gone).
    fn send(&self, frames: Vec<Frame>) -> bool {
        frames.into_iter().all(|f| self.tx.send(f).is_ok())
    }

    /// Waits until everything queued is written; returns the stream and the bytes written.
    async fn close(self) -> (SendStream, Result<u64, StreamError>) {
        drop(self.tx);
        match self.task.await {
            Ok(r) => r,
            Err(e) => rethrow(e),
        }
    }
}

fn rethrow(e: tokio::task::JoinError) -> (SendStream, Result<u64, StreamError>) {
    // The writer task owns the stream; if it died we cannot get it back. This only happens
    // on a panic inside the QUIC stack, so treat it as fatal to the process's sanity.
    std::panic::resume_unwind(e.into_panic())
}

/// The accept side: one bidirectional stream per community to sync.
#[derive(Debug, Clone)]
struct SyncProtocol {
    service: Arc<dyn SyncServiceDebug>,
    idle: std::time::Duration,
}

impl ProtocolHandler for SyncProtocol {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = member_of(conn.remote_id()).map_err(AcceptError::from_err)?;
        // A dialler keeps its connection for later sessions, which may overlap (a live pull
        // while a full sync runs): serve each stream on its own task, owned by this one.
        let mut streams = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                next = conn.accept_bi() => {
                    let Ok((send, recv)) = next else { break };
                    let this = self.clone();
                    streams.spawn(async move {
                        if let Err(e) = this.serve_stream(peer, send, recv).await {
                            debug!(peer = %peer.short(), "incoming sync ended: {e}");
                        }
                    });
                }
                Some(_) = streams.join_next(), if !streams.is_empty() => {}
            }
        }
        while streams.join_next().await.is_some() {}
        Ok(())
    }
}

impl SyncProtocol {
    async fn serve_stream(
        &self,
        peer: MemberId,
        mut send: SendStream,
        mut recv: RecvStream,
    ) -> Result<(), NetError> {
        let first = match tokio::time::timeout(self.idle, read_frame(&mut recv)).await {
            Ok(Ok(f)) => f,
            Ok(Err(_)) | Err(_) => {
                return Err(NetError::Stream {
                    peer: peer.short(),
                    source: StreamError::NoHello,
                });
            }
        };
        let Frame::Hello {
            community, scope, ..
        } = &first
        else {
            refuse(&mut send, "expected a hello").await;
            return Err(NetError::Stream {
                peer: peer.short(),
                source: StreamError::NotHello,
            });
        };
        let community = *community;
        let scope = *scope;
        let svc = self.service.clone();
        let allowed = blocking(move || svc.may_sync(&community, &peer)).await?;
        if !allowed {
            refuse(&mut send, "you are not a member of this community here").await;
            let _ = send.finish();
            let result = Err(NetError::Session {
                peer: peer.short(),
                source: SessionError::Protocol("not a member".into()),
            });
            self.service.finished(&peer, &community, &result);
            return result.map(|_: SyncReport| ());
        }
        let svc = self.service.clone();
        let (session, hello) = blocking(move || svc.start(&community, &peer, scope))
            .await?
            .map_err(|source| NetError::Session {
                peer: peer.short(),
                source,
            })?;
        send_frames(&mut send, &peer, &[hello]).await?;
        let result = drive(
            self.service.clone(),
            session,
            send,
            recv,
            vec![first],
            self.idle,
        )
        .await;
        self.service.finished(&peer, &community, &result);
        result.map(|_| ())
    }
}

/// The accept side of recovery: the communities here that the (TLS-authenticated) caller is an
/// active member of. Anyone may ask; a non-member gets an empty list.
#[derive(Debug, Clone)]
struct RecoverProtocol {
    service: Arc<dyn SyncServiceDebug>,
}

/// Most communities one recovery answer lists (the answer stays under [`MAX_JOIN_BYTES`]).
const MAX_RECOVERED: usize = 1024;

impl ProtocolHandler for RecoverProtocol {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = member_of(conn.remote_id()).map_err(AcceptError::from_err)?;
        let (mut send, _recv) = conn.accept_bi().await?;
        let svc = self.service.clone();
        let mut ids: Vec<[u8; 16]> = blocking(move || svc.communities_of(&peer))
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|c| *c.as_bytes())
            .collect();
        ids.truncate(MAX_RECOVERED);
        let body = postcard::to_stdvec(&ids).map_err(AcceptError::from_err)?;
        info!(peer = %peer.short(), communities = ids.len(), "recovery asked");
        let _ = send.write_all(&body).await;
        let _ = send.finish();
        conn.closed().await;
        Ok(())
    }
}

/// Which one-shot request a [`JoinProtocol`] answers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ask {
    /// Admit the holder of an invitation ([`JOIN_ALPN`]).
    Join,
    /// Answer a short code's proof with its invitation ([`RESOLVE_ALPN`]).
    Resolve,
}

/// The accept side of joining and of resolving short codes: one request, one answer (a
/// status byte, then the body).
#[derive(Debug, Clone)]
pub(crate) struct JoinProtocol {
    pub(crate) service: Arc<dyn SyncServiceDebug>,
    pub(crate) idle: std::time::Duration,
    pub(crate) ask: Ask,
}

impl ProtocolHandler for JoinProtocol {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = member_of(conn.remote_id()).map_err(AcceptError::from_err)?;
        let (mut send, mut recv) = conn.accept_bi().await?;
        let limit = match self.ask {
            Ask::Join => MAX_JOIN_BYTES,
            Ask::Resolve => 64,
        };
        let request = match tokio::time::timeout(self.idle, recv.read_to_end(limit)).await {
            Ok(Ok(r)) => r,
            _ => return Ok(()),
        };
        let svc = self.service.clone();
        let ask = self.ask;
        let answer = blocking(move || match ask {
            Ask::Join => svc.admit(&peer, &request),
            Ask::Resolve => svc.resolve_invite(&request).map_err(Refusal::Denied),
        })
        .await
        .unwrap_or_else(|e| Err(Refusal::Denied(e.to_string())));
        let mut out = Vec::new();
        match answer {
            Ok(body) => {
                out.push(0);
                out.extend_from_slice(&body);
            }
            Err(reason) => {
                info!(peer = %peer.short(), "{:?} refused: {reason}", self.ask);
                out.push(match &reason {
                    Refusal::CommunityNotHeld => NOT_HELD,
                    Refusal::Invite(e) => invite_kind(e).unwrap_or(REFUSED),
                    _ => REFUSED,
                });
                out.extend_from_slice(reason.to_string().as_bytes());
            }
        }
        let _ = send.write_all(&out).await;
        let _ = send.finish();
        conn.closed().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_invitation_refusal_travels_as_its_own_kind() {
        use InviteError as E;
        for e in [
            E::Expired,
            E::Used,
            E::Revoked,
            E::NotACoordinator,
            E::Forged,
            E::Malformed,
        ] {
            let kind = invite_kind(&e).expect("a kind of its own");
            assert!(kind != 0 && kind != REFUSED && kind != NOT_HELD, "{e:?}");
            assert_eq!(invite_refusal(kind), Some(e));
        }
        // The others travel as a sentence.
        assert_eq!(invite_kind(&E::Unknown), None);
        assert_eq!(invite_refusal(REFUSED), None);
        assert_eq!(invite_refusal(NOT_HELD), None);
    }
}
