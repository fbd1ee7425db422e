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
