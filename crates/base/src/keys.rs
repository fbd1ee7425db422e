use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use rand::CryptoRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::id::{decode_base32, encode_base32};
use crate::{KeyError, ParseIdError, SignatureError};

/// What a signature is for. The domain's tag is prepended to the signed bytes, so a signature
/// made for one purpose never verifies for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SigningDomain {
    /// An Automerge change of one document (over community, document and change hash).
    Change,
    /// A whole export bundle (over its digest).
    Bundle,
    /// An invitation to join a community.
    Invitation,
    /// A live announcement of a document's heads.
    Announcement,
}

impl SigningDomain {
    fn tag(self) -> &'static [u8] {
        match self {
            SigningDomain::Change => b"commonplace/change/v1\0",
            SigningDomain::Bundle => b"commonplace/bundle/v1\0",
            SigningDomain::Invitation => b"commonplace/invitation/v1\0",
            SigningDomain::Announcement => b"commonplace/announcement/v1\0",
        }
    }

    fn message(self, msg: &[u8]) -> Vec<u8> {
        let tag = self.tag();
        let mut out = Vec::with_capacity(tag.len() + msg.len());
        out.extend_from_slice(tag);
        out.extend_from_slice(msg);
        out
    }
}

/// A member: the ed25519 public key the member signs with.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct MemberId([u8; 32]);

impl MemberId {
    /// Checks that the bytes are a valid ed25519 public key.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, SignatureError> {
        decoded_key(&bytes)?;
        Ok(MemberId(bytes))
    }

    /// The key's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first ten characters: enough to tell members apart on one screen.
    pub fn short(&self) -> String {
        let mut s = self.to_string();
        s.truncate(10);
        s
    }

    fn key(&self) -> Result<VerifyingKey, SignatureError> {
        decoded_key(&self.0)
    }

    /// Verifies `sig` over `msg` under `domain`.
    pub fn verify(
        &self,
        domain: SigningDomain,
        msg: &[u8],
        sig: &Signature,
    ) -> Result<(), SignatureError> {
        let key = self.key()?;
        key.verify_strict(
            &domain.message(msg),
            &ed25519_dalek::Signature::from_bytes(&sig.0),
        )
        .map_err(|_| SignatureError::Invalid)
    }
}

/// Decodes a public key, remembering the keys already decoded in this process.
///
/// Only keys an honest member can have are accepted: the encoding must be canonical (the
/// point re-encodes to the same bytes) and the point must lie in the prime-order subgroup (no
/// small-order or mixed-order key). A small-order key lets anyone forge signatures for it
/// (R = identity, s = 0 verifies under it), a non-canonical or mixed-order one lets the same
/// member appear under several ids or make signatures that verify under one check and fail
/// under another. No key made by [`SecretKey`] is ever refused.
///
/// Decoding (point decompression, and the subgroup check, which costs about a signature
/// check) is done once per key: the same few keys — a community's members — are decoded for
/// every change verified (its actor names its signer) and every post read (its author).
/// Only valid keys are kept; the cache is bounded.
fn decoded_key(bytes: &[u8; 32]) -> Result<VerifyingKey, SignatureError> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static KEYS: Mutex<Option<HashMap<[u8; 32], VerifyingKey>>> = Mutex::new(None);
    const MAX_KEYS: usize = 4096;
    if let Some(key) = KEYS
        .lock()
        .ok()
        .and_then(|keys| keys.as_ref()?.get(bytes).copied())
    {
        return Ok(key);
    }
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| SignatureError::BadKey)?;
    let point = key.to_edwards();
    if point.compress().as_bytes() != bytes {
        return Err(SignatureError::NonCanonicalKey);
    }
    if key.is_weak() || !point.is_torsion_free() {
        return Err(SignatureError::WeakKey);
    }
    if let Ok(mut keys) = KEYS.lock() {
        let keys = keys.get_or_insert_with(HashMap::new);
        if keys.len() >= MAX_KEYS {
            keys.clear();
        }
        keys.insert(*bytes, key);
    }
    Ok(key)
}

/// Verifies many signatures; on failure returns the index of the first that does not verify.
///
/// Each signature is checked on its own with ed25519-dalek's strict verification (the
/// cofactorless equation; small-order R and non-canonical s refused). Batch verification is
/// not used: its verdict on a signature with a torsion component depends on the random
/// coefficients of the batch it happens to be in, so two honest peers that grouped the same
/// signatures differently could disagree on whether a change is valid. Since a sync frame or
/// a bundle carries one signature per actor and document (the newest change's hash commits to
/// the earlier ones), the extra cost is small. A large list (an import) is split over the
/// machine's cores, all finished before this returns.
pub fn verify_many(
    domain: SigningDomain,
    items: &[(MemberId, &[u8], Signature)],
) -> Result<(), usize> {
    // Below this a part's share of the work is too small to pay for a thread.
    const SPLIT_FROM: usize = 512;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if cores < 2 || items.len() < SPLIT_FROM {
        return verify_part(domain, items);
    }
    let part = items.len().div_ceil(cores);
    let results: Vec<Result<(), usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(part)
            .map(|chunk| s.spawn(move || verify_part(domain, chunk)))
            .collect();
        // A part whose thread panicked verified nothing: refuse it.
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(0)))
            .collect()
    });
    for (k, r) in results.into_iter().enumerate() {
        r.map_err(|i| k * part + i)?;
    }
    Ok(())
}

fn verify_part(domain: SigningDomain, items: &[(MemberId, &[u8], Signature)]) -> Result<(), usize> {
    for (i, (member, msg, sig)) in items.iter().enumerate() {
        if member.verify(domain, msg, sig).is_err() {
            return Err(i);
        }
    }
    Ok(())
}

/// Strict verification of a raw message (no domain tag): the check [`MemberId::verify`]
/// makes, exposed to this crate's tests of the standard ed25519 edge cases.
#[cfg(test)]
fn verify_raw(key: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> Result<(), SignatureError> {
    decoded_key(key)?
        .verify_strict(msg, &ed25519_dalek::Signature::from_bytes(sig))
        .map_err(|_| SignatureError::Invalid)
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode_base32(&self.0))
    }
}

impl fmt::Debug for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberId({})", self.short())
    }
}

impl FromStr for MemberId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = decode_base32::<32>("member id", s)?;
        MemberId::from_bytes(bytes).map_err(|why| ParseIdError::NotAKey {
            text: s.to_owned(),
            why,
        })
    }
}

impl Serialize for MemberId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_string())
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for MemberId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            let bytes = <[u8; 32]>::deserialize(d)?;
            MemberId::from_bytes(bytes).map_err(serde::de::Error::custom)
        }
    }
}

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}…)", &encode_base32(&self.0[..10]))
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Signature;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("64 signature bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Signature, E> {
                let arr: [u8; 64] = v
                    .try_into()
                    .map_err(|_| E::invalid_length(v.len(), &self))?;
                Ok(Signature(arr))
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                v: &'de [u8],
            ) -> Result<Signature, E> {
                self.visit_bytes(v)
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Signature, E> {
                self.visit_bytes(&v)
            }
        }
        d.deserialize_bytes(V)
    }
}

/// A member's secret signing key. `Debug` shows only the public half; the key is zeroed on drop.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

const KEY_FILE_HEADER: &str = "commonplace-secret-key-v1";

impl SecretKey {
    /// A fresh key from a cryptographically secure generator.
    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        SecretKey(SigningKey::generate(rng))
    }

    /// A key from 32 seed bytes (tests and restore from backup).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        SecretKey(SigningKey::from_bytes(&seed))
    }

    /// The public half.
    pub fn member_id(&self) -> MemberId {
        MemberId(self.0.verifying_key().to_bytes())
    }

    /// Signs `msg` under `domain`.
    pub fn sign(&self, domain: SigningDomain, msg: &[u8]) -> Signature {
        Signature(self.0.sign(&domain.message(msg)).to_bytes())
    }

    /// The 32 secret bytes, for handing the key to the network layer. Callers must not log them.
    pub fn to_secret_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The key file's text: a header line and the base32 secret. Written with mode 0600.
    pub fn to_key_file(&self) -> String {
        format!("{KEY_FILE_HEADER}\n{}\n", encode_base32(&self.0.to_bytes()))
    }

    /// Parses a key file written by [`SecretKey::to_key_file`].
    pub fn from_key_file(text: &str) -> Result<Self, KeyError> {
        let malformed = KeyError::Malformed {
            expected: "a 'commonplace-secret-key-v1' header and a base32 key",
        };
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        if lines.next() != Some(KEY_FILE_HEADER) {
            return Err(malformed);
        }
        let secret = lines.next().ok_or(malformed.clone())?;
        let bytes = decode_base32::<32>("secret key", secret).map_err(|_| malformed.clone())?;
        if lines.next().is_some() {
            return Err(malformed);
        }
        Ok(SecretKey::from_seed(bytes))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.member_id().short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn debug_hides_the_secret() {
        let key = SecretKey::from_seed([42; 32]);
        let secret = encode_base32(&[42; 32]);
        assert!(!format!("{key:?}").contains(&secret[..12]));
        assert!(!format!("{key:#?}").contains(&secret[..12]));
    }

    #[test]
    fn key_file_round_trips_and_rejects_garbage() {
        let key = SecretKey::from_seed([3; 32]);
        let back = SecretKey::from_key_file(&key.to_key_file()).unwrap();
        assert_eq!(back.member_id(), key.member_id());
        assert!(SecretKey::from_key_file("hello").is_err());
        assert!(SecretKey::from_key_file(&format!("{KEY_FILE_HEADER}\nabc\n")).is_err());
        // The error never echoes the key text back.
        let text = format!("{KEY_FILE_HEADER}\n{}x\n", encode_base32(&[3; 32]));
        let err = SecretKey::from_key_file(&text).unwrap_err().to_string();
        assert!(!err.contains(&encode_base32(&[3; 32])[..12]));
    }

    #[test]
    fn batch_verification_names_the_bad_signature() {
        let keys: Vec<SecretKey> = (0..5u8).map(|i| SecretKey::from_seed([i; 32])).collect();
        let msgs: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 40]).collect();
        let mut items: Vec<(MemberId, &[u8], Signature)> = keys
            .iter()
            .zip(&msgs)
            .map(|(k, m)| {
                (
                    k.member_id(),
                    m.as_slice(),
                    k.sign(SigningDomain::Change, m),
                )
            })
            .collect();
        assert_eq!(verify_many(SigningDomain::Change, &items), Ok(()));
        items[3].2.0[5] ^= 1;
        assert_eq!(verify_many(SigningDomain::Change, &items), Err(3));
    }

    #[test]
    fn a_large_batch_split_over_cores_names_the_bad_signature_by_its_place() {
        let keys: Vec<SecretKey> = (0..4u8).map(|i| SecretKey::from_seed([i; 32])).collect();
        let msgs: Vec<Vec<u8>> = (0..5000u32).map(|i| i.to_le_bytes().to_vec()).collect();
        let mut items: Vec<(MemberId, &[u8], Signature)> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let k = &keys[i % keys.len()];
                (
                    k.member_id(),
                    m.as_slice(),
                    k.sign(SigningDomain::Change, m),
                )
            })
            .collect();
        assert_eq!(verify_many(SigningDomain::Change, &items), Ok(()));
        // Near the end (in the last part whatever the number of cores), and then also early.
        items[4990].2.0[9] ^= 1;
        assert_eq!(verify_many(SigningDomain::Change, &items), Err(4990));
        items[17].2.0[9] ^= 1;
        assert_eq!(verify_many(SigningDomain::Change, &items), Err(17));
    }

    fn unhex<const N: usize>(text: &str) -> [u8; N] {
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect();
        bytes.try_into().unwrap()
    }

    /// The twelve cases of "Taming the many EdDSAs" (Chalkias, Garillot, Nikolaenko; IACR
    /// ePrint 2020/1244, as in ed25519-speccheck's cases.txt): message, key, signature, and
    /// whether our verification accepts. Every case is refused: 0–2 for a small-order A or R
    /// (and a mixed-order A in 2), 3 because A has a torsion component (no key made by a member's software has one, so we
    /// refuse mixed-order keys outright; the paper's ZIP-215 policy would accept it), 4–5
    /// because they hold only under the cofactored equation, 6–7 for a non-canonical s, 8–9
    /// for a non-canonical R and 10–11 for a non-canonical A.
    const EDGE_CASES: [(&str, &str, &str); 12] = [
        (
            "8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
        ),
        (
            "aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e",
        ),
        (
            "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009",
        ),
        (
            "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09",
        ),
        (
            "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405",
        ),
        (
            "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
            "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
            "e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514",
        ),
        (
            "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
            "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
            "8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22",
        ),
        (
            "9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f",
        ),
        (
            "9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908",
        ),
        (
            "e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
        ),
        (
            "39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
        ),
    ];

    #[test]
    fn the_standard_ed25519_edge_cases_are_all_refused() {
        for (case, (msg, key, sig)) in EDGE_CASES.iter().enumerate() {
            let msg: [u8; 32] = unhex(msg);
            let key: [u8; 32] = unhex(key);
            let sig: [u8; 64] = unhex(sig);
            assert!(
                verify_raw(&key, &msg, &sig).is_err(),
                "edge case {case} verified"
            );
        }
        // The cases name five keys: a small-order one, two mixed-order ones and a
        // non-canonical one never become member ids; the prime-order one of cases 6–7 does.
        for key in [
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        ] {
            assert!(MemberId::from_bytes(unhex(key)).is_err(), "{key}");
        }
        let prime_order = "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623";
        assert!(MemberId::from_bytes(unhex(prime_order)).is_ok());
    }

    /// The eight small-order points in their canonical encodings, and non-canonical
    /// encodings of some of them (y + p, and x = 0 with the sign bit set).
    #[test]
    fn small_order_and_non_canonical_keys_never_become_member_ids() {
        let weak = [
            "0100000000000000000000000000000000000000000000000000000000000000", // identity
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
            "0000000000000000000000000000000000000000000000000000000000000000", // order 4
            "0000000000000000000000000000000000000000000000000000000000000080", // order 4
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
            "0100000000000000000000000000000000000000000000000000000000000080", // -0 identity
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p + 1
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p
        ];
        for key in weak {
            let bytes: [u8; 32] = unhex(key);
            assert!(MemberId::from_bytes(bytes).is_err(), "{key} accepted");
            let text = encode_base32(&bytes);
            assert!(text.parse::<MemberId>().is_err(), "{text} parsed");
            let json = format!("\"{text}\"");
            assert!(serde_json::from_str::<MemberId>(&json).is_err());
        }
        // An honest key is never refused.
        let honest = SecretKey::from_seed([9; 32]).member_id();
        assert_eq!(MemberId::from_bytes(*honest.as_bytes()), Ok(honest));
    }

    /// The forgery the hostile test found: with the identity point as a "member", a
    /// signature of R = identity and s = 0 verified for any message under batch verification.
    #[test]
    fn a_signature_for_the_identity_key_cannot_be_forged() {
        let identity: [u8; 32] =
            unhex("0100000000000000000000000000000000000000000000000000000000000000");
        let mut forged = [0u8; 64];
        forged[..32].copy_from_slice(&identity);
        assert!(verify_raw(&identity, b"a thread nobody signed", &forged).is_err());
        assert!(MemberId::from_bytes(identity).is_err());
    }

    proptest! {
        #[test]
        fn member_id_text_round_trips(seed in any::<[u8; 32]>()) {
            let id = SecretKey::from_seed(seed).member_id();
            prop_assert_eq!(id.to_string().parse::<MemberId>().unwrap(), id);
            let json = serde_json_like(&id);
            prop_assert_eq!(json, id.to_string());
        }

        #[test]
        fn signatures_bind_message_and_domain(seed in any::<[u8; 32]>(), msg in proptest::collection::vec(any::<u8>(), 0..64), flip in 0usize..64) {
            let key = SecretKey::from_seed(seed);
            let sig = key.sign(SigningDomain::Change, &msg);
            prop_assert!(key.member_id().verify(SigningDomain::Change, &msg, &sig).is_ok());
            prop_assert!(key.member_id().verify(SigningDomain::Invitation, &msg, &sig).is_err());
            let mut bad = sig;
            bad.0[flip] ^= 0x40;
            prop_assert!(key.member_id().verify(SigningDomain::Change, &msg, &bad).is_err());
        }
    }

    fn serde_json_like(id: &MemberId) -> String {
        // Display is what the human-readable serde form uses.
        id.to_string()
    }
}
