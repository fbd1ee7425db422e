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
/// Decoding (point decompression) costs about a quarter of a signature check, and the same
/// few keys — a community's members — are decoded for every change verified (its actor names
/// its signer) and every post read (its author). Profiling a 10,000-change import found a
/// quarter of its CPU time here. Only valid keys are kept; the cache is bounded.
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
    if let Ok(mut keys) = KEYS.lock() {
        let keys = keys.get_or_insert_with(HashMap::new);
        if keys.len() >= MAX_KEYS {
            keys.clear();
        }
        keys.insert(*bytes, key);
    }
    Ok(key)
}

/// Verifies many signatures at once (ed25519 batch verification, about twice as fast as one by
/// one). On failure returns the index of the first signature that does not verify.
///
/// A large batch (an import) is split over the machine's cores, one batch verification per
/// part, all finished before this returns.
pub fn verify_many(
    domain: SigningDomain,
    items: &[(MemberId, &[u8], Signature)],
) -> Result<(), usize> {
    // Below this a part's share of the work is too small to pay for a thread.
    const SPLIT_FROM: usize = 4096;
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
    if items.is_empty() {
        return Ok(());
    }
    let mut keys = Vec::with_capacity(items.len());
    for (i, (member, _, _)) in items.iter().enumerate() {
        keys.push(member.key().map_err(|_| i)?);
    }
    let messages: Vec<Vec<u8>> = items.iter().map(|(_, m, _)| domain.message(m)).collect();
    let message_refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let sigs: Vec<ed25519_dalek::Signature> = items
        .iter()
        .map(|(_, _, s)| ed25519_dalek::Signature::from_bytes(&s.0))
        .collect();
    if ed25519_dalek::verify_batch(&message_refs, &sigs, &keys).is_ok() {
        return Ok(());
    }
    // Batch failed: find the culprit so the error can name it.
    for (i, (member, msg, sig)) in items.iter().enumerate() {
        if member.verify(domain, msg, sig).is_err() {
            return Err(i);
        }
    }
    // Batch verification is stricter than single verification for some non-canonical
    // encodings; treat the batch's verdict as final.
    Err(0)
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
        MemberId::from_bytes(bytes).map_err(|_| ParseIdError::NotAKey { text: s.to_owned() })
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
