//! Live announcements and the changes they carry: their codec, with no I/O.
//!
//! When a member writes, its node announces the document's new heads on the community's
//! gossip topic, signed, and carries the changes at those heads when they fit (see the node's
//! live updates). This module only turns an [`Announcement`] into the bytes that travel and
//! back, and checks what can be checked without state: the encoding, the limits and the
//! announcer's signature. Whether the announcer may write, and whether the carried changes
//! pass verification, is the ingest gate's job, never this module's.
//!
//! Every limit is checked before the allocation it guards: the whole announcement against
//! [`MAX_ANNOUNCEMENT`], inflated carried changes against [`MAX_CARRIED_INFLATED`] (read one
//! byte past it, never more), and their count against [`MAX_CARRIED_CHANGES`] as the count is
//! read, before any change is decoded.
//!
//! ```
//! use commonplace_base::{CommunityId, DocId, SecretKey, Timestamp};
//! use commonplace_model::{DocKind, SignedChange};
//! use commonplace_sync::{Announcement, Carried};
//!
//! let key = SecretKey::from_seed([1; 32]);
//! let change = SignedChange { bytes: vec![1, 2, 3], signature: None };
//! let a = Announcement {
//!     community: CommunityId::from_bytes([2; 16]),
//!     doc: DocId::from_bytes([3; 16]),
//!     kind: DocKind::Thread,
//!     heads: vec![[4; 32]],
//!     from: key.member_id(),
//!     at: Timestamp(1),
//!     addr: Vec::new(),
//!     carried: Carried::pack(&[change.clone()]).unwrap(),
//! };
//! let bytes = a.seal(&key).unwrap();
//! let back = Announcement::open(&bytes).unwrap();
//! assert_eq!(back, a);
//! assert_eq!(back.carried.unpack().unwrap(), vec![change]);
//! ```

use std::io::{Read, Write};

use commonplace_base::{
    CommunityId, DocId, MemberId, SecretKey, Signature, SigningDomain, Timestamp,
};
use commonplace_model::{DocKind, SignedChange};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Largest signed announcement, as it travels: gossip's 4 KiB frame limit less its own
/// overhead, with margin. Nodes never send more, and refuse more before decoding.
pub const MAX_ANNOUNCEMENT: usize = 4096 - 96;
/// Most changes one announcement may carry.
pub const MAX_CARRIED_CHANGES: usize = 16;
/// Most bytes carried changes may inflate to: far more than fits a 4 KiB announcement
/// uncompressed, far less than a decompression bomb would.
pub const MAX_CARRIED_INFLATED: usize = 256 << 10;

/// An announcement could not be read, or its carried changes could not be unpacked.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AnnounceError {
    /// Longer than [`MAX_ANNOUNCEMENT`].
    #[error("announcement of {0} bytes is over the {MAX_ANNOUNCEMENT}-byte limit")]
    TooLarge(usize),
    /// Not a signed announcement.
    #[error("does not decode")]
    Malformed,
    /// Well formed, but its signature is not `from`'s.
    #[error("claims to be from {} with a bad signature", from.short())]
    BadSignature {
        /// Who it claims to be from.
        from: MemberId,
    },
    /// The carried changes are not valid raw DEFLATE.
    #[error("carried changes do not inflate: {0}")]
    Inflate(#[source] std::io::Error),
    /// The carried changes inflate to more than [`MAX_CARRIED_INFLATED`].
    #[error("carried changes inflate past the limit of {MAX_CARRIED_INFLATED} bytes")]
    InflatedTooLarge,
    /// More than [`MAX_CARRIED_CHANGES`] carried changes.
    #[error("{0} carried changes, at most {MAX_CARRIED_CHANGES} allowed")]
    TooManyChanges(u64),
    /// The carried changes are not a list of signed changes.
    #[error("carried changes do not decode: {0}")]
    ChangesMalformed(#[source] postcard::Error),
    /// The announcement could not be encoded (only on sending).
    #[error("could not encode the announcement: {0}")]
    Encode(#[source] postcard::Error),
}

/// "Document `doc` of `community` now has these heads", signed by `from`; with the changes at
/// those heads when they fit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// The community (its gossip topic is where the announcement travels).
    pub community: CommunityId,
    /// The document.
    pub doc: DocId,
    /// Its kind.
    pub kind: DocKind,
    /// Its heads at the announcer.
    pub heads: Vec<[u8; 32]>,
    /// The announcer, whose signature the announcement carries.
    pub from: MemberId,
    /// When it was made.
    pub at: Timestamp,
    /// Where to reach the announcer (a peer ticket's bytes; empty if unknown): the node that
    /// pulls may not have met it yet. Used only for the announcer's own id.
    pub addr: Vec<u8>,
    /// The changes at `heads`, each with its own change signature (see [`Carried`]); empty
    /// when they did not fit.
    pub carried: Carried,
}

/// An announcement as nodes sent it before they carried changes: the same fields up to
/// `addr`. Still read, so a node that has not been updated is not taken for a hostile one.
#[derive(Debug, Clone, Deserialize)]
struct HeadsOnly {
    community: CommunityId,
    doc: DocId,
    kind: DocKind,
    heads: Vec<[u8; 32]>,
    from: MemberId,
    at: Timestamp,
    addr: Vec<u8>,
}

/// An announcement's body with the announcer's signature over it, as it travels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedAnnouncement {
    /// The postcard encoding of an [`Announcement`] (or of its older heads-only form).
    pub body: Vec<u8>,
    /// The announcer's signature over `body` in [`SigningDomain::Announcement`].
    pub signature: Signature,
}

impl SignedAnnouncement {
    /// The bytes that travel.
    pub fn encode(&self) -> Result<Vec<u8>, AnnounceError> {
        postcard::to_stdvec(self).map_err(AnnounceError::Encode)
    }

    /// Reads the bytes that travel; checks the length first.
    pub fn decode(bytes: &[u8]) -> Result<SignedAnnouncement, AnnounceError> {
        if bytes.len() > MAX_ANNOUNCEMENT {
            return Err(AnnounceError::TooLarge(bytes.len()));
        }
        postcard::from_bytes(bytes).map_err(|_| AnnounceError::Malformed)
    }
}

impl Announcement {
    /// Reads an announcement's body (signed or not: see [`Announcement::open`]), in either
    /// the current form or the older heads-only one.
    pub fn decode_body(body: &[u8]) -> Result<Announcement, AnnounceError> {
        if body.len() > MAX_ANNOUNCEMENT {
            return Err(AnnounceError::TooLarge(body.len()));
        }
        if let Ok(a) = postcard::from_bytes::<Announcement>(body) {
            return Ok(a);
        }
        let h: HeadsOnly = postcard::from_bytes(body).map_err(|_| AnnounceError::Malformed)?;
        Ok(Announcement {
            community: h.community,
            doc: h.doc,
            kind: h.kind,
            heads: h.heads,
            from: h.from,
            at: h.at,
            addr: h.addr,
            carried: Carried::default(),
        })
    }

    /// Reads a signed announcement and checks that `from` signed it. Its carried changes are
    /// not unpacked yet ([`Carried::unpack`]): a receiver first decides whether it wants them.
    pub fn open(bytes: &[u8]) -> Result<Announcement, AnnounceError> {
        let s = SignedAnnouncement::decode(bytes)?;
        let a = Announcement::decode_body(&s.body)?;
        a.from
            .verify(SigningDomain::Announcement, &s.body, &s.signature)
            .map_err(|_| AnnounceError::BadSignature { from: a.from })?;
        Ok(a)
    }

    /// The announcement signed with `key` (the announcer's, `from`), as it travels. May be
    /// over [`MAX_ANNOUNCEMENT`]: the sender checks, and announces without carried changes.
    pub fn seal(&self, key: &SecretKey) -> Result<Vec<u8>, AnnounceError> {
        let body = postcard::to_stdvec(self).map_err(AnnounceError::Encode)?;
        let signature = key.sign(SigningDomain::Announcement, &body);
        SignedAnnouncement { body, signature }.encode()
    }
}

/// Changes carried in an announcement: a postcard-encoded `Vec<SignedChange>`, raw DEFLATE
/// compressed when that is shorter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carried {
    deflated: bool,
    #[serde(with = "serde_bytes")]
    bytes: Vec<u8>,
}

impl Carried {
    /// Packs changes to carry; `None` if they cannot be encoded (the announcement then
    /// carries none).
    pub fn pack(changes: &[SignedChange]) -> Option<Carried> {
        if changes.is_empty() {
            return Some(Carried::default());
        }
        let raw = postcard::to_stdvec(changes).ok()?;
        let mut enc = flate2::write::DeflateEncoder::new(
            Vec::with_capacity(raw.len()),
            flate2::Compression::default(),
        );
        let deflated = enc.write_all(&raw).and_then(|()| enc.finish()).ok()?;
        Some(if deflated.len() < raw.len() {
            Carried {
                deflated: true,
                bytes: deflated,
            }
        } else {
            Carried {
                deflated: false,
                bytes: raw,
            }
        })
    }

    /// Carried bytes exactly as given, for tests that play a hostile announcer: `bytes` is a
    /// postcard `Vec<SignedChange>`, raw DEFLATE compressed if `deflated`.
    pub fn raw(deflated: bool, bytes: Vec<u8>) -> Carried {
        Carried { deflated, bytes }
    }

    /// Whether nothing is carried.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The carried changes, within the limits (none if nothing is carried).
    pub fn unpack(&self) -> Result<Vec<SignedChange>, AnnounceError> {
        if self.bytes.is_empty() {
            return Ok(Vec::new());
        }
        let inflated;
        let raw = if self.deflated {
            let mut out = Vec::new();
            // One byte past the limit tells "exactly at" from "over".
            flate2::read::DeflateDecoder::new(self.bytes.as_slice())
                .take(MAX_CARRIED_INFLATED as u64 + 1)
                .read_to_end(&mut out)
                .map_err(AnnounceError::Inflate)?;
            if out.len() > MAX_CARRIED_INFLATED {
                return Err(AnnounceError::InflatedTooLarge);
            }
            inflated = out;
            &inflated
        } else {
            &self.bytes
        };
        // The count leads postcard's encoding of a list: check it before decoding any change.
        let (count, _) =
            postcard::take_from_bytes::<u64>(raw).map_err(AnnounceError::ChangesMalformed)?;
        if count > MAX_CARRIED_CHANGES as u64 {
            return Err(AnnounceError::TooManyChanges(count));
        }
        postcard::from_bytes(raw).map_err(AnnounceError::ChangesMalformed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn sample(carried: Carried) -> (Announcement, SecretKey) {
        let key = SecretKey::from_seed([7; 32]);
        let a = Announcement {
            community: CommunityId::from_bytes([1; 16]),
            doc: DocId::from_bytes([2; 16]),
            kind: DocKind::Thread,
            heads: vec![[3; 32], [4; 32]],
            from: key.member_id(),
            at: Timestamp(1_700_000_000_000),
            addr: vec![5; 40],
            carried,
        };
        (a, key)
    }

    fn change(n: u8) -> SignedChange {
        SignedChange {
            bytes: [b"some change bytes ".repeat(4), vec![n]].concat(),
            signature: Some(Signature([n; 64])),
        }
    }

    #[test]
    fn a_sealed_announcement_opens_and_a_forged_one_does_not() {
        let (a, key) = sample(Carried::pack(&[change(1), change(2)]).unwrap());
        let bytes = a.seal(&key).unwrap();
        assert_eq!(Announcement::open(&bytes).unwrap(), a);
        let mut s = SignedAnnouncement::decode(&bytes).unwrap();
        s.signature.0[0] ^= 1;
        assert!(matches!(
            Announcement::open(&s.encode().unwrap()),
            Err(AnnounceError::BadSignature { from }) if from == a.from
        ));
        let other = SecretKey::from_seed([8; 32]);
        assert!(matches!(
            Announcement::open(&a.seal(&other).unwrap()),
            Err(AnnounceError::BadSignature { .. })
        ));
        assert!(matches!(
            Announcement::open(b"nope"),
            Err(AnnounceError::Malformed)
        ));
        assert!(matches!(
            Announcement::open(&vec![0; MAX_ANNOUNCEMENT + 1]),
            Err(AnnounceError::TooLarge(n)) if n == MAX_ANNOUNCEMENT + 1
        ));
    }

    #[test]
    fn the_heads_only_form_is_still_read() {
        let (a, key) = sample(Carried::default());
        #[derive(Serialize)]
        struct Old<'a>(
            &'a CommunityId,
            &'a DocId,
            &'a DocKind,
            &'a Vec<[u8; 32]>,
            &'a MemberId,
            &'a Timestamp,
            &'a Vec<u8>,
        );
        let body = postcard::to_stdvec(&Old(
            &a.community,
            &a.doc,
            &a.kind,
            &a.heads,
            &a.from,
            &a.at,
            &a.addr,
        ))
        .unwrap();
        let signature = key.sign(SigningDomain::Announcement, &body);
        let bytes = SignedAnnouncement { body, signature }.encode().unwrap();
        assert_eq!(Announcement::open(&bytes).unwrap(), a);
    }

    #[test]
    fn carried_changes_are_bounded() {
        let bomb = Carried::raw(true, {
            let mut enc =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(&vec![0u8; MAX_CARRIED_INFLATED * 4]).unwrap();
            enc.finish().unwrap()
        });
        assert!(bomb.bytes.len() < MAX_ANNOUNCEMENT);
        assert!(matches!(
            bomb.unpack(),
            Err(AnnounceError::InflatedTooLarge)
        ));
        let many: Vec<SignedChange> = (0..=MAX_CARRIED_CHANGES)
            .map(|_| SignedChange {
                bytes: vec![1],
                signature: None,
            })
            .collect();
        assert!(matches!(
            Carried::pack(&many).unwrap().unpack(),
            Err(AnnounceError::TooManyChanges(n)) if n == MAX_CARRIED_CHANGES as u64 + 1
        ));
        // A count far past the limit is refused before anything is decoded or allocated.
        let huge = Carried::raw(false, postcard::to_stdvec(&u64::MAX).unwrap());
        assert!(matches!(
            huge.unpack(),
            Err(AnnounceError::TooManyChanges(u64::MAX))
        ));
        let round = vec![change(1)];
        assert_eq!(Carried::pack(&round).unwrap().unpack().unwrap(), round);
        assert!(Carried::raw(true, vec![0xff; 9]).unpack().is_err());
        assert!(Carried::raw(false, vec![1]).unpack().is_err());
    }

    #[test]
    fn a_damaged_carry_keeps_the_codecs_error_as_its_source() {
        use std::error::Error as _;
        let not_deflate = Carried::raw(true, vec![0xff; 9]).unpack().unwrap_err();
        assert!(
            matches!(not_deflate, AnnounceError::Inflate(_)),
            "{not_deflate:?}"
        );
        assert!(
            not_deflate
                .source()
                .is_some_and(|e| e.is::<std::io::Error>())
        );
        let not_changes = Carried::raw(false, vec![1]).unpack().unwrap_err();
        assert!(
            matches!(not_changes, AnnounceError::ChangesMalformed(_)),
            "{not_changes:?}"
        );
        assert!(
            not_changes
                .source()
                .is_some_and(|e| e.is::<postcard::Error>())
        );
    }

    proptest! {
        #[test]
        fn announcements_round_trip(
            n in 0usize..=MAX_CARRIED_CHANGES,
            heads in proptest::collection::vec(any::<[u8; 32]>(), 0..8),
            addr in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let changes: Vec<SignedChange> = (0..n).map(|i| change(i as u8)).collect();
            let (mut a, key) = sample(Carried::pack(&changes).unwrap());
            a.heads = heads;
            a.addr = addr;
            let back = Announcement::open(&a.seal(&key).unwrap()).unwrap();
            prop_assert_eq!(back.carried.unpack().unwrap(), changes);
            prop_assert_eq!(back, a);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = Announcement::open(&bytes);
            if let Ok(a) = Announcement::decode_body(&bytes) {
                let _ = a.carried.unpack();
            }
            let _ = Carried::raw(true, bytes.clone()).unpack();
            let _ = Carried::raw(false, bytes).unpack();
        }
    }
}
