//! An in-memory [`Replica`], for tests and simulations of sessions.

use std::collections::BTreeMap;

use automerge::{Automerge, ChangeHash};
use commonplace_base::{CommunityId, DocId, Signature};
use commonplace_model::verify::Verified;
use commonplace_model::{DocKind, DocRef, Genesis, Roster, community, new_document};

use crate::frame::DocHeads;
use crate::session::heads_of;
use crate::{Replica, ReplicaError};

/// Documents and signatures held in memory.
#[derive(Debug, Default)]
pub struct MemoryReplica {
    /// Documents by id, with their kind.
    pub docs: BTreeMap<DocId, (DocKind, Automerge)>,
    /// Signatures by change hash.
    pub signatures: BTreeMap<ChangeHash, Signature>,
    /// Commits made (for tests to count).
    pub commits: usize,
}

impl MemoryReplica {
    /// Adds a locally written document and the signatures of its changes.
    pub fn insert(
        &mut self,
        doc: &DocRef,
        am: Automerge,
        sigs: impl IntoIterator<Item = (ChangeHash, Signature)>,
    ) {
        self.docs.insert(doc.id, (doc.kind, am));
        self.signatures.extend(sigs);
    }
}

impl Replica for MemoryReplica {
    fn community(&mut self, id: &CommunityId) -> Result<Option<(Genesis, Roster)>, ReplicaError> {
        let cid = DocRef::community(*id).id;
        match self.docs.get(&cid) {
            Some((_, doc)) if !doc.get_heads().is_empty() => {
                let c = community::read(doc).map_err(ReplicaError::new)?;
                Ok(Some((c.genesis, c.roster)))
            }
            _ => Ok(None),
        }
    }

    fn manifest(&mut self, _id: &CommunityId) -> Result<Vec<DocHeads>, ReplicaError> {
        Ok(self
            .docs
            .iter()
            .filter(|(_, (_, d))| !d.get_heads().is_empty())
            .map(|(id, (kind, d))| DocHeads {
                id: *id,
                kind: *kind,
                heads: heads_of(d),
            })
            .collect())
    }

    fn doc(&mut self, doc: &DocRef) -> Result<&mut Automerge, ReplicaError> {
        let entry = self
            .docs
            .entry(doc.id)
            .or_insert_with(|| (doc.kind, new_document(&[0; 48])));
        Ok(&mut entry.1)
    }

    fn signatures(
        &mut self,
        _doc: &DocRef,
        hashes: &[ChangeHash],
    ) -> Result<Vec<Option<Signature>>, ReplicaError> {
        Ok(hashes
            .iter()
            .map(|h| self.signatures.get(h).copied())
            .collect())
    }

    fn commit(
        &mut self,
        doc: &DocRef,
        verified: &Verified,
        updated: Automerge,
    ) -> Result<(), ReplicaError> {
        for (h, c) in verified.hashes.iter().zip(&verified.changes) {
            if let Some(s) = c.signature {
                self.signatures.insert(*h, s);
            }
        }
        self.docs.insert(doc.id, (doc.kind, updated));
        self.commits += 1;
        Ok(())
    }
}
