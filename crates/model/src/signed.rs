//! Signed changes: an Automerge change and the ed25519 signature of its signer.

use automerge::ChangeHash;
use commonplace_base::{CommunityId, DocId, SecretKey, Signature, SigningDomain};
use serde::{Deserialize, Serialize};

use crate::DocKind;

/// Which document a change belongs to. Bound into the change's signature, so a change can not
/// be replayed into another document or community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DocRef {
    /// The community.
    pub community: CommunityId,
    /// The kind of document.
    pub kind: DocKind,
    /// The document.
    pub id: DocId,
}

impl DocRef {
    /// The community document of `community` (its id equals the community id).
    pub fn community(community: CommunityId) -> Self {
        DocRef {
            community,
            kind: DocKind::Community,
            id: DocId::from_bytes(*community.as_bytes()),
        }
    }

    /// The bytes a change signature covers: community ‖ kind ‖ document ‖ change hash.
    pub fn change_message(&self, hash: &ChangeHash) -> [u8; 65] {
        let mut m = [0u8; 65];
        m[..16].copy_from_slice(self.community.as_bytes());
        m[16] = self.kind.code();
        m[17..33].copy_from_slice(self.id.as_bytes());
        m[33..].copy_from_slice(&hash.0);
        m
    }

    /// Signs a change of this document.
    pub fn sign(&self, key: &SecretKey, hash: &ChangeHash) -> Signature {
        key.sign(SigningDomain::Change, &self.change_message(hash))
    }
}

/// A change as stored and sent: its bytes and, usually, its signature. A change may travel
/// without a signature when a later change of the same actor in the same batch is signed:
/// that change's hash commits to its ancestors, so its signature vouches for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedChange {
    /// The Automerge change, as `Change::raw_bytes`.
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
    /// The signer's signature over [`DocRef::change_message`].
    pub signature: Option<Signature>,
}

/// The signatures a batch of one document's changes needs, given each change's stored
/// signature: per actor, the signature of its newest change in the batch vouches for the
/// actor's earlier ones (each change's hash commits to its ancestors, and an actor's changes
/// form a chain), so only that one goes along. Where the newest has no stored signature,
/// every stored signature of that actor goes along. Sync frames and exported bundles both
/// carry exactly these; a receiver checks every signature it gets.
pub fn vouching_signatures(
    changes: &[automerge::Change],
    sigs: &[Option<Signature>],
) -> Vec<Option<Signature>> {
    use std::collections::HashMap;
    let mut newest: HashMap<&[u8], (u64, usize)> = HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        let e = newest
            .entry(c.actor_id().to_bytes())
            .or_insert((c.seq(), i));
        if c.seq() >= e.0 {
            *e = (c.seq(), i);
        }
    }
    let newest_signed: HashMap<&[u8], bool> = newest
        .iter()
        .map(|(a, (_, i))| (*a, sigs.get(*i).copied().flatten().is_some()))
        .collect();
    changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let actor = c.actor_id().to_bytes();
            let is_newest = newest.get(actor).is_some_and(|(_, n)| *n == i);
            let keep = is_newest || !newest_signed.get(actor).copied().unwrap_or(false);
            if keep {
                sigs.get(i).copied().flatten()
            } else {
                None
            }
        })
        .collect()
}

/// One document's stored changes with only the signatures [`vouching_signatures`] keeps, as a
/// bundle carries them.
pub fn with_vouching_signatures(
    mut changes: Vec<SignedChange>,
) -> Result<Vec<SignedChange>, automerge::LoadChangeError> {
    let decoded = changes
        .iter()
        .map(|c| automerge::Change::from_bytes(c.bytes.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let sigs: Vec<_> = changes.iter().map(|c| c.signature).collect();
    for (c, s) in changes.iter_mut().zip(vouching_signatures(&decoded, &sigs)) {
        c.signature = s;
    }
    Ok(changes)
}
