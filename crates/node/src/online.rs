//! The node on the network: the sync service the network layer calls, and outgoing syncs.

use std::sync::{Arc, Mutex};

use commonplace_base::{CommunityId, DocId, MemberId, Timestamp};
use commonplace_model::Role;
use commonplace_model::invite::{InviteError, ShortCode, SignedInvitation};
use commonplace_net::{NetConfig, NetError, Network, PeerTicket, SyncReport, SyncService};
use commonplace_sync::{Frame, Session, SessionError};
use serde::Serialize;
use tracing::{info, warn};

use crate::peers::{SyncLog, record};
use crate::{NetView, Node, NodeError, SyncRecord, SyncStatus};

/// What "Sync now" did: every member tried and how it went, then the status after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncNowReport {
    /// One line per member tried (empty: no member's node is known yet).
    pub tried: Vec<PeerOutcome>,
    /// Communities got back (after a key restore) from the member's node, if any.
    pub recovered: Vec<String>,
    /// The status after the attempt.
    pub status: SyncStatus,
}

/// How syncing with one member went, over all the communities shared with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PeerOutcome {
    /// The member.
    pub member: MemberId,
    /// Their name.
    pub name: String,
    /// Every community synced.
    pub ok: bool,
    /// Changes that arrived.
    pub received: u64,
    /// Changes sent.
    pub sent: u64,
    /// Why it failed, as a sentence, when it did.
    pub error: Option<String>,
}

/// A new invitation code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Invite {
    /// The long code (`cpinvite1…`): the whole signed invitation, shown as the QR code.
    pub code: String,
    /// The short code to read out or type (`K7QM-3XPA-9FHD-2WNE`); the inviting node answers
    /// it while it is online.
    pub short_code: String,
    /// The code as an SVG QR code.
    pub qr_svg: String,
    /// The role the holder gets.
    pub role: Role,
    /// When it stops working.
    pub expires_at: Timestamp,
}

impl Online {
    /// Creates an invitation to `community` that points at this node's address.
    pub async fn invite(
        &self,
        community: &CommunityId,
        role: Role,
        valid_for_ms: i64,
    ) -> Result<Invite, NodeError> {
        let new =
            self.node()
                .create_invite(community, role, valid_for_ms, self.ticket().to_bytes())?;
        let code = new.signed.to_code()?;
        self.serve_short_codes().await?;
        Ok(Invite {
            qr_svg: crate::qr::svg(&code),
            code,
            short_code: new.short.to_string(),
            role,
            expires_at: new.signed.invitation.expires_at,
        })
    }

    /// Syncs every shared community with the member at `address` (a `cppeer1…` code, for
    /// networks where local discovery is blocked), and remembers them. Communities of ours
    /// that their node holds and this one does not (a restored key) come back first.
    pub async fn sync_address(
        &self,
        address: &str,
    ) -> Result<Vec<commonplace_net::SyncReport>, NodeError> {
        let ticket: PeerTicket = address.trim().parse().map_err(NodeError::Net)?;
        let member =
            MemberId::from_bytes(*ticket.0.id.as_bytes()).map_err(NodeError::NotAMemberAddress)?;
        let mut out = Vec::new();
        let mut recovered = Vec::new();
        for (c, r) in self.recover_from(ticket.0.clone()).await? {
            recovered.push(c);
            out.push(r?);
        }
        for c in self.node().community_ids()? {
            if !recovered.contains(&c) && self.node().may_sync(&c, &member)? {
                out.push(self.sync_with(ticket.0.clone(), c).await?);
            }
        }
        if out.is_empty() {
            return Err(NodeError::NotAllowed(format!(
                "{} is not a member of any of your communities",
                member.short()
            )));
        }
        Ok(out)
    }

    /// Gets this member's communities back from another member's node, given its address
    /// (`cppeer1…`) or an invitation code (`cpinvite1…`, whose inviting node is asked): after
    /// a key restore on a new computer. Returns the names of the communities that came back.
    pub async fn recover_address(&self, text: &str) -> Result<Vec<String>, NodeError> {
        let text = text.trim();
        let addr = if text.starts_with("cpinvite") {
            let inv = SignedInvitation::from_code(text)?;
            PeerTicket::from_bytes(&inv.invitation.inviter_addr).map_err(NodeError::Net)?
        } else {
            text.parse::<PeerTicket>().map_err(NodeError::Net)?
        };
        let peer = addr.0.id.fmt_short().to_string();
        let got = self.recover_from(addr.0).await?;
        if got.is_empty() {
            return Err(NodeError::NotAllowed(format!(
                "the node {peer} answered, but holds no community you are a member of that is not here already"
            )));
        }
        let mut names = Vec::new();
        for (c, r) in got {
            r?;
            names.push(self.node().community(&c)?.charter.name);
        }
        Ok(names)
    }

    /// "Sync now": every known member's node is tried at once (waiting out no backoff), and
    /// how each went is reported, with the status after it.
    pub async fn sync_now(&self) -> Result<SyncNowReport, NodeError> {
        self.forget_failures();
        let attempts = self.sync_known_peers(None).await?;
        let status = self.sync_status()?;
        let name_of = |m: &MemberId| {
            status
                .peers
                .iter()
                .find(|p| p.member == *m)
                .map_or_else(|| m.short(), |p| p.name.clone())
        };
        let mut tried: Vec<PeerOutcome> = Vec::new();
        for (member, _, r) in attempts {
            let i = match tried.iter().position(|t| t.member == member) {
                Some(i) => i,
                None => {
                    tried.push(PeerOutcome {
                        member,
                        name: name_of(&member),
                        ok: true,
                        received: 0,
                        sent: 0,
                        error: None,
                    });
                    tried.len() - 1
                }
            };
            let t = &mut tried[i];
            match r {
                Ok(rep) => {
                    t.received += rep.stats.changes_received;
                    t.sent += rep.stats.changes_sent;
                }
                Err(e) => {
                    t.ok = false;
                    t.error.get_or_insert_with(|| outcome_sentence(&e));
                }
            }
        }
        Ok(SyncNowReport {
            tried,
            recovered: Vec::new(),
            status,
        })
    }

    /// Binds the endpoint with the member's key.
    pub async fn start(node: Node, config: NetConfig) -> Result<Online, NodeError> {
        let log = Arc::new(Mutex::new(Vec::new()));
        let relay = config.relay.clone();
        let (met, met_rx) = tokio::sync::mpsc::unbounded_channel();
        let service = Arc::new(Service {
            node: node.clone(),
            log: log.clone(),
            met,
        });
        let network = Network::start(node.secret_key().to_secret_bytes(), config, service)
            .await
            .map_err(NodeError::Net)?;
        // Known peers can be dialled by id (gossip bootstraps that way).
        for (_, addr) in node.known_peers()? {
            if let Ok(t) = PeerTicket::from_bytes(&addr) {
                network.remember(t.0);
            }
        }
        let live = crate::live::Live::start(node.clone(), network.clone(), met_rx, log.clone());
        let mut online = Online {
            node,
            network,
            log,
            live: Arc::new(tokio::sync::Mutex::new(live)),
            local: Arc::new(Mutex::new(None)),
            watch: Arc::new(Mutex::new(None)),
            relay,
            backoff: Arc::new(Mutex::new(std::collections::HashMap::new())),
        };
        online.watch = Arc::new(Mutex::new(Some(tokio::spawn(watch_connections(
            online.node.clone(),
            online.network.clone(),
        )))));
        if let Some(found) = online.network.local_peers().await {
            online.local = Arc::new(Mutex::new(Some(tokio::spawn(meet_local_peers(
                online.clone(),
                found,
            )))));
        }
        online.node.set_own_address(online.ticket().to_bytes())?;
        online.serve_short_codes().await?;
        Ok(online)
    }

    /// Our address as a copyable code.
    pub fn ticket(&self) -> PeerTicket {
        PeerTicket(self.network.addr())
    }

    /// Runs a resolver endpoint for every short code of this node's that can still be used,
    /// and stops those of codes that were used, revoked or expired. Called at start and
    /// after an invitation is created or revoked.
    pub async fn serve_short_codes(&self) -> Result<(), NodeError> {
        let seeds: Vec<[u8; 32]> = self
            .node
            .open_short_codes()?
            .iter()
            .map(ShortCode::resolver_seed)
            .collect();
        self.network
            .serve_short_codes(&seeds)
            .await
            .map_err(NodeError::Net)
    }

    /// Revokes an invitation created here ([`Node::revoke_invite`]) and stops answering its
    /// short code.
    pub async fn revoke_invite(&self, code: &str) -> Result<crate::PendingInvitation, NodeError> {
        let out = self.node.revoke_invite(code)?;
        self.serve_short_codes().await?;
        Ok(out)
    }

    /// The signed invitation a short code names: asked of each node in `via` in turn, then
    /// of the code's resolver endpoint, dialled by id alone (found on the local network).
    /// The answer is checked against the code (its secret is derived from it) and its
    /// signature; a refusal (revoked, used, expired) is final.
    pub async fn resolve_short_code(
        &self,
        code: &ShortCode,
        via: &[PeerTicket],
    ) -> Result<SignedInvitation, NodeError> {
        let resolver = iroh::SecretKey::from_bytes(&code.resolver_seed()).public();
        let targets = via
            .iter()
            .map(|t| t.0.clone())
            .chain(std::iter::once(iroh::EndpointAddr::new(resolver)));
        let mut last = None;
        // A node that was reached and does not know the code says more than one that could
        // not be reached.
        let mut unknown = false;
        for addr in targets {
            match self.network.resolve_invite(addr, &code.proof()).await {
                Ok(bytes) => {
                    let answer: crate::invite::ResolveAnswer =
                        postcard::from_bytes(&bytes).map_err(|_| InviteError::Malformed)?;
                    let text = match answer.into_result() {
                        Ok(text) => text,
                        // Another node may hold it (`--via` lists several).
                        Err(InviteError::Unknown) => {
                            unknown = true;
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    };
                    let inv = SignedInvitation::from_code(&text)?;
                    if !code.matches(&inv) {
                        return Err(InviteError::NotThisCode.into());
                    }
                    if Timestamp::now() > inv.invitation.expires_at {
                        return Err(InviteError::Expired.into());
                    }
                    return Ok(inv);
                }
                Err(e) => last = Some(NodeError::Net(e)),
            }
        }
        Err(match last {
            _ if unknown => InviteError::Unknown.into(),
            Some(e) if via.is_empty() => NodeError::InviterNotFound {
                source: Box::new(e),
            },
            Some(e) => e,
            None => InviteError::Unknown.into(),
        })
    }

    /// Joins a community with an invitation code: asks the inviting node to admit us, then
    /// syncs the whole community from it.
    pub async fn join(&self, code: &str) -> Result<(CommunityId, SyncReport), NodeError> {
        self.join_via(code, &[]).await
    }

    /// Joins with an invitation code through any member's node: each address in `via` (any
    /// member's, e.g. one found on the local network or read out at a meeting) is tried in
    /// turn, then the inviting node named in the code. The first node that answers decides:
    /// an admitted newcomer then syncs the whole community from it; a refusal (expired, used,
    /// forged) is final. Nodes that cannot be reached are skipped.
    pub async fn join_via(
        &self,
        code: &str,
        via: &[PeerTicket],
    ) -> Result<(CommunityId, SyncReport), NodeError> {
        let (inv, code) = if SignedInvitation::is_long_code(code) {
            (SignedInvitation::from_code(code)?, code.trim().to_owned())
        } else {
            // A short code: a typo is told at once, before any network wait.
            let short = ShortCode::parse(code)?;
            let inv = self.resolve_short_code(&short, via).await?;
            let long = inv.to_code()?;
            (inv, long)
        };
        let code = code.as_str();
        let inviter =
            PeerTicket::from_bytes(&inv.invitation.inviter_addr).map_err(NodeError::Net)?;
        let name = self.node.identity()?.name;
        let request = postcard::to_stdvec(&crate::invite::JoinRequest {
            code: code.trim().to_owned(),
            name,
        })
        .map_err(|e| NodeError::encode("join request", e))?;
        let community = inv.invitation.community;
        let mut last = None;
        for addr in via.iter().chain(std::iter::once(&inviter)) {
            match self.network.join(addr.0.clone(), &request).await {
                Ok(_) => {
                    let report = self.sync_with(addr.0.clone(), community).await?;
                    // The admission wrote our name only; our region and organisation go
                    // into our roster entry now, and back to the node that admitted us. If
                    // that sync fails the change travels with the next one: we are in.
                    if self.node.publish_profile(&community)?
                        && let Err(e) = self.sync_with(addr.0.clone(), community).await
                    {
                        warn!(%community, "profile not sent after joining: {e}");
                    }
                    return Ok((community, report));
                }
                // This node does not hold that community: another may.
                Err(e @ NetError::CommunityNotHeld(_)) => last = Some(e),
                Err(e @ (NetError::Refused(_) | NetError::InviteRefused(_))) => {
                    return Err(NodeError::Net(e));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(NodeError::Net(last.unwrap_or(NetError::NoPeer)))
    }

    /// Members with an open connection to this node now (see
    /// [`Network::connected_peers`]).
    pub fn connected_peers(&self) -> Vec<MemberId> {
        self.network.connected_peers()
    }

    /// The relays this network runs with.
    pub fn relay(&self) -> &commonplace_net::RelayConfig {
        &self.relay
    }

    /// Gets back the communities that the node at `addr` holds and we are an active member
    /// of but do not hold (a key restored on a new computer, or added while away), syncing
    /// each in full; returns each outcome. Communities held here already are left to the
    /// regular syncs.
    pub async fn recover_from(
        &self,
        addr: iroh::EndpointAddr,
    ) -> Result<Vec<(CommunityId, Result<SyncReport, NodeError>)>, NodeError> {
        let theirs = self
            .network
            .communities_for_me(addr.clone())
            .await
            .map_err(NodeError::Net)?;
        let held = self.node.community_ids()?;
        let mut out = Vec::new();
        for c in theirs.into_iter().filter(|c| !held.contains(c)) {
            info!(community = %c.short(), "getting a community back");
            let r = self.sync_with(addr.clone(), c).await;
            if r.is_ok() {
                self.node
                    .emit(crate::NodeEvent::CommunityChanged { community: c });
            }
            out.push((c, r));
        }
        Ok(out)
    }

    /// Syncs with every known peer (all communities, or one), one after another; returns
    /// each outcome.
    pub async fn sync_known_peers(
        &self,
        community: Option<CommunityId>,
    ) -> Result<Vec<Attempt>, NodeError> {
        let communities = match community {
            Some(c) => vec![c],
            None => self.node.community_ids()?,
        };
        let mut out = Vec::new();
        let now = std::time::Instant::now();
        for (member, addr) in self.node.known_peers()? {
            let Ok(ticket) = PeerTicket::from_bytes(&addr) else {
                continue;
            };
            // A peer that failed recently waits out its backoff (an explicit one-community
            // sync always tries).
            if community.is_none()
                && self
                    .backoff
                    .lock()
                    .ok()
                    .and_then(|b| b.get(&member).map(|(_, next)| *next > now))
                    .unwrap_or(false)
            {
                continue;
            }
            let mut failed = false;
            for c in &communities {
                if !self.node.may_sync(c, &member)? {
                    continue;
                }
                let r = self.sync_with(ticket.0.clone(), *c).await;
                failed |= r.is_err();
                out.push((member, *c, r));
            }
            if let Ok(mut b) = self.backoff.lock() {
                if failed {
                    let fails = b.get(&member).map_or(0, |(n, _)| *n) + 1;
                    // From the failure, not the round's start: a dead peer can take a
                    // connect timeout to fail.
                    b.insert(
                        member,
                        (fails, std::time::Instant::now() + backoff_after(fails)),
                    );
                } else {
                    b.remove(&member);
                }
            }
        }
        Ok(out)
    }

    /// The node.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// The network.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Our address, for others to dial.
    pub fn addr(&self) -> iroh::EndpointAddr {
        self.network.addr()
    }

    /// Syncs one community with the peer at `addr`.
    pub async fn sync_with(
        &self,
        addr: iroh::EndpointAddr,
        community: CommunityId,
    ) -> Result<SyncReport, NodeError> {
        let report = self
            .network
            .sync(addr.clone(), community)
            .await
            .map_err(NodeError::Net)?;
        // Remember how to reach this member next time.
        self.network.remember(addr.clone());
        self.node
            .record_peer(&report.peer, PeerTicket(addr).to_bytes())?;
        Ok(report)
    }

    /// Whether `other` is this same online node (not a restarted one).
    pub fn same_as(&self, other: &Online) -> bool {
        Arc::ptr_eq(&self.backoff, &other.backoff)
    }

    /// Forgets which peers failed, so the next round tries every one of them.
    pub fn forget_failures(&self) {
        if let Ok(mut b) = self.backoff.lock() {
            b.clear();
        }
    }

    /// Keeps in touch with known peers, forever: a round of syncs at once, then every
    /// `interval`, and at once (with every peer's backoff forgotten) when the computer wakes
    /// from sleep or this node's address changes. `each` hears every round. [`crate::Presence`]
    /// runs it and stops it by dropping the future.
    pub(crate) async fn keep_in_touch(
        &self,
        interval: std::time::Duration,
        mut each: impl FnMut(Round),
    ) {
        use std::time::{Instant, SystemTime};
        let mut last_round = Instant::now();
        let (mut mono, mut wall) = (Instant::now(), SystemTime::now());
        let mut addr = self.addr();
        let mut started = true;
        loop {
            if std::mem::take(&mut started) {
                let results = self.sync_known_peers(None).await;
                last_round = Instant::now();
                each(Round {
                    trigger: Trigger::Started,
                    results,
                });
                continue;
            }
            tokio::time::sleep(LOOK_EVERY.min(interval)).await;
            let asleep = slept(
                SystemTime::now().duration_since(wall).unwrap_or_default(),
                mono.elapsed(),
            );
            (mono, wall) = (Instant::now(), SystemTime::now());
            let now_addr = self.addr();
            let trigger = if asleep {
                // The network may well be another one now; let iroh look again.
                self.network.endpoint().network_change().await;
                Trigger::Resumed
            } else if now_addr != addr {
                Trigger::NetworkChanged
            } else if last_round.elapsed() >= interval {
                Trigger::Interval
            } else {
                continue;
            };
            addr = now_addr;
            if trigger != Trigger::Interval {
                info!(?trigger, "trying every known peer again");
                self.forget_failures();
            }
            let results = self.sync_known_peers(None).await;
            // Codes used (through any node), revoked or expired since: stop their resolvers.
            if let Err(e) = self.serve_short_codes().await {
                warn!("short-code resolvers not updated: {e}");
            }
            last_round = Instant::now();
            each(Round { trigger, results });
        }
    }

    /// What the network knows now, for [`Node::sync_status`].
    pub fn net_view(&self) -> NetView {
        NetView {
            recent: self.recent_syncs(),
            connected: self.connected_peers(),
            address: self.ticket(),
            relay: self.relay.clone(),
        }
    }

    /// The status with this network's state: who is connected, recent syncs, the address.
    pub fn sync_status(&self) -> Result<SyncStatus, NodeError> {
        self.node.sync_status(Some(&self.net_view()))
    }

    /// Recent syncs, newest last.
    pub fn recent_syncs(&self) -> Vec<SyncRecord> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Goes offline.
    pub async fn shutdown(&self) {
        for task in [&self.local, &self.watch] {
            if let Some(t) = task.lock().ok().and_then(|mut t| t.take()) {
                t.abort();
            }
        }
        self.live.lock().await.shutdown().await;
        self.network.shutdown().await;
    }
}

/// Why a sync with a member failed, in words for the person who pressed "Sync now" (the
/// member's name is said beside it).
fn outcome_sentence(e: &NodeError) -> String {
    use commonplace_net::NetError;
    match e {
        NodeError::Net(NetError::Connect { .. } | NetError::Unreachable { .. }) => {
            "their computer did not answer: Commonplace is not running there, or it cannot be reached from this network".into()
        }
        NodeError::Net(NetError::Timeout { secs, .. }) => {
            format!("their computer stopped answering in the middle (nothing for {secs} s)")
        }
        other => other.to_string(),
    }
}

/// The node's service to the network layer.
#[derive(Debug, Clone)]
struct Service {
    node: Node,
    log: SyncLog,
    met: crate::live::MetSender,
}

impl SyncService for Service {
    fn may_sync(&self, community: &CommunityId, peer: &MemberId) -> bool {
        self.node.may_sync(community, peer).unwrap_or(false)
    }

    fn may_gossip(&self, peer: &MemberId) -> bool {
        self.node.may_gossip(peer).unwrap_or(false)
    }

    fn start(
        &self,
        community: &CommunityId,
        peer: &MemberId,
        scope: Option<DocId>,
    ) -> Result<(Session, Frame), SessionError> {
        self.node.start_sync_scoped(community, peer, scope)
    }

    fn receive(&self, session: &mut Session, frame: Frame) -> Result<Vec<Frame>, SessionError> {
        self.node.sync_receive(session, frame)
    }

    fn receive_batch(
        &self,
        session: &mut Session,
        frames: Vec<Frame>,
    ) -> Result<Vec<Frame>, SessionError> {
        self.node.sync_receive_batch(session, frames)
    }

    fn admit(&self, peer: &MemberId, request: &[u8]) -> Result<Vec<u8>, commonplace_net::Refusal> {
        self.node.admit(peer, request)
    }

    fn seen_at(&self, peer: &MemberId, addr: &iroh::EndpointAddr) {
        if !self.node.may_gossip(peer).unwrap_or(false) {
            return;
        }
        let ticket = PeerTicket(addr.clone()).to_bytes();
        let known = self.node.known_peers().unwrap_or_default();
        if known.iter().any(|(m, a)| m == peer && *a == ticket) {
            return;
        }
        if let Err(e) = self.node.record_peer(peer, ticket) {
            warn!("could not remember a member's address: {e}");
        }
    }

    fn communities_of(&self, peer: &MemberId) -> Vec<CommunityId> {
        self.node
            .community_ids()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| self.node.may_sync(c, peer).unwrap_or(false))
            .collect()
    }

    fn resolve_invite(&self, proof: &[u8]) -> Result<Vec<u8>, String> {
        let answer = crate::invite::ResolveAnswer::from(self.node.resolve_invite(proof));
        postcard::to_stdvec(&answer).map_err(|e| e.to_string())
    }

    fn finished(
        &self,
        peer: &MemberId,
        community: &CommunityId,
        outcome: &Result<SyncReport, NetError>,
    ) {
        let entry = SyncRecord {
            peer: *peer,
            community: *community,
            at: Timestamp::now(),
            ok: outcome.is_ok(),
            changes_received: outcome.as_ref().map_or(0, |r| r.stats.changes_received),
            changes_sent: outcome.as_ref().map_or(0, |r| r.stats.changes_sent),
            error: outcome.as_ref().err().map(ToString::to_string),
        };
        if outcome.is_ok() {
            let _ = self.met.send((*peer, *community));
        }
        match outcome {
            Ok(r) => info!(
                peer = %peer.short(),
                received = r.stats.changes_received,
                sent = r.stats.changes_sent,
                "synced"
            ),
            Err(e) => warn!(peer = %peer.short(), "sync failed: {e}"),
        }
        record(&self.node, &self.log, entry);
    }
}

/// A node that is online: its endpoint accepts sync sessions from members and can start them.
#[derive(Debug, Clone)]
pub struct Online {
    node: Node,
    network: Network,
    log: SyncLog,
    live: Arc<tokio::sync::Mutex<crate::live::Live>>,
    local: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
    /// Watches who is connected and tells the node's subscribers when that changes.
    watch: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
    /// The relays this network runs with (which may differ from the profile's setting: a
    /// `--relay` flag at start wins).
    relay: commonplace_net::RelayConfig,
    /// Peers that failed: how many times in a row, and when to try again.
    backoff: Arc<Mutex<std::collections::HashMap<MemberId, (u32, std::time::Instant)>>>,
}

/// What started a round of syncs with known peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The network just came up: every known member is tried at once.
    Started,
    /// The regular interval passed.
    Interval,
    /// The computer woke from sleep (the wall clock moved on far more than the monotonic
    /// one): peers that failed before are tried again at once.
    Resumed,
    /// This node's own address changed (another network, a new IP): the same.
    NetworkChanged,
}

/// One sync attempt of a round: with whom, about which community, and how it went.
pub type Attempt = (MemberId, CommunityId, Result<SyncReport, NodeError>);

/// One round of [`Online::keep_in_touch`]: why it ran and how each peer and community went.
#[derive(Debug)]
pub struct Round {
    /// Why it ran.
    pub trigger: Trigger,
    /// Each attempt, or why the round could not run.
    pub results: Result<Vec<Attempt>, NodeError>,
}

/// How often [`Online::keep_in_touch`] looks for a wake-up or a new address.
const LOOK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether a pause that took `mono` on the monotonic clock (which stops while the computer
/// sleeps) and `wall` on the wall clock means the computer slept.
fn slept(wall: std::time::Duration, mono: std::time::Duration) -> bool {
    wall > mono + std::time::Duration::from_secs(30)
}

/// 15 s after the first failure, doubling up to an hour: a laptop that went to sleep is
/// retried soon, one that is gone for good costs little.
fn backoff_after(fails: u32) -> std::time::Duration {
    let secs = 15u64.saturating_mul(1u64 << fails.saturating_sub(1).min(8));
    std::time::Duration::from_secs(secs.min(3600))
}

/// How often [`watch_connections`] looks.
const WATCH_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Emits [`crate::NodeEvent::PeersChanged`] whenever a sync or gossip connection opened or
/// closed since the last look, so a status display (which may have read the status while a
/// connection was open) never goes on showing one that closed.
async fn watch_connections(node: Node, network: Network) {
    let mut seen = network.connections_generation();
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        let now = network.connections_generation();
        if now != seen {
            seen = now;
            tracing::debug!(
                connected = network.connected_peers().len(),
                "connections changed"
            );
            node.emit(crate::NodeEvent::PeersChanged);
        }
    }
}

/// Syncs with members' nodes as local-network discovery finds them (a conference room with no
/// internet): each is remembered and synced for every community both belong to.
async fn meet_local_peers(
    online: Online,
    mut found: impl n0_future::Stream<Item = commonplace_net::LocalPeer> + Unpin,
) {
    use n0_future::StreamExt;
    while let Some(peer) = found.next().await {
        // Communities of ours that it holds and we do not (a restored key, a new computer).
        match online.recover_from(peer.addr.clone()).await {
            Ok(got) => {
                for (c, r) in got {
                    if let Err(e) = r {
                        warn!(peer = %peer.member.short(), community = %c.short(), "not recovered: {e}");
                    }
                }
            }
            Err(e) => info!(peer = %peer.member.short(), "could not ask what it holds: {e}"),
        }
        let Ok(communities) = online.node.community_ids() else {
            continue;
        };
        for c in communities {
            if !online.node.may_sync(&c, &peer.member).unwrap_or(false) {
                continue;
            }
            info!(peer = %peer.member.short(), "found on the local network");
            if let Err(e) = online.sync_with(peer.addr.clone(), c).await {
                warn!(peer = %peer.member.short(), "local peer not synced: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{backoff_after, slept};
    use std::time::Duration;

    #[test]
    fn a_wall_clock_far_ahead_of_the_monotonic_one_means_the_computer_slept() {
        let s = Duration::from_secs;
        assert!(!slept(s(5), s(5)));
        assert!(!slept(s(20), s(5)), "a small clock adjustment is no sleep");
        assert!(slept(s(3600), s(5)));
        assert!(!slept(s(0), s(5)), "a clock set back is no sleep");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_after(1), Duration::from_secs(15));
        assert_eq!(backoff_after(2), Duration::from_secs(30));
        assert_eq!(backoff_after(5), Duration::from_secs(240));
        assert_eq!(backoff_after(30), Duration::from_secs(3600));
    }
}
