//! The wire frames of a sync session and their codec.
//!
//! A frame on the wire is a 4-byte big-endian length followed by that many bytes of the
//! postcard-encoded wire form of a [`Frame`]. The length is checked against
//! [`MAX_FRAME_BYTES`] before any byte of the body is read, so a peer cannot make us allocate
//! more than that.
//!
//! In memory a [`Frame::Sync`] holds its changes as a list of [`SignedChange`]s; on the wire
//! they travel as one batch: the changes, each behind its LEB128 length, concatenated and
//! DEFLATE-compressed together (changes of one document share actors, dependencies and much
//! text), and beside the batch only the signatures there are, by position. Decoding inflates
//! at most [`MAX_CHANGE_BYTES`]: a batch that would inflate to more is refused, so a small
//! frame cannot make us allocate much.

use std::io::{Read, Write};

use commonplace_base::{CommunityId, DocId, Signature};
use commonplace_model::{DocKind, Genesis, SignedChange};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::FrameError;

/// The protocol version in [`Frame::Hello`].
pub const PROTOCOL_VERSION: u32 = 2;
/// Largest frame body accepted.
pub const MAX_FRAME_BYTES: usize = 16 << 20;
/// Most changes one frame may carry.
pub const MAX_CHANGES_PER_FRAME: usize = 100_000;
/// Most bytes the changes of one frame may inflate to.
pub const MAX_CHANGE_BYTES: usize = 32 << 20;

/// Batches smaller than this are sent as they are: DEFLATE would not pay for itself.
const COMPRESS_FROM: usize = 128;

/// One document's current heads, as the replica reports them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocHeads {
    /// The document.
    pub id: DocId,
    /// Its kind.
    pub kind: DocKind,
    /// Its heads (Automerge change hashes).
    pub heads: Vec<[u8; 32]>,
}

/// One document as a hello names it: its id, kind and a digest of its heads. Equal digests
/// mean equal heads; the heads themselves travel in Automerge's sync messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocDigest {
    /// The document.
    pub id: DocId,
    /// Its kind.
    pub kind: DocKind,
    /// [`heads_digest`] of its heads.
    pub heads: [u8; 8],
}

impl DocDigest {
    /// The digest form of a document's heads.
    pub fn of(d: &DocHeads) -> DocDigest {
        DocDigest {
            id: d.id,
            kind: d.kind,
            heads: heads_digest(&d.heads),
        }
    }
}

/// A digest of a set of heads, independent of their order: the first 8 bytes of SHA-256 over
/// a domain tag and the sorted hashes. A collision only makes two peers skip a document in one
/// session (a peer that wants to withhold a document can do that anyway).
pub fn heads_digest(heads: &[[u8; 32]]) -> [u8; 8] {
    let mut sorted = heads.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut h = Sha256::new();
    h.update(b"commonplace/heads/v1");
    for x in &sorted {
        h.update(x);
    }
    let full = h.finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&full[..8]);
    out
}

/// What peers say to each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The first frame of each side: which community, and a digest of the heads of every
    /// document (or, in a scoped session, of the community document and the one document).
    Hello {
        /// Protocol version.
        version: u32,
        /// The community to sync.
        community: CommunityId,
        /// Its founding record, if the sender holds the community (a member joining for the
        /// first time does not).
        genesis: Option<Genesis>,
        /// A session about one document only (a live pull): both hellos name the same one and
        /// list only it and the community document.
        scope: Option<DocId>,
        /// The documents the sender holds (in scope), with a digest of their heads.
        docs: Vec<DocDigest>,
    },
    /// One Automerge sync message for one document, with the changes it carries taken out and
    /// sent beside it (compressed together on the wire) with their signatures.
    Sync {
        /// The document.
        doc: DocId,
        /// Its kind.
        kind: DocKind,
        /// The Automerge sync message without its changes.
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

/// How a batch's bytes are encoded.
const STORED: u8 = 0;
const DEFLATE: u8 = 1;

/// The changes of a sync frame as they travel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct WireChanges {
    /// How many changes the batch holds.
    count: u32,
    /// [`STORED`] or [`DEFLATE`] (raw DEFLATE, no zlib header).
    encoding: u8,
    /// For each change, its LEB128 length and its bytes; encoded as `encoding` says.
    #[serde(with = "serde_bytes")]
    data: Vec<u8>,
    /// The signatures the batch carries, by position, positions strictly increasing.
    signatures: Vec<(u32, Signature)>,
}

/// The wire form of [`Frame`] (same variants, in the same order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum WireFrame {
    Hello {
        version: u32,
        community: CommunityId,
        genesis: Option<Genesis>,
        scope: Option<DocId>,
        docs: Vec<DocDigest>,
    },
    Sync {
        doc: DocId,
        kind: DocKind,
        #[serde(with = "serde_bytes")]
        message: Vec<u8>,
        changes: WireChanges,
    },
    Idle {
        received: u64,
    },
    Refuse {
        reason: String,
    },
}

fn write_leb(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_leb(input: &[u8], at: &mut usize) -> Option<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *input.get(*at)?;
        *at += 1;
        n |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

impl WireChanges {
    fn pack(changes: &[SignedChange]) -> Result<WireChanges, FrameError> {
        if changes.len() > MAX_CHANGES_PER_FRAME {
            return Err(FrameError::TooManyChanges(changes.len()));
        }
        let mut raw = Vec::with_capacity(changes.iter().map(|c| c.bytes.len() + 3).sum());
        let mut signatures = Vec::new();
        for (i, c) in changes.iter().enumerate() {
            write_leb(&mut raw, c.bytes.len() as u64);
            raw.extend_from_slice(&c.bytes);
            if let Some(s) = c.signature {
                signatures.push((i as u32, s));
            }
        }
        if raw.len() > MAX_CHANGE_BYTES {
            return Err(FrameError::ChangesTooLarge);
        }
        let (encoding, data) = if raw.len() < COMPRESS_FROM {
            (STORED, raw)
        } else {
            let packed = deflate(&raw)?;
            if packed.len() < raw.len() {
                (DEFLATE, packed)
            } else {
                (STORED, raw)
            }
        };
        Ok(WireChanges {
            count: changes.len() as u32,
            encoding,
            data,
            signatures,
        })
    }

    fn unpack(self) -> Result<Vec<SignedChange>, FrameError> {
        let count = self.count as usize;
        if count > MAX_CHANGES_PER_FRAME {
            return Err(FrameError::TooManyChanges(count));
        }
        let raw = match self.encoding {
            STORED => self.data,
            DEFLATE => {
                let mut out = Vec::new();
                // Read one byte past the limit to tell "exactly at" from "over".
                flate2::read::DeflateDecoder::new(self.data.as_slice())
                    .take(MAX_CHANGE_BYTES as u64 + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| FrameError::Malformed(format!("changes do not inflate: {e}")))?;
                out
            }
            other => {
                return Err(FrameError::Malformed(format!(
                    "unknown change encoding {other}"
                )));
            }
        };
        if raw.len() > MAX_CHANGE_BYTES {
            return Err(FrameError::ChangesTooLarge);
        }
        let mut changes = Vec::with_capacity(count.min(raw.len()));
        let mut at = 0usize;
        for _ in 0..count {
            let len = read_leb(&raw, &mut at)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| FrameError::Malformed("truncated change batch".into()))?;
            let end = at
                .checked_add(len)
                .filter(|e| *e <= raw.len())
                .ok_or_else(|| FrameError::Malformed("truncated change batch".into()))?;
            changes.push(SignedChange {
                bytes: raw[at..end].to_vec(),
                signature: None,
            });
            at = end;
        }
        if at != raw.len() {
            return Err(FrameError::Malformed(
                "bytes left over after the change batch".into(),
            ));
        }
        let mut last: Option<u32> = None;
        for (i, s) in self.signatures {
            if last.is_some_and(|l| i <= l) {
                return Err(FrameError::Malformed(
                    "signatures out of order in the change batch".into(),
                ));
            }
            last = Some(i);
            let c = changes.get_mut(i as usize).ok_or_else(|| {
                FrameError::Malformed("a signature names no change of the batch".into())
            })?;
            c.signature = Some(s);
        }
        Ok(changes)
    }
}

impl Frame {
    fn to_wire(&self) -> Result<WireFrame, FrameError> {
        Ok(match self {
            Frame::Hello {
                version,
                community,
                genesis,
                scope,
                docs,
            } => WireFrame::Hello {
                version: *version,
                community: *community,
                genesis: *genesis,
                scope: *scope,
                docs: docs.clone(),
            },
            Frame::Sync {
                doc,
                kind,
                message,
                changes,
            } => WireFrame::Sync {
                doc: *doc,
                kind: *kind,
                message: message.clone(),
                changes: WireChanges::pack(changes)?,
            },
            Frame::Idle { received } => WireFrame::Idle {
                received: *received,
            },
            Frame::Refuse { reason } => WireFrame::Refuse {
                reason: reason.clone(),
            },
        })
    }

    fn from_wire(w: WireFrame) -> Result<Frame, FrameError> {
        Ok(match w {
            WireFrame::Hello {
                version,
                community,
                genesis,
                scope,
                docs,
            } => Frame::Hello {
                version,
                community,
                genesis,
                scope,
                docs,
            },
            WireFrame::Sync {
                doc,
                kind,
                message,
                changes,
            } => Frame::Sync {
                doc,
                kind,
                message,
                changes: changes.unpack()?,
            },
            WireFrame::Idle { received } => Frame::Idle { received },
            WireFrame::Refuse { reason } => Frame::Refuse { reason },
        })
    }

    /// Encodes the frame with its length prefix.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        let wire = self.to_wire()?;
        Self::encode_wire(&wire)
    }

    fn encode_wire(wire: &WireFrame) -> Result<Vec<u8>, FrameError> {
        let body = postcard::to_stdvec(wire).map_err(|e| FrameError::Malformed(e.to_string()))?;
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
        let wire: WireFrame =
            postcard::from_bytes(body).map_err(|e| FrameError::Malformed(e.to_string()))?;
        Frame::from_wire(wire)
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

/// Raw DEFLATE (no zlib header), as change batches are compressed.
pub fn deflate(raw: &[u8]) -> Result<Vec<u8>, FrameError> {
    let mut enc = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(raw.len() / 4),
        flate2::Compression::default(),
    );
    enc.write_all(raw)
        .and_then(|()| enc.finish())
        .map_err(|e| FrameError::Malformed(format!("could not compress changes: {e}")))
}

/// Hand-made wire frames, for tests that play a hostile peer: a sync frame whose change batch
/// is exactly `data` (already encoded as `encoding`: 0 stored, 1 raw DEFLATE), claiming `count`
/// changes, with `signatures` by position.
pub fn raw_sync_frame(
    doc: DocId,
    kind: DocKind,
    message: Vec<u8>,
    count: u32,
    encoding: u8,
    data: Vec<u8>,
    signatures: Vec<(u32, Signature)>,
) -> Result<Vec<u8>, FrameError> {
    Frame::encode_wire(&WireFrame::Sync {
        doc,
        kind,
        message,
        changes: WireChanges {
            count,
            encoding,
            data,
            signatures,
        },
    })
}

/// The change batch of a sync frame as it travels, for tests: `(count, encoding, data)`.
pub fn raw_batch(changes: &[SignedChange]) -> Result<(u32, u8, Vec<u8>), FrameError> {
    let w = WireChanges::pack(changes)?;
    Ok((w.count, w.encoding, w.data))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn change(bytes: Vec<u8>, sig: Option<u8>) -> SignedChange {
        SignedChange {
            bytes,
            signature: sig.map(|s| Signature([s; 64])),
        }
    }

    fn sync(changes: Vec<SignedChange>) -> Frame {
        Frame::Sync {
            doc: DocId::from_bytes([1; 16]),
            kind: DocKind::Thread,
            message: vec![0x42, 1, 2],
            changes,
        }
    }

    proptest! {
        #[test]
        fn sync_frames_round_trip(
            changes in proptest::collection::vec(
                (proptest::collection::vec(any::<u8>(), 0..400), proptest::option::of(any::<u8>())),
                0..40,
            ),
            repeat in 0usize..4,
        ) {
            // Repetitive batches (compressed) and random ones (stored) alike.
            let mut list: Vec<SignedChange> = changes.into_iter().map(|(b, s)| change(b, s)).collect();
            for _ in 0..repeat {
                list.extend(list.clone());
            }
            let f = sync(list);
            let bytes = f.encode().unwrap();
            let mut r = FrameReader::default();
            r.push(&bytes);
            prop_assert_eq!(r.next_frame().unwrap(), Some(f));
        }

        #[test]
        fn hellos_round_trip(n in 0usize..50, scoped in any::<bool>()) {
            let docs: Vec<DocDigest> = (0..n)
                .map(|i| DocDigest { id: DocId::from_bytes([i as u8; 16]), kind: DocKind::Thread, heads: [i as u8; 8] })
                .collect();
            let f = Frame::Hello {
                version: PROTOCOL_VERSION,
                community: CommunityId::from_bytes([3; 16]),
                genesis: None,
                scope: scoped.then(|| DocId::from_bytes([5; 16])),
                docs,
            };
            let bytes = f.encode().unwrap();
            prop_assert_eq!(Frame::decode_body(&bytes[4..]).unwrap(), f);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = Frame::decode_body(&bytes);
        }
    }

    #[test]
    fn repetitive_changes_are_compressed() {
        let list: Vec<SignedChange> = (0..50)
            .map(|i| change([b"z".repeat(290), vec![i]].concat(), None))
            .collect();
        let raw: usize = list.iter().map(|c| c.bytes.len()).sum();
        let bytes = sync(list).encode().unwrap();
        assert!(bytes.len() * 10 < raw, "{} of {raw}", bytes.len());
    }

    #[test]
    fn a_decompression_bomb_is_refused() {
        // Some tens of kilobytes that inflate to more than the limit.
        let data = deflate(&vec![0u8; MAX_CHANGE_BYTES + 1]).unwrap();
        assert!(data.len() < 64 << 10, "{}", data.len());
        let bytes = raw_sync_frame(
            DocId::from_bytes([1; 16]),
            DocKind::Thread,
            vec![],
            1,
            DEFLATE,
            data,
            vec![],
        )
        .unwrap();
        assert_eq!(
            Frame::decode_body(&bytes[4..]),
            Err(FrameError::ChangesTooLarge)
        );
    }

    #[test]
    fn damaged_batches_are_malformed() {
        let list: Vec<SignedChange> = (0..20)
            .map(|i| change([b"y".repeat(200), vec![i]].concat(), Some(i)))
            .collect();
        let (count, encoding, data) = raw_batch(&list).unwrap();
        assert_eq!(encoding, DEFLATE);
        let frame = |count, encoding, data, sigs| {
            let b = raw_sync_frame(
                DocId::from_bytes([1; 16]),
                DocKind::Thread,
                vec![],
                count,
                encoding,
                data,
                sigs,
            )
            .unwrap();
            Frame::decode_body(&b[4..])
        };
        let malformed = |r: Result<Frame, FrameError>| {
            assert!(matches!(r, Err(FrameError::Malformed(_))), "{r:?}")
        };
        // Truncated DEFLATE stream, wrong count either way, unknown encoding.
        malformed(frame(
            count,
            encoding,
            data[..data.len() / 2].to_vec(),
            vec![],
        ));
        malformed(frame(count + 1, encoding, data.clone(), vec![]));
        malformed(frame(count - 1, encoding, data.clone(), vec![]));
        malformed(frame(count, 7, data.clone(), vec![]));
        // Signatures naming no change, or out of order.
        let s = Signature([1; 64]);
        malformed(frame(count, encoding, data.clone(), vec![(count, s)]));
        malformed(frame(count, encoding, data.clone(), vec![(3, s), (2, s)]));
        malformed(frame(count, encoding, data.clone(), vec![(3, s), (3, s)]));
        // Too many changes claimed.
        assert_eq!(
            frame(MAX_CHANGES_PER_FRAME as u32 + 1, encoding, data, vec![]),
            Err(FrameError::TooManyChanges(MAX_CHANGES_PER_FRAME + 1))
        );
    }

    #[test]
    fn heads_digest_ignores_order() {
        let a = [[1u8; 32], [2u8; 32]];
        let b = [[2u8; 32], [1u8; 32]];
        assert_eq!(heads_digest(&a), heads_digest(&b));
        assert_ne!(heads_digest(&a), heads_digest(&a[..1]));
        assert_ne!(heads_digest(&[]), heads_digest(&a[..1]));
    }
}
