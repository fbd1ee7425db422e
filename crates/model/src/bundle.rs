//! Bundle files: a whole community, signed, for the offline way between machines.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! magic    16 bytes  "COMMONPLACE-BNDL"
//! version   4 bytes  u32, currently 1
//! exporter 32 bytes  the exporting member's public key
//! length    8 bytes  u64, length of body
//! body     length    postcard-encoded `BundleBody`
//! sig      64 bytes  ed25519 by exporter over SHA-256(everything before sig), domain "bundle"
//! ```
//!
//! The outer signature tells a damaged or altered file apart from a well-formed one before
//! anything inside is parsed. It proves nothing about the changes: each of those carries its
//! own signature and is verified like any change from a peer.

use commonplace_base::{MemberId, SecretKey, Signature, SigningDomain, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::signed::SignedChange;
use crate::{BundleError, DocKind, Genesis};
use commonplace_base::DocId;

const MAGIC: &[u8; 16] = b"COMMONPLACE-BNDL";
const VERSION: u32 = 1;
const HEADER: usize = 16 + 4 + 32 + 8;
/// Largest bundle this version reads.
pub const MAX_BUNDLE_BYTES: u64 = 4 << 30;

/// One document in a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleDoc {
    /// The document.
    pub id: DocId,
    /// Its kind.
    pub kind: DocKind,
    /// Its changes, dependencies first.
    pub changes: Vec<SignedChange>,
}

/// What a bundle holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleBody {
    /// The community's founding record (its id derives from it).
    pub genesis: Genesis,
    /// When the bundle was written.
    pub created_at: Timestamp,
    /// The community's documents, the community document first.
    pub docs: Vec<BundleDoc>,
}

/// A decoded bundle whose outer signature was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Who exported it.
    pub exporter: MemberId,
    /// What it holds.
    pub body: BundleBody,
}

/// Encodes and signs a bundle.
pub fn encode(body: &BundleBody, key: &SecretKey) -> Result<Vec<u8>, BundleError> {
    let encoded = postcard::to_stdvec(body).map_err(BundleError::Encode)?;
    let mut out = Vec::with_capacity(HEADER + encoded.len() + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(key.member_id().as_bytes());
    out.extend_from_slice(&(encoded.len() as u64).to_le_bytes());
    out.extend_from_slice(&encoded);
    let digest = Sha256::digest(&out);
    let sig = key.sign(SigningDomain::Bundle, &digest);
    out.extend_from_slice(&sig.0);
    Ok(out)
}

/// How many bytes a bundle starting with `header` has in all, checked against the format
/// and [`MAX_BUNDLE_BYTES`]: a reader looks at the first [`HEADER_BYTES`] bytes before it
/// reads (or allocates for) the rest, so no stream makes it read more than a bundle can be.
pub fn declared_len(header: &[u8]) -> Result<u64, BundleError> {
    if header.len() < MAGIC.len() || &header[..MAGIC.len()] != MAGIC {
        return Err(BundleError::NotABundle);
    }
    if header.len() < HEADER {
        return Err(BundleError::Truncated("the header is incomplete".into()));
    }
    let version = u32::from_le_bytes(read_array(header, 16));
    if version != VERSION {
        return Err(BundleError::Version(version));
    }
    let body_len = u64::from_le_bytes(read_array(header, 52));
    if body_len > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge(format!(
            "{body_len} bytes, the limit is {MAX_BUNDLE_BYTES}"
        )));
    }
    Ok(HEADER as u64 + body_len + 64)
}

/// Bytes a reader needs to see before [`declared_len`] can say how long the bundle is.
pub const HEADER_BYTES: usize = HEADER;

/// Decodes a bundle and checks its outer signature and founding record. The changes inside
/// are not verified here: that is `verify`'s job.
pub fn decode(bytes: &[u8]) -> Result<Bundle, BundleError> {
    let expected = declared_len(bytes)?;
    if bytes.len() < HEADER + 64 {
        return Err(BundleError::Truncated("the header is incomplete".into()));
    }
    let exporter_bytes: [u8; 32] = read_array(bytes, 20);
    if (bytes.len() as u64) < expected {
        return Err(BundleError::Truncated(format!(
            "{} of {expected} bytes are present",
            bytes.len()
        )));
    }
    if (bytes.len() as u64) > expected {
        return Err(BundleError::Truncated(format!(
            "{} bytes follow the end of the bundle",
            bytes.len() as u64 - expected
        )));
    }
    let signed_len = bytes.len() - 64;
    let exporter = MemberId::from_bytes(exporter_bytes)
        .map_err(|_| BundleError::Truncated("the exporter's key is damaged".into()))?;
    let sig = Signature(read_array(bytes, signed_len));
    let digest = Sha256::digest(&bytes[..signed_len]);
    exporter
        .verify(SigningDomain::Bundle, &digest, &sig)
        .map_err(|_| BundleError::BadSignature { exporter })?;
    let body: BundleBody =
        postcard::from_bytes(&bytes[HEADER..signed_len]).map_err(BundleError::Contents)?;
    Ok(Bundle { exporter, body })
}

fn read_array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = bytes.get(at..at + N) {
        out.copy_from_slice(src);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(n: usize) -> (BundleBody, SecretKey) {
        let key = SecretKey::from_seed([5; 32]);
        let body = BundleBody {
            genesis: Genesis {
                founder: key.member_id(),
                nonce: [1; 16],
            },
            created_at: Timestamp(1_700_000_000_000),
            docs: (0..n)
                .map(|i| BundleDoc {
                    id: DocId::from_bytes([i as u8; 16]),
                    kind: DocKind::Thread,
                    changes: vec![SignedChange {
                        bytes: vec![i as u8; 30],
                        signature: Some(Signature([i as u8; 64])),
                    }],
                })
                .collect(),
        };
        (body, key)
    }

    #[test]
    fn round_trip() {
        let (body, key) = sample(3);
        let bytes = encode(&body, &key).unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!(back.body, body);
        assert_eq!(back.exporter, key.member_id());
    }

    #[test]
    fn every_truncation_is_refused() {
        let (body, key) = sample(2);
        let bytes = encode(&body, &key).unwrap();
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_err(), "prefix of {n} bytes accepted");
        }
    }

    proptest! {
        #[test]
        fn any_flipped_byte_is_refused(at in 0usize..10_000, bit in 0u8..8) {
            let (body, key) = sample(2);
            let mut bytes = encode(&body, &key).unwrap();
            let at = at % bytes.len();
            bytes[at] ^= 1 << bit;
            prop_assert!(decode(&bytes).is_err());
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
            let mut framed = MAGIC.to_vec();
            framed.extend_from_slice(&bytes);
            let _ = decode(&framed);
        }
    }
}
