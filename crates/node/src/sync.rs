//! The node's side of sync sessions: the [`Replica`] over the profile's store, and the entry
//! points the network layer calls with frames.

use std::collections::HashMap;
use std::sync::MutexGuard;

use automerge::{Automerge, ChangeHash};
use commonplace_base::{CommunityId, DocId, MemberId, Signature};
use commonplace_model::verify::Verified;
use commonplace_model::{DocRef, Genesis, RejectReason, Roster, SignedChange, new_document};
use commonplace_sync::{DocHeads, Frame, Replica, ReplicaError, Session, SessionError};

use crate::cache::Claim;
use crate::ingest::Durability;
use crate::{Node, NodeError, NodeEvent, ingest};

/// The profile's store and loaded documents, as a sync session sees them, for one batch of
/// frames' worth of work. Holds the gate for as long as it lives, and the claim of every
/// document it touches from the first touch: no local write or other batch changes them
/// meanwhile. It never holds a lock readers need beyond the moment of taking a copy.
///
/// The session works on the replica's own copies of the documents. Commits are held back
/// until [`Replica::flush`], so that the documents a batch of frames changed cost one durable
/// write together; only then are the new versions installed in the cache, where readers see
/// them. Anything that reads the store where a document has a held-back write (the roster,
/// when the community document has one; a manifest) flushes first, so nothing ever reads past
/// what is pending, and a failed flush drops the replica's copies.
pub(crate) struct NodeReplica<'a> {
    node: &'a Node,
    claims: HashMap<DocId, Claim<'a>>,
    /// The documents touched, as this batch leaves them.
    docs: HashMap<DocId, Automerge>,
    /// Writes held back until the next flush, with the events they raise.
    pending: Vec<(commonplace_store::DocWrite, NodeEvent)>,
    events: Vec<NodeEvent>,
    /// Last, so that it is let go after the claims.
    _gate: MutexGuard<'a, ()>,
}

impl<'a> NodeReplica<'a> {
    fn is_pending(&self, doc: &DocId) -> bool {
        self.pending.iter().any(|(w, _)| w.doc.id == *doc)
    }

    fn flush_if(&mut self, doc: &DocId) -> Result<(), ReplicaError> {
        if self.is_pending(doc) {
            self.flush()?;
        }
        Ok(())
    }

    /// Claims `doc` for the rest of the batch, once.
    fn claim(&mut self, doc: DocId) {
        if !self.claims.contains_key(&doc) {
            let node: &'a Node = self.node;
            self.claims.insert(doc, node.docs().claim(doc));
        }
    }
}

/// Storage failed under a session: the node's own error travels as the cause.
fn replica_err(e: impl std::error::Error + Send + Sync + 'static) -> ReplicaError {
    ReplicaError::new(e)
}

impl Replica for NodeReplica<'_> {
    fn community(&mut self, id: &CommunityId) -> Result<Option<(Genesis, Roster)>, ReplicaError> {
        let community_doc = DocRef::community(*id).id;
        self.flush_if(&community_doc)?;
        // The roster the gate judges by, read with the community document claimed.
        self.claim(community_doc);
        Ok(self
            .node
            .judging_community(id)
            .map_err(replica_err)?
            .map(|c| (c.genesis, c.roster)))
    }

    fn manifest(&mut self, id: &CommunityId) -> Result<Vec<DocHeads>, ReplicaError> {
        self.flush()?;
        Ok(self
            .node
            .store()
            .docs_of(id)
            .map_err(replica_err)?
            .into_iter()
            .map(|(doc, rec)| DocHeads {
                id: doc,
                kind: rec.kind,
                heads: rec.heads,
            })
            .collect())
    }

    fn scoped_manifest(
        &mut self,
        id: &CommunityId,
        doc: &DocId,
    ) -> Result<Vec<DocHeads>, ReplicaError> {
        self.flush()?;
        let community_doc = DocRef::community(*id).id;
        let mut out = Vec::new();
        for d in [community_doc, *doc] {
            if let Some(rec) = self.node.store().doc_record(&d).map_err(replica_err)?
                && rec.community == *id
                && !out.iter().any(|h: &DocHeads| h.id == d)
            {
                out.push(DocHeads {
                    id: d,
                    kind: rec.kind,
                    heads: rec.heads,
                });
            }
        }
        Ok(out)
    }

    fn doc(&mut self, doc: &DocRef) -> Result<&mut Automerge, ReplicaError> {
        if !self.docs.contains_key(&doc.id) {
            // Claimed before the copy is taken, so the copy stays the latest version.
            self.claim(doc.id);
            // The gate's check of the stored record; say no more than needed: the peer
            // learns nothing about other communities.
            let rec = self.node.ingest_target(doc).map_err(|_| {
                ReplicaError::new(format!(
                    "the peer named document {} wrongly for this community",
                    doc.id
                ))
            })?;
            let copy = match rec {
                Some(rec) => self.node.copy_or_load(&doc.id, &rec).map_err(replica_err)?,
                // A document the peer has and we do not: an empty one, stored at a commit.
                None => new_document(&self.node.actor()),
            };
            self.docs.insert(doc.id, copy);
        }
        self.docs
            .get_mut(&doc.id)
            .ok_or_else(|| ReplicaError::new("document vanished from the batch"))
    }

    fn signatures(
        &mut self,
        doc: &DocRef,
        hashes: &[ChangeHash],
    ) -> Result<Vec<Option<Signature>>, ReplicaError> {
        let raw: Vec<[u8; 32]> = hashes.iter().map(|h| h.0).collect();
        let mut found = self
            .node
            .store()
            .signatures(&doc.id, &raw)
            .map_err(replica_err)?;
        // Changes held back for the next flush are not in the store yet.
        for (w, _) in self.pending.iter().filter(|(w, _)| w.doc.id == doc.id) {
            for (h, c) in w.hashes.iter().zip(&w.changes) {
                if let Some(i) = hashes.iter().position(|x| x.0 == *h) {
                    found[i] = found[i].or(c.signature);
                }
            }
        }
        Ok(found)
    }

    fn verify(
        &mut self,
        doc: &DocRef,
        working: &mut Automerge,
        batch: &[SignedChange],
        roster: &Roster,
        founder: &MemberId,
    ) -> Result<Verified, RejectReason> {
        self.node.stage_one(doc, working, batch, roster, founder)
    }

    fn commit(
        &mut self,
        doc: &DocRef,
        verified: &Verified,
        updated: Automerge,
    ) -> Result<(), ReplicaError> {
        // A second write to the same document builds on the first: make that one durable.
        self.flush_if(&doc.id)?;
        let rec = self.node.ingest_target(doc).map_err(replica_err)?;
        let (write, event) = ingest::ingest_write(doc, &updated, rec.as_ref(), verified.clone())
            .map_err(replica_err)?;
        self.claim(doc.id);
        self.docs.insert(doc.id, updated);
        self.pending.push((write, event));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ReplicaError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let (docs, events): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.pending).into_iter().unzip();
        let stored: Vec<DocId> = docs.iter().map(|w| w.doc.id).collect();
        let result = self.node.store_writes(docs, Durability::Durable);
        match result {
            Ok(()) => {
                // Stored: the new versions replace the cached ones (the claims are still held).
                for id in stored {
                    if let Some(doc) = self.docs.remove(&id) {
                        self.node.docs().install(id, doc);
                    }
                }
                self.events.extend(events);
                Ok(())
            }
            Err(e) => {
                // Nothing of it reached the cache; the copies are forgotten, so the
                // documents are read again as stored.
                drop(events);
                self.docs.clear();
                Err(replica_err(e))
            }
        }
    }
}

impl Node {
    fn replica(&self) -> NodeReplica<'_> {
        NodeReplica {
            node: self,
            claims: HashMap::new(),
            docs: HashMap::new(),
            pending: Vec::new(),
            events: Vec::new(),
            _gate: self.docs().gate(),
        }
    }

    fn finish(&self, mut replica: NodeReplica<'_>) {
        // Sessions flush before they answer; this only catches a path that did not.
        if let Err(e) = replica.flush() {
            tracing::warn!("sync: could not store changes: {e}");
        }
        // What is left is as stored (a failed flush dropped the copies): the documents the
        // batch loaded stay loaded for the next one.
        if replica.pending.is_empty() {
            for (id, doc) in replica.docs.drain() {
                self.docs().fill(id, doc);
            }
        }
        let events = std::mem::take(&mut replica.events);
        drop(replica);
        for e in events {
            self.emit(e);
        }
    }

    /// Whether `peer` may sync `community` with us: it must be an active member (any role).
    pub fn may_sync(&self, community: &CommunityId, peer: &MemberId) -> Result<bool, NodeError> {
        Ok(self
            .store()
            .community(community)?
            .is_some_and(|c| c.roster.role_of(peer).is_some()))
    }

    /// Whether `peer` may be a gossip neighbour: an active member (any role) of some community
    /// this profile holds. Gossip carries new posts, so nobody else may link.
    pub fn may_gossip(&self, peer: &MemberId) -> Result<bool, NodeError> {
        Ok(self
            .store()
            .communities()?
            .iter()
            .any(|c| c.roster.role_of(peer).is_some()))
    }

    /// Starts a sync session about `community` with `peer`; returns it and the hello to send.
    pub fn start_sync(
        &self,
        community: &CommunityId,
        peer: &MemberId,
    ) -> Result<(Session, Frame), SessionError> {
        self.start_sync_scoped(community, peer, None)
    }

    /// Like [`Node::start_sync`]; with `scope`, a session about that one document (and the
    /// community document) only.
    pub fn start_sync_scoped(
        &self,
        community: &CommunityId,
        peer: &MemberId,
        scope: Option<DocId>,
    ) -> Result<(Session, Frame), SessionError> {
        // Never hand a community's data to someone who is not in it.
        if let Ok(Some(c)) = self.store().community(community)
            && c.roster.role_of(peer).is_none()
        {
            return Err(SessionError::Protocol(format!(
                "{} is not a member of {}",
                peer.short(),
                c.charter.name
            )));
        }
        let mut r = self.replica();
        let out = Session::start_scoped(*community, *peer, scope, &mut r);
        self.finish(r);
        out
    }

    /// Feeds one frame from the peer to a session; returns the frames to send back. Verified
    /// changes are durably stored before this returns.
    pub fn sync_receive(
        &self,
        session: &mut Session,
        frame: Frame,
    ) -> Result<Vec<Frame>, SessionError> {
        self.receiving(|r| session.receive(frame, r))
    }

    /// Feeds frames from the peer that arrived together to a session; returns the frames to
    /// send back. What they carry is verified frame by frame and durably stored, in one
    /// write, before this returns.
    pub fn sync_receive_batch(
        &self,
        session: &mut Session,
        frames: Vec<Frame>,
    ) -> Result<Vec<Frame>, SessionError> {
        self.receiving(|r| session.receive_batch(frames, r))
    }

    /// Runs a session's step on the peer's frames. Automerge 0.12 panics on some hostile input
    /// (docs/fuzzing.md); the known cases are refused before it reads them, and this keeps an
    /// unknown one to the session: nothing of the step is stored (the peer has no answer and
    /// sends it again), the copies of the documents it may have half changed are dropped (the
    /// cache only ever holds what is stored), and the session ends with a protocol error.
    fn receiving(
        &self,
        step: impl FnOnce(&mut NodeReplica<'_>) -> Result<Vec<Frame>, SessionError>,
    ) -> Result<Vec<Frame>, SessionError> {
        let mut r = self.replica();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| step(&mut r))) {
            Ok(out) => {
                self.finish(r);
                out
            }
            Err(_) => {
                // The step worked on the replica's own copies; the cache never saw them.
                r.pending.clear();
                r.docs.clear();
                drop(r);
                tracing::warn!("sync: a peer's frames made automerge panic; the session ends");
                Err(SessionError::Protocol(
                    "the frames made the document engine fail; nothing of them was stored".into(),
                ))
            }
        }
    }
}
