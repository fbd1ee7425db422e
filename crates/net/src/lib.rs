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
use commonplace_model::invite::InviteError;
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
    /// The invitation cannot be used (expired, used, revoked, forged, not a coordinator's):
    /// the joiner receives the same kind.
    #[error("{0}")]
    Invite(#[from] InviteError),
    /// Refused for the reason given (a sentence for the joiner to read).
    #[error("{0}")]
    Denied(String),
}

impl From<String> for Refusal {
    fn from(reason: String) -> Self {
        Refusal::Denied(reason)
    }
}

/// A network operation failed. Each variant keeps the library's error as its `source`; the
/// message is for people, and callers decide on the variant.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NetError {
    /// The endpoint could not be bound.
    #[error("could not start networking: {0}")]
    Bind(#[from] BindError),
    /// The peer could not be reached.
    #[error("could not reach {peer}: {source}")]
    Connect {
        peer: String,
        #[source]
        source: iroh::endpoint::ConnectError,
    },
    /// The stream failed (the peer vanished, the connection dropped).
    #[error("connection to {peer} failed: {source}")]
    Stream {
        peer: String,
        #[source]
        source: StreamError,
    },
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
    /// The peer refused the request; the sentence is the peer's reason (data, shown as is).
    #[error("refused: {0}")]
    Refused(String),
    /// The peer refused the invitation, for this reason (it expired, was used or revoked, ...).
    #[error("refused: {0}")]
    InviteRefused(#[source] InviteError),
    /// The peer does not hold the community the request is about (another member's node
    /// may); the sentence is the peer's.
    #[error("refused: {0}")]
    CommunityNotHeld(String),
    /// No node was given to join through.
    #[error("refused: no node to join through")]
    NoPeer,
    /// An announcement is over [`MAX_ANNOUNCEMENT`].
    #[error("announcement of {size} bytes is over the {MAX_ANNOUNCEMENT}-byte limit")]
    TooLarge { size: usize },
    /// The network was shut down while the operation waited for it.
    #[error("the network was shut down")]
    ShutDown,
    /// A relay URL or address did not parse.
    #[error("{0}")]
    Config(#[from] ConfigError),
}

/// Why the endpoint could not be started.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BindError {
    /// The bind address is not one iroh can use.
    #[error("{0}")]
    Address(#[source] iroh::endpoint::InvalidSocketAddr),
    /// iroh could not bind the endpoint (the port is taken, no network).
    #[error("{0}")]
    Endpoint(#[source] iroh::endpoint::BindError),
    /// Local-network discovery (mDNS) could not start.
    #[error("local network discovery: {0}")]
    LocalDiscovery(#[source] iroh::address_lookup::AddressLookupBuilderError),
    /// The endpoint closed before it was ready.
    #[error("{0}")]
    Closed(#[source] iroh::endpoint::EndpointError),
}

/// Why a connection or stream failed: iroh's (or the frame codec's) error, or the peer
/// breaking off the protocol.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The connection was lost or could not open a stream.
    #[error("{0}")]
    Connection(#[from] iroh::endpoint::ConnectionError),
    /// Reading failed.
    #[error("{0}")]
    Read(#[from] iroh::endpoint::ReadError),
    /// Reading a frame's header or body failed.
    #[error("{0}")]
    ReadExact(#[from] iroh::endpoint::ReadExactError),
    /// Reading a whole answer failed (or it was over the limit).
    #[error("{0}")]
    ReadToEnd(#[from] iroh::endpoint::ReadToEndError),
    /// Writing failed.
    #[error("{0}")]
    Write(#[from] iroh::endpoint::WriteError),
    /// The stream was already closed.
    #[error("{0}")]
    Closed(#[from] iroh::endpoint::ClosedStream),
    /// A frame could not be encoded.
    #[error("{0}")]
    Encode(#[from] commonplace_sync::FrameError),
    /// The gossip layer failed.
    #[error("{0}")]
    Gossip(#[from] iroh_gossip::api::ApiError),
    /// The worker that handled the peer's frames stopped.
    #[error("worker failed: {0}")]
    Worker(#[from] tokio::task::JoinError),
    /// The peer's endpoint id is not a member id.
    #[error("{0}")]
    PeerKey(#[from] commonplace_base::SignatureError),
    /// The peer's answer did not decode.
    #[error("the list of communities did not decode")]
    Answer(#[source] postcard::Error),
    /// The peer answered nothing.
    #[error("no answer")]
    NoAnswer,
    /// The peer's first frame did not come, or was not a hello.
    #[error("no hello")]
    NoHello,
    /// The peer's first frame was not a hello.
    #[error("first frame was not a hello")]
    NotHello,
    /// The stream ended in the middle of a frame.
    #[error("the stream ended inside a frame")]
    EndedInsideFrame,
    /// The peer ended the session before it was complete.
    #[error("the peer ended the session before it was complete")]
    EndedEarly,
    /// The session ended without a reason.
    #[error("the session ended early")]
    SessionEndedEarly,
}

/// A network setting or address that cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A custom relay's URL does not parse.
    #[error("relay URL '{url}': {source}")]
    RelayUrl {
        url: String,
        #[source]
        source: iroh::RelayUrlParseError,
    },
    /// The connection idle timeout is out of range.
    #[error("idle timeout: {0}")]
    IdleTimeout(#[source] iroh::endpoint::VarIntBoundsExceeded),
    /// The bytes of a peer address do not decode.
    #[error("the peer address is damaged")]
    DamagedPeerAddress(#[source] postcard::Error),
    /// The text is not a peer address.
    #[error("'{text}' is not a peer address (they start with {prefix})")]
    NotAPeerAddress { text: String, prefix: &'static str },
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_stream_failure_keeps_the_codecs_error_as_its_source() {
        let source = postcard::from_bytes::<Vec<[u8; 16]>>(&[5]).unwrap_err();
        let err = NetError::Stream {
            peer: "abc".into(),
            source: StreamError::Answer(source),
        };
        let stream = err.source().expect("the stream error");
        assert!(stream.is::<StreamError>());
        assert!(stream.source().is_some_and(|e| e.is::<postcard::Error>()));
        assert_eq!(
            err.to_string(),
            "connection to abc failed: the list of communities did not decode"
        );
    }

    #[test]
    fn a_relay_url_that_does_not_parse_keeps_irohs_error() {
        let url = "not a url".to_owned();
        let source = url.parse::<iroh::RelayUrl>().unwrap_err();
        let err = NetError::from(ConfigError::RelayUrl { url, source });
        assert!(
            err.to_string().starts_with("relay URL 'not a url': "),
            "{err}"
        );
        let config = err.source().expect("the config error");
        assert!(
            config
                .source()
                .is_some_and(|e| e.is::<iroh::RelayUrlParseError>())
        );
    }
}
