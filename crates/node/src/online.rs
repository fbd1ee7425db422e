//! The node on the network: the sync service the network layer calls, and outgoing syncs.

use std::sync::{Arc, Mutex};

use commonplace_base::{CommunityId, MemberId, Timestamp};
use commonplace_net::{NetConfig, NetError, Network, SyncReport, SyncService};
use commonplace_sync::{Frame, Session, SessionError};
use tracing::{info, warn};

use crate::{Node, NodeError};

/// What happened in one sync, for status displays.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncRecord {
    /// The peer.
    pub peer: MemberId,
    /// The community.
    pub community: CommunityId,
    /// When it ended.
    pub at: Timestamp,
    /// Whether it completed.
    pub ok: bool,
    /// Changes that arrived.
    pub changes_received: u64,
    /// Changes sent.
    pub changes_sent: u64,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// The node's service to the network layer.
#[derive(Debug, Clone)]
struct Service {
    node: Node,
    log: Arc<Mutex<Vec<SyncRecord>>>,
}

impl SyncService for Service {
    fn may_sync(&self, community: &CommunityId, peer: &MemberId) -> bool {
        self.node.may_sync(community, peer).unwrap_or(false)
    }

    fn start(
        &self,
        community: &CommunityId,
        peer: &MemberId,
    ) -> Result<(Session, Frame), SessionError> {
        self.node.start_sync(community, peer)
    }

    fn receive(&self, session: &mut Session, frame: Frame) -> Result<Vec<Frame>, SessionError> {
        self.node.sync_receive(session, frame)
    }

    fn finished(
        &self,
        peer: &MemberId,
        community: &CommunityId,
        outcome: &Result<SyncReport, NetError>,
    ) {
        let record = SyncRecord {
            peer: *peer,
            community: *community,
            at: Timestamp::now(),
            ok: outcome.is_ok(),
            changes_received: outcome.as_ref().map_or(0, |r| r.stats.changes_received),
            changes_sent: outcome.as_ref().map_or(0, |r| r.stats.changes_sent),
            error: outcome.as_ref().err().map(ToString::to_string),
        };
        match outcome {
            Ok(r) => info!(
                peer = %peer.short(),
                received = r.stats.changes_received,
                sent = r.stats.changes_sent,
                "synced"
            ),
            Err(e) => warn!(peer = %peer.short(), "sync failed: {e}"),
        }
        if let Ok(mut log) = self.log.lock() {
            log.push(record);
            let excess = log.len().saturating_sub(1000);
            log.drain(..excess);
        }
    }
}

/// A node that is online: its endpoint accepts sync sessions from members and can start them.
#[derive(Debug, Clone)]
pub struct Online {
    node: Node,
    network: Network,
    log: Arc<Mutex<Vec<SyncRecord>>>,
}

impl Online {
    /// Binds the endpoint with the member's key.
    pub async fn start(node: Node, config: NetConfig) -> Result<Online, NodeError> {
        let log = Arc::new(Mutex::new(Vec::new()));
        let service = Arc::new(Service {
            node: node.clone(),
            log: log.clone(),
        });
        let network = Network::start(node.secret_key().to_secret_bytes(), config, service)
            .await
            .map_err(NodeError::Net)?;
        Ok(Online { node, network, log })
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
        self.network
            .sync(addr, community)
            .await
            .map_err(NodeError::Net)
    }

    /// Recent syncs, newest last.
    pub fn recent_syncs(&self) -> Vec<SyncRecord> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Goes offline.
    pub async fn shutdown(&self) {
        self.network.shutdown().await;
    }
}
