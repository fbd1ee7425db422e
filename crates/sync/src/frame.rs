//! The wire frames of a sync session and their codec.
//!
//! A frame on the wire is a 4-byte big-endian length followed by that many bytes of
//! postcard-encoded [`Frame`]. The length is checked against [`MAX_FRAME_BYTES`] before any
//! byte of the body is read, so a peer cannot make us allocate more than that.

use commonplace_base::{CommunityId, DocId};
use commonplace_model::{DocKind, Genesis, SignedChange};
use serde::{Deserialize, Serialize};

use crate::FrameError;

/// The protocol version in [`Frame::Hello`].
pub const PROTOCOL_VERSION: u32 = 1;
/// Largest frame body accepted.
pub const MAX_FRAME_BYTES: usize = 16 << 20;
/// Most changes one frame may carry.
pub const MAX_CHANGES_PER_FRAME: usize = 100_000;

/// One document's current heads, as announced in a hello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocHeads {
    /// The document.
    pub id: DocId,
    /// Its kind.
    pub kind: DocKind,
    /// Its heads (Automerge change hashes).
    pub heads: Vec<[u8; 32]>,
}

/// What peers say to each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// The first frame of each side: which community, and the heads of every document.
    Hello {
        /// Protocol version.
        version: u32,
        /// The community to sync.
        community: CommunityId,
        /// Its founding record, if the sender holds the community (a member joining for the
        /// first time does not).
        genesis: Option<Genesis>,
        /// Every document the sender holds, with its heads.
        docs: Vec<DocHeads>,
    },
    /// One Automerge sync message for one document, with the changes it carries taken out and
    /// sent beside it with their signatures.
    Sync {
        /// The document.
        doc: DocId,
        /// Its kind.
        kind: DocKind,
        /// The Automerge sync message without its changes.
        #[serde(with = "serde_bytes")]
        message: Vec<u8>,
        /// The changes, each with its signature where one is needed.
        changes: Vec<SignedChange>,
    },
    /// "I have nothing more to send for now, and I have processed this many of your sync
    /// frames in the current phase."
    Idle {
        /// Sync frames of the peer processed so far in this phase.
        received: u64,
    },
    /// The sender ends the session, and says why.
    Refuse {
        /// A human-readable reason.
        reason: String,
    },
}

impl Frame {
    /// Encodes the frame with its length prefix.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        let body = postcard::to_stdvec(self).map_err(|e| FrameError::Malformed(e.to_string()))?;
        if body.len() > MAX_FRAME_BYTES {
            return Err(FrameError::TooLarge(body.len()));
        }
        let len = u32::try_from(body.len()).map_err(|_| FrameError::TooLarge(body.len()))?;
        let mut out = Vec::with_capacity(4 + body.len());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// The body length announced by a 4-byte header, checked against the limit.
    pub fn body_len(header: [u8; 4]) -> Result<usize, FrameError> {
        let len = u32::from_be_bytes(header) as usize;
        if len > MAX_FRAME_BYTES {
            return Err(FrameError::TooLarge(len));
        }
        Ok(len)
    }

    /// Decodes a frame body (without its length prefix) and checks its limits.
    pub fn decode_body(body: &[u8]) -> Result<Frame, FrameError> {
        if body.len() > MAX_FRAME_BYTES {
            return Err(FrameError::TooLarge(body.len()));
        }
        let frame: Frame =
            postcard::from_bytes(body).map_err(|e| FrameError::Malformed(e.to_string()))?;
        if let Frame::Sync { changes, .. } = &frame
            && changes.len() > MAX_CHANGES_PER_FRAME
        {
            return Err(FrameError::TooManyChanges(changes.len()));
        }
        Ok(frame)
    }

    /// A short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Frame::Hello { .. } => "hello",
            Frame::Sync { .. } => "sync",
            Frame::Idle { .. } => "idle",
            Frame::Refuse { .. } => "refuse",
        }
    }
}

/// Splits a byte stream into frames; for transports that deliver arbitrary chunks.
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: Vec<u8>,
}

impl FrameReader {
    /// Adds received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, if one has arrived.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let Some(header) = self.buf.get(..4) else {
            return Ok(None);
        };
        let mut h = [0u8; 4];
        h.copy_from_slice(header);
        let len = Frame::body_len(h)?;
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let frame = Frame::decode_body(&self.buf[4..4 + len])?;
        self.buf.drain(..4 + len);
        Ok(Some(frame))
    }
}
