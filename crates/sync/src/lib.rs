//! Sync sessions for Commonplace, with no I/O.
//!
//! A [`Session`] syncs one community (or, for a live pull, one document of it) with one peer:
//! hellos with a digest of every document's heads, then Automerge's own sync protocol per
//! document inside our [`Frame`]s, which carry the changes beside the Automerge message,
//! compressed together, with one signature per actor. Every change is verified
//! (signature, membership, right to write) before Automerge sees it; one refused change ends
//! the session. The network layer only moves the frames; storage is behind [`Replica`].
//! Live announcements ([`Announcement`], with the changes they [`Carried`]) have their codec
//! here too, so that every decoder of a peer's bytes is pure and can be fuzzed alone.
//!
//! ```
//! use commonplace_sync::{Frame, FrameReader};
//!
//! let bytes = Frame::Idle { received: 3 }.encode().unwrap();
//! let mut reader = FrameReader::default();
//! reader.push(&bytes[..2]);
//! assert_eq!(reader.next_frame().unwrap(), None); // not whole yet
//! reader.push(&bytes[2..]);
//! assert_eq!(reader.next_frame().unwrap(), Some(Frame::Idle { received: 3 }));
//! ```

mod announce;
mod frame;
mod session;

pub mod memory;

pub use announce::{
    AnnounceError, Announcement, Carried, MAX_ANNOUNCEMENT, MAX_CARRIED_CHANGES,
    MAX_CARRIED_INFLATED, SignedAnnouncement,
};
pub use frame::{
    DocDigest, DocHeads, Frame, FrameReader, MAX_CHANGE_BYTES, MAX_CHANGES_PER_FRAME,
    MAX_FRAME_BYTES, PROTOCOL_VERSION, deflate, heads_digest, raw_batch, raw_sync_frame,
};
pub use session::{Phase, Replica, Session, SessionStats, heads_of};

use commonplace_model::RejectReason;
use thiserror::Error;

/// A frame could not be read (or written). Library errors are kept as the `source`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Over [`MAX_FRAME_BYTES`].
    #[error("frame of {0} bytes is over the limit of {MAX_FRAME_BYTES}")]
    TooLarge(usize),
    /// Over [`MAX_CHANGES_PER_FRAME`].
    #[error("frame with {0} changes is over the limit of {MAX_CHANGES_PER_FRAME}")]
    TooManyChanges(usize),
    /// The changes of a frame inflate to more than [`MAX_CHANGE_BYTES`].
    #[error("the changes of a frame inflate to more than {MAX_CHANGE_BYTES} bytes")]
    ChangesTooLarge,
    /// Not a frame: its body does not decode.
    #[error("malformed frame: {0}")]
    Decode(#[source] postcard::Error),
    /// The frame's changes are not valid raw DEFLATE.
    #[error("malformed frame: changes do not inflate: {0}")]
    Inflate(#[source] std::io::Error),
    /// Decodes, but breaks a rule of the format (what is wrong is said in words).
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// A frame could not be encoded (only on sending).
    #[error("malformed frame: {0}")]
    Encode(#[source] postcard::Error),
    /// Changes could not be compressed (only on sending).
    #[error("malformed frame: could not compress changes: {0}")]
    Compress(#[source] std::io::Error),
}

/// Storage failed under a session. The cause is the replica's own error (the node's store
/// error, say), kept as the `source`.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct ReplicaError(#[source] Box<dyn std::error::Error + Send + Sync + 'static>);

impl ReplicaError {
    /// Storage failed with `cause` (an error, or a sentence saying what went wrong).
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        ReplicaError(cause.into())
    }
}

/// Why a session ended early.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SessionError {
    /// A change was refused by verification; nothing of its batch was stored.
    #[error("refused a change from the peer: {0}")]
    Rejected(#[from] RejectReason),
    /// The peer broke the protocol (what it did is said in words).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The peer's Automerge sync message does not decode.
    #[error("protocol error: bad sync message: {0}")]
    BadSyncMessage(#[source] Box<automerge::sync::ReadMessageError>),
    /// Automerge refused the peer's sync message.
    #[error("protocol error: sync message refused: {0}")]
    SyncMessageRefused(#[source] Box<automerge::AutomergeError>),
    /// A frame could not be read.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The peer ended the session; the sentence is the peer's reason (data, shown as is).
    #[error("the peer ended the session: {0}")]
    Refused(String),
    /// Local storage failed.
    #[error("local storage failed: {0}")]
    Replica(#[from] ReplicaError),
}

impl SessionError {
    /// The frame that tells the peer why we end the session.
    pub fn refusal(&self) -> Frame {
        Frame::Refuse {
            reason: self.to_string(),
        }
    }
}
