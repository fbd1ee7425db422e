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

/// A frame could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
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
    /// Not a frame.
    #[error("malformed frame: {0}")]
    Malformed(String),
}

/// Storage failed under a session.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{0}")]
pub struct ReplicaError(pub String);

/// Why a session ended early.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// A change was refused by verification; nothing of its batch was stored.
    #[error("refused a change from the peer: {0}")]
    Rejected(#[from] RejectReason),
    /// The peer broke the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A frame could not be read.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The peer ended the session.
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
