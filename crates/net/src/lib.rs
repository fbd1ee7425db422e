//! The network layer: an iroh endpoint per profile, and the sync protocol over its QUIC
//! streams.
//!
//! This crate only moves bytes. A session's logic lives in `commonplace_sync`; what a frame
//! does to the profile is the [`SyncService`]'s business (the node implements it). The
//! member's key is the endpoint's key, so `Connection::remote_id()` — authenticated by TLS —
//! is the peer's member id.
//!
//! Gossip (live updates) links only members' nodes: an endpoint hook refuses every gossip
//! connection, in or out, with a peer the [`SyncService`] does not call a member, and
//! [`Network::recheck_gossip_links`] drops the links of peers who were removed.
//!
//! One connection carries one bidirectional stream per session; connections we dial are kept
//! for the next session with the same peer. Frames are length-prefixed with a hard size
//! limit; a session with no frame for [`IDLE_TIMEOUT`] ends.

mod endpoint;
mod gate;
mod live;
mod resolver;
mod stream;
mod ticket;

pub use endpoint::{LocalPeer, NetConfig, Network, RelayConfig, SyncReport};
pub use gate::{GOSSIP_REFUSED, GOSSIP_REFUSED_REASON};
pub use iroh::EndpointAddr;
pub use live::{Announcer, GOSSIP_MAX_MESSAGE, Listener, LiveEvent, MAX_ANNOUNCEMENT, topic_of};
pub use stream::{IDLE_TIMEOUT, read_frame, write_frame};
pub use ticket::PeerTicket;

use commonplace_base::{CommunityId, DocId, MemberId};
use commonplace_sync::{Frame, Session, SessionError};
use thiserror::Error;

/// The ALPN of the sync protocol; its number follows `commonplace_sync::PROTOCOL_VERSION`, so
/// peers that cannot understand each other's frames do not connect at all.
pub const SYNC_ALPN: &[u8] = b"commonplace/sync/3";
/// The ALPN of the join protocol: one request (an invitation), one answer.
pub const JOIN_ALPN: &[u8] = b"commonplace/join/1";
/// The ALPN of recovery: a member's node asks which communities the answering node holds that
/// it is an active member of (after a key restore on a new computer). No request body; the
/// answer is the list of community ids.
pub const RECOVER_ALPN: &[u8] = b"commonplace/recover/1";
/// The ALPN of resolving a short invitation code: the code's proof in, the long code out.
pub const RESOLVE_ALPN: &[u8] = b"commonplace/invite/1";
/// Most resolver endpoints (one per open short code) a node runs at once.
pub const MAX_RESOLVERS: usize = 16;
/// Largest join request or answer.
pub const MAX_JOIN_BYTES: usize = 64 * 1024;

/// What the network layer needs from the node: who may sync, and what frames do.
pub trait SyncService: Send + Sync + 'static {
    /// Whether `peer` may sync `community` with us.
    fn may_sync(&self, community: &CommunityId, peer: &MemberId) -> bool;
    /// Whether `peer` may be a gossip neighbour of ours: an active member of some community we
    /// hold. Asked for every gossip connection, in and out, and again for every open one when
    /// [`Network::recheck_gossip_links`] runs. (One connection carries every topic the two
    /// nodes share, so this cannot be asked per community.)
    fn may_gossip(&self, peer: &MemberId) -> bool;
    /// Starts a session (about one document of the community only, with `scope`); returns
    /// it and our hello.
    fn start(
        &self,
        community: &CommunityId,
        peer: &MemberId,
        scope: Option<DocId>,
    ) -> Result<(Session, Frame), SessionError>;
    /// Feeds a frame to a session; returns the frames to send.
    fn receive(&self, session: &mut Session, frame: Frame) -> Result<Vec<Frame>, SessionError>;
    /// Feeds frames that arrived together to a session, in order; returns the frames to send
    /// in reply to all of them. A service may store what they carry with one durable write.
    fn receive_batch(
        &self,
        session: &mut Session,
        frames: Vec<Frame>,
    ) -> Result<Vec<Frame>, SessionError> {
        let mut out = Vec::new();
        for f in frames {
            out.extend(self.receive(session, f)?);
        }
        Ok(out)
    }
    /// Handles a join request from `peer` (the bytes are the node's business); returns the
    /// answer to send, or a refusal the holder reads.
    fn admit(&self, peer: &MemberId, request: &[u8]) -> Result<Vec<u8>, Refusal>;
    /// The communities held here that `peer` (TLS-authenticated) is an active member of:
    /// what a member whose key was restored on a new computer may sync back.
    fn communities_of(&self, _peer: &MemberId) -> Vec<CommunityId> {
        Vec::new()
    }
    /// A member's node dialled us from `addr` (its one UDP socket, so also where it listens):
    /// a node that is only ever dialled learns how to reach its peers for "Sync now".
    fn seen_at(&self, _peer: &MemberId, _addr: &EndpointAddr) {}
    /// Answers a short invitation code's proof with the long code (the bytes of its text), or
    /// a refusal the holder reads. Nodes that keep no invitations refuse every proof.
    fn resolve_invite(&self, _proof: &[u8]) -> Result<Vec<u8>, String> {
        Err("no invitation with this code is waiting here".into())
    }
    /// A session ended (successfully or not); for status displays and logs.
    fn finished(
        &self,
        _peer: &MemberId,
        _community: &CommunityId,
        _outcome: &Result<SyncReport, NetError>,
    ) {
    }
}

/// Why a node refused a join request, as it travels to the asking node: the kind in the
/// answer's first byte, the sentence after it (so older nodes, which read any kind but 0 as
/// a refusal, still show the sentence).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Refusal {
    /// This node does not hold the community: another member's node may.
    #[error("this node does not hold that community")]
    CommunityNotHeld,
    /// Refused for the reason given (an expired or used invitation, ...).
    #[error("{0}")]
    Denied(String),
}

impl From<String> for Refusal {
    fn from(reason: String) -> Self {
        Refusal::Denied(reason)
    }
}

/// A network operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NetError {
    /// The endpoint could not be bound.
    #[error("could not start networking: {0}")]
    Bind(String),
    /// The peer could not be reached.
    #[error("could not reach {peer}: {detail}")]
    Connect { peer: String, detail: String },
    /// The stream failed (the peer vanished, the connection dropped).
    #[error("connection to {peer} failed: {detail}")]
    Stream { peer: String, detail: String },
    /// The peer's node did not answer the dial: it is not running, or not reachable from here.
    #[error(
        "no answer from {peer} within {secs} s: their node is not running or cannot be reached from here"
    )]
    Unreachable { peer: String, secs: u64 },
    /// Nothing arrived for too long.
    #[error("{peer} stopped responding (nothing for {secs} s)")]
    Timeout { peer: String, secs: u64 },
    /// The session ended with an error (ours or the peer's refusal).
    #[error("sync with {peer} ended: {source}")]
    Session {
        peer: String,
        #[source]
        source: SessionError,
    },
    /// The peer refused the request.
    #[error("refused: {0}")]
    Refused(String),
    /// The peer does not hold the community the request is about (another member's node
    /// may).
    #[error("refused: {0}")]
    CommunityNotHeld(String),
    /// A relay URL or address did not parse.
    #[error("{0}")]
    Config(String),
}
