//! The wire frames of a sync session and their codec.
//!
//! A frame on the wire is a 4-byte big-endian length followed by that many bytes of the
//! postcard-encoded wire form of a [`Frame`]. The length is checked against
//! [`MAX_FRAME_BYTES`] before any byte of the body is read, so a peer cannot make us allocate
//! more than that.
//!
//! In memory a [`Frame::Sync`] holds its changes as a list of [`SignedChange`]s; on the wire
//! they travel as one batch: each change chunk without its header (magic bytes, checksum,
//! type, length: the receiver rebuilds them), its dependencies on earlier changes of the
//! batch as back references instead of 32-byte hashes, all concatenated and DEFLATE-compressed
//! together (changes of one document share actors and much text), and beside the batch only
//! the signatures there are, by position. The receiver rebuilds every change byte for byte,
//! so the hashes the signatures cover are computed from what it will apply. Decoding inflates
//! at most [`MAX_CHANGE_BYTES`], and the rebuilt changes may add up to no more: a batch that
//! would exceed that is refused, so a small frame cannot make us allocate much.

use std::collections::HashMap;
use std::io::{Read, Write};

use commonplace_base::{CommunityId, DocId, Signature};
use commonplace_model::{DocKind, Genesis, SignedChange};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::FrameError;

/// The protocol version in [`Frame::Hello`].
pub const PROTOCOL_VERSION: u32 = 3;
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

/// The magic bytes that open every Automerge chunk.
const CHUNK_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Automerge's chunk type of an (uncompressed) change.
const CHUNK_CHANGE: u8 = 1;

/// A batch entry holding a change's bytes as they are.
const ENTRY_VERBATIM: u8 = 0;
/// A batch entry holding a change chunk without its header, its dependencies by position
/// where they are earlier changes of the batch.
const ENTRY_CHANGE: u8 = 1;

/// A dependency given by its hash (a back reference is the distance to an earlier change).
const DEP_HASH: u64 = 0;

fn leb_len(n: u64) -> usize {
    let mut out = Vec::with_capacity(10);
    write_leb(&mut out, n);
    out.len()
}

/// Automerge's hash of a chunk: SHA-256 over its type, its LEB128 length and its data.
fn chunk_hash(chunk_type: u8, data_len: usize, parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut head = Vec::with_capacity(11);
    head.push(chunk_type);
    write_leb(&mut head, data_len as u64);
    h.update(&head);
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// A change chunk split into what the batch sends: its dependencies and the rest of its data.
/// `None` when the bytes are not a change chunk that [`rebuild_change`] gives back exactly
/// (those travel verbatim).
struct SplitChange<'a> {
    hash: [u8; 32],
    deps: Vec<[u8; 32]>,
    rest: &'a [u8],
}

fn split_change(bytes: &[u8]) -> Option<SplitChange<'_>> {
    let body_at = 9;
    if bytes.get(..4)? != CHUNK_MAGIC || *bytes.get(8)? != CHUNK_CHANGE {
        return None;
    }
    let mut at = body_at;
    let len = usize::try_from(read_leb(bytes, &mut at)?).ok()?;
    // Only minimal encodings, so that the rebuilt header is byte for byte the same.
    if at - body_at != leb_len(len as u64) || bytes.len() - at != len {
        return None;
    }
    let data = &bytes[at..];
    let mut d = 0usize;
    let ndeps = usize::try_from(read_leb(data, &mut d)?).ok()?;
    if d != leb_len(ndeps as u64) || ndeps > data.len() / 32 {
        return None;
    }
    let mut deps = Vec::with_capacity(ndeps);
    for _ in 0..ndeps {
        let h: [u8; 32] = data.get(d..d + 32)?.try_into().ok()?;
        deps.push(h);
        d += 32;
    }
    let hash = chunk_hash(CHUNK_CHANGE, len, &[data]);
    if bytes[4..8] != hash[..4] {
        return None;
    }
    Some(SplitChange {
        hash,
        deps,
        rest: &data[d..],
    })
}

/// Rebuilds a change chunk from its dependencies and the rest of its data; returns the bytes
/// and the change's hash.
fn rebuild_change(deps: &[[u8; 32]], rest: &[u8]) -> (Vec<u8>, [u8; 32]) {
    let mut deps_part = Vec::with_capacity(10 + deps.len() * 32);
    write_leb(&mut deps_part, deps.len() as u64);
    for d in deps {
        deps_part.extend_from_slice(d);
    }
    let len = deps_part.len() + rest.len();
    let hash = chunk_hash(CHUNK_CHANGE, len, &[&deps_part, rest]);
    let mut out = Vec::with_capacity(9 + leb_len(len as u64) + len);
    out.extend_from_slice(&CHUNK_MAGIC);
    out.extend_from_slice(&hash[..4]);
    out.push(CHUNK_CHANGE);
    write_leb(&mut out, len as u64);
    out.extend_from_slice(&deps_part);
    out.extend_from_slice(rest);
    (out, hash)
}

fn malformed(what: &str) -> FrameError {
    FrameError::Malformed(what.into())
}

impl WireChanges {
    fn pack(changes: &[SignedChange]) -> Result<WireChanges, FrameError> {
        if changes.len() > MAX_CHANGES_PER_FRAME {
            return Err(FrameError::TooManyChanges(changes.len()));
        }
        let mut raw = Vec::with_capacity(changes.iter().map(|c| c.bytes.len()).sum());
        let mut signatures = Vec::new();
        let mut position: HashMap<[u8; 32], usize> = HashMap::with_capacity(changes.len());
        let mut total = 0usize;
        for (i, c) in changes.iter().enumerate() {
            total += c.bytes.len();
            match split_change(&c.bytes) {
                Some(split) => {
                    raw.push(ENTRY_CHANGE);
                    write_leb(&mut raw, split.deps.len() as u64);
                    for d in &split.deps {
                        match position.get(d) {
                            Some(p) => write_leb(&mut raw, (i - p) as u64),
                            None => {
                                write_leb(&mut raw, DEP_HASH);
                                raw.extend_from_slice(d);
                            }
                        }
                    }
                    write_leb(&mut raw, split.rest.len() as u64);
                    raw.extend_from_slice(split.rest);
                    position.insert(split.hash, i);
                }
                None => {
                    raw.push(ENTRY_VERBATIM);
                    write_leb(&mut raw, c.bytes.len() as u64);
                    raw.extend_from_slice(&c.bytes);
                }
            }
            if let Some(s) = c.signature {
                signatures.push((i as u32, s));
            }
        }
        if total > MAX_CHANGE_BYTES || raw.len() > MAX_CHANGE_BYTES {
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
                    .map_err(FrameError::Inflate)?;
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
        let truncated = || malformed("truncated change batch");
        let read_len = |at: &mut usize| -> Result<usize, FrameError> {
            read_leb(&raw, at)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(truncated)
        };
        let mut changes: Vec<SignedChange> = Vec::with_capacity(count.min(raw.len()));
        // The hash of every change so far, for back references.
        let mut hashes: Vec<Option<[u8; 32]>> = Vec::with_capacity(count.min(raw.len()));
        // Rebuilt changes are larger than their entries (a back reference of one byte becomes
        // 32): bound what they add up to as the inflated batch is bounded.
        let mut total = 0usize;
        let mut at = 0usize;
        for i in 0..count {
            let form = *raw.get(at).ok_or_else(truncated)?;
            at += 1;
            let (bytes, hash) = match form {
                ENTRY_VERBATIM => {
                    let len = read_len(&mut at)?;
                    let end = at
                        .checked_add(len)
                        .filter(|e| *e <= raw.len())
                        .ok_or_else(truncated)?;
                    let bytes = raw[at..end].to_vec();
                    at = end;
                    (bytes, None)
                }
                ENTRY_CHANGE => {
                    let ndeps = read_len(&mut at)?;
                    // Each dependency takes at least one byte of the batch.
                    if ndeps > raw.len() - at {
                        return Err(truncated());
                    }
                    let mut deps = Vec::with_capacity(ndeps);
                    for _ in 0..ndeps {
                        let tag = read_leb(&raw, &mut at).ok_or_else(truncated)?;
                        if tag == DEP_HASH {
                            let h: [u8; 32] = raw
                                .get(at..at + 32)
                                .and_then(|h| h.try_into().ok())
                                .ok_or_else(truncated)?;
                            at += 32;
                            deps.push(h);
                        } else {
                            let back = usize::try_from(tag)
                                .ok()
                                .and_then(|t| i.checked_sub(t))
                                .and_then(|p| hashes.get(p).copied().flatten())
                                .ok_or_else(|| {
                                    malformed("a dependency names no earlier change of the batch")
                                })?;
                            deps.push(back);
                        }
                    }
                    let len = read_len(&mut at)?;
                    let end = at
                        .checked_add(len)
                        .filter(|e| *e <= raw.len())
                        .ok_or_else(truncated)?;
                    if total + 16 + ndeps * 32 + len > MAX_CHANGE_BYTES {
                        return Err(FrameError::ChangesTooLarge);
                    }
                    let (bytes, hash) = rebuild_change(&deps, &raw[at..end]);
                    at = end;
                    (bytes, Some(hash))
                }
                other => {
                    return Err(FrameError::Malformed(format!(
                        "unknown change entry form {other}"
                    )));
                }
            };
            total += bytes.len();
            if total > MAX_CHANGE_BYTES {
                return Err(FrameError::ChangesTooLarge);
            }
            hashes.push(hash);
            changes.push(SignedChange {
                bytes,
                signature: None,
            });
        }
        if at != raw.len() {
            return Err(malformed("bytes left over after the change batch"));
        }
        let mut last: Option<u32> = None;
        for (i, s) in self.signatures {
            if last.is_some_and(|l| i <= l) {
                return Err(malformed("signatures out of order in the change batch"));
            }
            last = Some(i);
            let c = changes
                .get_mut(i as usize)
                .ok_or_else(|| malformed("a signature names no change of the batch"))?;
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
        let body = postcard::to_stdvec(wire).map_err(FrameError::Encode)?;
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
        let wire: WireFrame = postcard::from_bytes(body).map_err(FrameError::Decode)?;
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
        .map_err(FrameError::Compress)
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
        assert!(matches!(
            Frame::decode_body(&bytes[4..]),
            Err(FrameError::ChangesTooLarge)
        ));
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
            assert!(
                matches!(r, Err(FrameError::Malformed(_) | FrameError::Inflate(_))),
                "{r:?}"
            )
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
        assert!(matches!(
            frame(MAX_CHANGES_PER_FRAME as u32 + 1, encoding, data, vec![]),
            Err(FrameError::TooManyChanges(n)) if n == MAX_CHANGES_PER_FRAME + 1
        ));
    }

    /// Real Automerge changes: a chain by one actor, a fork by another, and a merge with two
    /// dependencies; in an order where every dependency comes first.
    fn real_changes(n: usize) -> Vec<SignedChange> {
        use automerge::transaction::Transactable;
        let mut a = automerge::Automerge::new();
        a.set_actor(automerge::ActorId::from([1u8; 48].as_slice()));
        let mut b = a
            .fork()
            .with_actor(automerge::ActorId::from([2u8; 48].as_slice()));
        for (doc, who) in [(&mut a, "a"), (&mut b, "b")] {
            for i in 0..n {
                let mut tx = doc.transaction();
                tx.put(automerge::ROOT, format!("{who}{i}"), "z".repeat(290))
                    .unwrap();
                tx.commit();
            }
        }
        a.merge(&mut b).unwrap();
        let mut tx = a.transaction();
        tx.put(automerge::ROOT, "merged", true).unwrap();
        tx.commit();
        a.get_changes(&[])
            .into_iter()
            .enumerate()
            .map(|(i, c)| change(c.raw_bytes().to_vec(), (i % 7 == 0).then_some(i as u8)))
            .collect()
    }

    #[test]
    fn real_changes_are_rebuilt_byte_for_byte_and_dependencies_shrink() {
        let list = real_changes(30);
        assert!(
            list.iter()
                .any(|c| split_change(&c.bytes).is_some_and(|s| s.deps.len() == 2))
        );
        let w = WireChanges::pack(&list).unwrap();
        let back = w.clone().unpack().unwrap();
        assert_eq!(back, list);
        for c in &back {
            let parsed = automerge::Change::from_bytes(c.bytes.clone()).unwrap();
            assert_eq!(split_change(&c.bytes).unwrap().hash, parsed.hash().0);
        }
        // Before compression, every dependency inside the batch costs one byte, not 32, and
        // no change carries its header.
        let raw: usize = list.iter().map(|c| c.bytes.len()).sum();
        let mut stored = w;
        stored.data = {
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(stored.data.as_slice())
                .read_to_end(&mut out)
                .unwrap();
            out
        };
        assert!(
            stored.data.len() + 30 * (list.len() - 2) < raw,
            "{} of {raw}",
            stored.data.len()
        );
        stored.encoding = STORED;
        assert_eq!(stored.unpack().unwrap(), list);
        // A batch that starts halfway through carries the dependencies it lacks as hashes.
        let tail = list[list.len() / 2..].to_vec();
        assert_eq!(WireChanges::pack(&tail).unwrap().unpack().unwrap(), tail);
    }

    #[test]
    fn bad_back_references_are_refused() {
        let list = real_changes(3);
        let split = split_change(&list[1].bytes).unwrap();
        let entry = |ndeps: u64, deps: &[u64]| {
            let mut raw = vec![ENTRY_CHANGE];
            write_leb(&mut raw, ndeps);
            for d in deps {
                write_leb(&mut raw, *d);
            }
            write_leb(&mut raw, split.rest.len() as u64);
            raw.extend_from_slice(split.rest);
            raw
        };
        let unpack = |count: u32, raw: Vec<u8>| {
            WireChanges {
                count,
                encoding: STORED,
                data: raw,
                signatures: vec![],
            }
            .unpack()
        };
        // The first change of a batch has nothing to refer back to; nor may a reference reach
        // past the start, or refer to a change that travelled verbatim.
        assert!(matches!(
            unpack(1, entry(1, &[1])),
            Err(FrameError::Malformed(_))
        ));
        let two = [entry(0, &[]), entry(1, &[2])].concat();
        assert!(matches!(unpack(2, two), Err(FrameError::Malformed(_))));
        let mut verbatim = vec![ENTRY_VERBATIM];
        write_leb(&mut verbatim, 3);
        verbatim.extend_from_slice(b"abc");
        let after_verbatim = [verbatim, entry(1, &[1])].concat();
        assert!(matches!(
            unpack(2, after_verbatim),
            Err(FrameError::Malformed(_))
        ));
        // More dependencies claimed than the batch has bytes; an unknown entry form.
        assert!(matches!(
            unpack(1, entry(1 << 40, &[])),
            Err(FrameError::Malformed(_))
        ));
        assert!(matches!(
            unpack(1, vec![9, 0]),
            Err(FrameError::Malformed(_))
        ));
        // A good reference rebuilds the change the sender had.
        let good = [entry(0, &[]), entry(1, &[1])].concat();
        let back = unpack(2, good).unwrap();
        let first = split_change(&back[0].bytes).unwrap();
        assert_eq!(split_change(&back[1].bytes).unwrap().deps, vec![first.hash]);
    }

    #[test]
    fn back_references_cannot_rebuild_more_than_the_limit() {
        // One byte per dependency in the batch, 32 rebuilt: a small frame must not become
        // more than the limit of rebuilt changes.
        let n = MAX_CHANGE_BYTES / 32 + 1;
        let mut raw = vec![ENTRY_CHANGE, 0, 0, ENTRY_CHANGE];
        write_leb(&mut raw, n as u64);
        raw.extend(std::iter::repeat_n(1u8, n));
        raw.push(0);
        let data = deflate(&raw).unwrap();
        let bytes = raw_sync_frame(
            DocId::from_bytes([1; 16]),
            DocKind::Thread,
            vec![],
            2,
            DEFLATE,
            data,
            vec![],
        )
        .unwrap();
        assert!(bytes.len() < 1 << 20, "{}", bytes.len());
        assert!(matches!(
            Frame::decode_body(&bytes[4..]),
            Err(FrameError::ChangesTooLarge)
        ));
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
