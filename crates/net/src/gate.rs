//! The gossip gate: only members' nodes become gossip neighbours.
//!
//! Gossip carries announcements with the changes they announce, so a neighbour on a
//! community's topic reads its new posts as they are written. iroh-gossip itself admits anyone
//! who knows the topic (derived from the community id, which every invitation and bundle holds)
//! and dials whoever other neighbours name. This gate is an endpoint hook, so it sees every
//! gossip connection, in and out, before gossip does: a connection to or from a peer who is not
//! an active member of any community this node holds is refused, and [`GossipGate::recheck`]
//! closes the links of peers who stopped being members. It must never let a gossip connection
//! through without asking the [`SyncService`](crate::SyncService).
//!
//! One gossip connection carries every topic the two nodes share, so the check is per node,
//! not per community: a member of another community this node also holds passes it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use commonplace_base::MemberId;
use iroh::endpoint::{
    AfterHandshakeOutcome, BeforeConnectOutcome, Connection, EndpointHooks, Side, VarInt,
    WeakConnectionHandle,
};
use iroh::{EndpointAddr, EndpointId, TransportAddr};
use tracing::info;

use crate::endpoint::SyncServiceDebug;

/// The QUIC close code of a refused or dropped gossip link.
pub const GOSSIP_REFUSED: u32 = 403;
/// The reason a refused gossip link is closed with.
pub const GOSSIP_REFUSED_REASON: &[u8] = b"not a member of any community here";

/// Admits gossip links from and to members only, and remembers them so they can be dropped.
#[derive(Debug, Clone)]
pub(crate) struct GossipGate {
    service: Arc<dyn SyncServiceDebug>,
    /// Gossip connections that passed, to close when their peer stops being a member.
    links: Arc<Mutex<Vec<(EndpointId, WeakConnectionHandle)>>>,
    /// Every sync and gossip connection, in or out: who this node is connected to now.
    live: Arc<Mutex<Vec<(EndpointId, WeakConnectionHandle)>>>,
    /// Bumped whenever one of those opens or closes, so a watcher that looks now and then
    /// misses no change, not even a connection that came and went between two looks.
    generation: Arc<AtomicU64>,
}

impl GossipGate {
    pub(crate) fn new(service: Arc<dyn SyncServiceDebug>) -> GossipGate {
        GossipGate {
            service,
            links: Arc::default(),
            live: Arc::default(),
            generation: Arc::default(),
        }
    }

    /// A number that changes whenever a sync or gossip connection opens or closes.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Peers with an open sync or gossip connection to this node now, in either direction.
    /// A peer that closes its side (a node shutting down) leaves at once; one that falls
    /// silent (a crash, a cable pulled) leaves when QUIC's idle timeout closes the
    /// connection ([`crate::endpoint::CONNECTION_IDLE`]).
    pub(crate) fn connected(&self) -> Vec<MemberId> {
        let Ok(mut live) = self.live.lock() else {
            return Vec::new();
        };
        live.retain(|(_, w)| w.upgrade().is_some_and(|c| c.close_reason().is_none()));
        let mut out: Vec<MemberId> = live
            .iter()
            .filter_map(|(id, _)| MemberId::from_bytes(*id.as_bytes()).ok())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn track(&self, conn: &Connection) {
        if let Ok(mut live) = self.live.lock() {
            live.retain(|(_, w)| w.upgrade().is_some_and(|c| c.close_reason().is_none()));
            live.push((conn.remote_id(), conn.weak_handle()));
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        let closed = conn.weak_handle().closed();
        let generation = self.generation.clone();
        tokio::spawn(async move {
            closed.await;
            generation.fetch_add(1, Ordering::AcqRel);
        });
        if conn.side() == Side::Server
            && let Ok(member) = MemberId::from_bytes(*conn.remote_id().as_bytes())
        {
            let addrs: Vec<TransportAddr> = conn
                .paths()
                .into_iter()
                .filter(|p| p.is_ip())
                .map(|p| p.remote_addr().clone())
                .collect();
            if !addrs.is_empty() {
                let addr = EndpointAddr::from_parts(conn.remote_id(), addrs);
                let svc = self.service.clone();
                tokio::task::spawn_blocking(move || svc.seen_at(&member, &addr));
            }
        }
    }

    async fn allows(&self, peer: EndpointId) -> bool {
        let Ok(member) = MemberId::from_bytes(*peer.as_bytes()) else {
            return false;
        };
        let svc = self.service.clone();
        tokio::task::spawn_blocking(move || svc.may_gossip(&member))
            .await
            .unwrap_or(false)
    }

    /// Open gossip links, pruned of closed ones.
    fn open_links(&self) -> Vec<(EndpointId, Connection)> {
        let Ok(mut links) = self.links.lock() else {
            return Vec::new();
        };
        let mut open = Vec::new();
        links.retain(|(id, weak)| match weak.upgrade() {
            Some(c) if c.close_reason().is_none() => {
                open.push((*id, c));
                true
            }
            _ => false,
        });
        open
    }

    /// Peers with an open gossip link.
    pub(crate) fn neighbours(&self) -> Vec<MemberId> {
        let mut out: Vec<MemberId> = self
            .open_links()
            .into_iter()
            .filter_map(|(id, _)| MemberId::from_bytes(*id.as_bytes()).ok())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Closes the gossip links of peers who are no longer members of any community here;
    /// returns them. Gossip sees its connections end and drops them as neighbours; should
    /// they (or anyone naming them) dial again, the gate refuses.
    pub(crate) async fn recheck(&self) -> Vec<MemberId> {
        let mut dropped = Vec::new();
        let mut checked: Vec<(EndpointId, bool)> = Vec::new();
        for (id, conn) in self.open_links() {
            let allowed = match checked.iter().find(|(c, _)| *c == id) {
                Some((_, a)) => *a,
                None => {
                    let a = self.allows(id).await;
                    checked.push((id, a));
                    a
                }
            };
            if !allowed {
                conn.close(VarInt::from_u32(GOSSIP_REFUSED), GOSSIP_REFUSED_REASON);
                if let Ok(m) = MemberId::from_bytes(*id.as_bytes())
                    && !dropped.contains(&m)
                {
                    info!(peer = %m.short(), "gossip link dropped: no longer a member");
                    dropped.push(m);
                }
            }
        }
        dropped
    }
}

impl EndpointHooks for GossipGate {
    async fn before_connect<'a>(
        &'a self,
        remote_addr: &'a EndpointAddr,
        alpn: &'a [u8],
    ) -> BeforeConnectOutcome {
        // Gossip dials peers that other neighbours name: never a non-member.
        if alpn == iroh_gossip::ALPN && !self.allows(remote_addr.id).await {
            info!(peer = %remote_addr.id.fmt_short(), "gossip dial refused: not a member");
            return BeforeConnectOutcome::Reject;
        }
        BeforeConnectOutcome::Accept
    }

    async fn after_handshake<'a>(&'a self, conn: &'a Connection) -> AfterHandshakeOutcome {
        if conn.alpn() == crate::SYNC_ALPN {
            self.track(conn);
        }
        if conn.alpn() != iroh_gossip::ALPN {
            return AfterHandshakeOutcome::Accept;
        }
        let peer = conn.remote_id();
        // Remembered before the check: a removal that lands between the two is either seen by
        // the check or finds the link in the list when it rechecks.
        if let Ok(mut links) = self.links.lock() {
            // Pruned of closed links here too, so the list stays as long as the open ones.
            links.retain(|(_, w)| w.upgrade().is_some_and(|c| c.close_reason().is_none()));
            links.push((peer, conn.weak_handle()));
        }
        if self.allows(peer).await {
            self.track(conn);
            return AfterHandshakeOutcome::Accept;
        }
        info!(peer = %peer.fmt_short(), "gossip link refused: not a member");
        AfterHandshakeOutcome::Reject {
            error_code: VarInt::from_u32(GOSSIP_REFUSED),
            reason: GOSSIP_REFUSED_REASON.to_vec(),
        }
    }
}
