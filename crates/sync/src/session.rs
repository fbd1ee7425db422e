//! One sync session with one peer about one community: a state machine with no I/O.
//!
//! Both sides run the same machine. Each opens with [`Frame::Hello`] (a digest of the heads of
//! every document it holds, or, in a session scoped to one document, of that document and the
//! community document), then the session runs in two phases:
//!
//! 1. **Community**: only the community document (charter and roster) is synced, so that by
//!    the time thread and entry changes arrive, each side judges them by the same roster.
//!    Skipped when both hellos show it with the same heads.
//! 2. **Documents**: every document whose heads differ between the two hellos is synced at
//!    once; documents with equal heads cost nothing.
//!
//! Within a phase each side answers every [`Frame::Sync`] with the next Automerge sync message
//! for that document, or with [`Frame::Idle`] carrying how many of the peer's sync frames it
//! has processed. A side is done with a phase when it has nothing to send and the peer's latest
//! `Idle` acknowledges every sync frame it sent; both sides reach that point, in order.
//!
//! Changes travel beside the Automerge message (compressed together on the wire, see
//! `frame`), each with the signature it needs (the newest change of each actor; its hash
//! commits to the actor's earlier ones). Every change is
//! verified by `commonplace_model::verify` before Automerge sees it. A refusal that only a
//! hostile or broken peer causes (a bad signature, a non-member's change, bytes that do not
//! decode), and any refusal of the community document, ends the session with
//! [`Frame::Refuse`] and an error naming the change. A verdict honest peers can disagree on
//! for a while (a removal or change of role one side has not seen when it stored the change,
//! a change an older version stored without a check this one makes) refuses only that
//! document: it is left as it is here, listed by [`Session::refused_docs`], and the session
//! goes on with the others, so one document cannot keep a newcomer from the rest.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::sync::{BloomFilter, Capability, ChunkList, Have, Message, State, SyncDoc};
use automerge::{Automerge, Change, ChangeHash};
use commonplace_base::{CommunityId, DocId, MemberId, Signature};
use commonplace_model::verify::{self, Verified};
use commonplace_model::{
    DocKind, DocRef, Genesis, RejectReason, Roster, SignedChange, vouching_signatures,
};

use crate::frame::{DocDigest, DocHeads, Frame, MAX_CHANGES_PER_FRAME, PROTOCOL_VERSION};
use crate::{ReplicaError, SessionError};

/// What a session needs from the node's storage. Implemented by the node over its store, and
/// in memory by the tests.
pub trait Replica {
    /// The community's founding record and its roster as stored now, or `None` if unknown.
    fn community(&mut self, id: &CommunityId) -> Result<Option<(Genesis, Roster)>, ReplicaError>;
    /// The heads of every document of the community.
    fn manifest(&mut self, id: &CommunityId) -> Result<Vec<DocHeads>, ReplicaError>;
    /// The heads of the community document and of `doc`, where held (a scoped session's
    /// manifest). Replicas with many documents should answer without listing them all.
    fn scoped_manifest(
        &mut self,
        id: &CommunityId,
        doc: &DocId,
    ) -> Result<Vec<DocHeads>, ReplicaError> {
        let community_doc = DocRef::community(*id).id;
        Ok(self
            .manifest(id)?
            .into_iter()
            .filter(|d| d.id == community_doc || d.id == *doc)
            .collect())
    }
    /// The document as stored, or a new empty one if there is none yet (not stored until a
    /// commit).
    fn doc(&mut self, doc: &DocRef) -> Result<&mut Automerge, ReplicaError>;
    /// The stored signatures of these changes, where there are any.
    fn signatures(
        &mut self,
        doc: &DocRef,
        hashes: &[ChangeHash],
    ) -> Result<Vec<Option<Signature>>, ReplicaError>;
    /// Stores verified changes and replaces the document with `updated`; durably at the
    /// latest when the next [`Replica::flush`] returns.
    fn commit(
        &mut self,
        doc: &DocRef,
        verified: &Verified,
        updated: Automerge,
    ) -> Result<(), ReplicaError>;
    /// Verifies `batch` for `doc` and applies it to `working` (a copy of [`Replica::doc`]),
    /// as [`verify::verify_and_apply`] does. The node's replica answers through its ingest
    /// gate, so that sync sessions, imports and live updates share one gate.
    fn verify(
        &mut self,
        doc: &DocRef,
        working: &mut Automerge,
        batch: &[SignedChange],
        roster: &Roster,
        founder: &MemberId,
    ) -> Result<Verified, RejectReason> {
        verify::verify_and_apply(doc, working, batch, roster, founder)
    }
    /// Makes every commit since the last flush durable. A replica may hold commits back until
    /// then, so that the changes of many documents cost one durable write; a session flushes
    /// before it hands back any frame to send.
    fn flush(&mut self) -> Result<(), ReplicaError> {
        Ok(())
    }
}

/// Most documents one hello may announce (a community of thousands of members with years of
/// threads stays far below; the limit bounds what one peer can make us track).
pub const MAX_DOCS_PER_HELLO: usize = 200_000;

/// Where a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the peer's hello.
    Hello,
    /// Syncing the community document.
    Community,
    /// Syncing every other document that differs.
    Documents,
    /// Finished: both sides hold the same heads for every document they talked about, but
    /// those refused (see [`Session::refused_docs`]).
    Done,
    /// Ended by an error or a refusal.
    Failed,
}

/// Counters for status displays and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Frames sent.
    pub frames_sent: u64,
    /// Frames received.
    pub frames_received: u64,
    /// Changes received that were new here.
    pub changes_received: u64,
    /// Changes sent.
    pub changes_sent: u64,
    /// Documents that changed here.
    pub docs_changed: u64,
}

#[derive(Debug)]
struct DocSync {
    kind: DocKind,
    state: State,
}

/// A sync session. Feed it the peer's frames with [`Session::receive`] and send the frames it
/// returns, in order.
#[derive(Debug)]
pub struct Session {
    community: CommunityId,
    peer: MemberId,
    genesis: Option<Genesis>,
    phase: Phase,
    /// The one document this session is about, besides the community document.
    scope: Option<DocId>,
    local_manifest: Vec<DocDigest>,
    docs: BTreeMap<DocId, DocSync>,
    /// Documents to sync in the documents phase.
    pending: BTreeSet<DocId>,
    sent_sync: u64,
    received_sync: u64,
    last_sent_idle: bool,
    peer_acked: Option<u64>,
    stats: SessionStats,
    changed: BTreeSet<DocId>,
    /// Changes held back because a dependency had not arrived (Automerge's bloom filter has
    /// false positives: a peer may skip a change it wrongly believes we hold). Retried with the
    /// next frame for the document; never applied or stored until they verify.
    held: BTreeMap<DocId, Vec<SignedChange>>,
    /// Changes to ask the peer for explicitly, and how many times we asked for each document.
    needs: BTreeMap<DocId, (Vec<ChangeHash>, u32)>,
    /// Documents whose changes from the peer were refused in this session, and why: they are
    /// left as they are here, and the session goes on with the others.
    refused: BTreeMap<DocId, RejectReason>,
}

/// Whether a refusal in the documents phase ends the session or only that document's part
/// of it. Changes that only a hostile or broken peer sends (a bad signature, an actor that
/// names no signer, bytes that do not decode, a non-member's change) end it. The others are
/// verdicts an honest peer can disagree with for a while — a change it stored before it
/// learned of a removal or a change of role, a race on a new id, a change stored by an
/// older version that did not check what this one checks — and refusing one document must
/// not keep the rest of the community from a newcomer.
fn refuses_only_the_document(reason: &RejectReason) -> bool {
    matches!(
        reason,
        RejectReason::NotReproducible { .. }
            | RejectReason::Removed { .. }
            | RejectReason::ReadOnly { .. }
            | RejectReason::NotTheirs { .. }
            | RejectReason::Schema { .. }
    )
}

/// Most changes held back per session while their dependencies are requested.
const MAX_HELD: usize = MAX_CHANGES_PER_FRAME;
/// How many times a missing dependency is requested before the peer is judged faulty.
const MAX_NEED_ROUNDS: u32 = 4;

impl Session {
    /// Starts a session about `community` with `peer` (the TLS-authenticated remote id).
    /// Returns the session and the hello to send first.
    pub fn start(
        community: CommunityId,
        peer: MemberId,
        replica: &mut impl Replica,
    ) -> Result<(Session, Frame), SessionError> {
        Self::start_scoped(community, peer, None, replica)
    }

    /// Like [`Session::start`]; with `scope`, the session is about that one document (and the
    /// community document) only: a live pull. The peer must name the same scope.
    pub fn start_scoped(
        community: CommunityId,
        peer: MemberId,
        scope: Option<DocId>,
        replica: &mut impl Replica,
    ) -> Result<(Session, Frame), SessionError> {
        let genesis = replica.community(&community)?.map(|(g, _)| g);
        let manifest: Vec<DocDigest> = match &scope {
            None => replica.manifest(&community)?,
            Some(doc) => replica.scoped_manifest(&community, doc)?,
        }
        .iter()
        .map(DocDigest::of)
        .collect();
        let hello = Frame::Hello {
            version: PROTOCOL_VERSION,
            community,
            genesis,
            scope,
            docs: manifest.clone(),
        };
        let mut s = Session {
            community,
            peer,
            genesis,
            phase: Phase::Hello,
            scope,
            local_manifest: manifest,
            docs: BTreeMap::new(),
            pending: BTreeSet::new(),
            sent_sync: 0,
            received_sync: 0,
            last_sent_idle: false,
            peer_acked: None,
            stats: SessionStats::default(),
            changed: BTreeSet::new(),
            held: BTreeMap::new(),
            needs: BTreeMap::new(),
            refused: BTreeMap::new(),
        };
        s.stats.frames_sent += 1;
        Ok((s, hello))
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the session finished successfully.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The peer.
    pub fn peer(&self) -> MemberId {
        self.peer
    }

    /// The community.
    pub fn community(&self) -> CommunityId {
        self.community
    }

    /// Counters so far.
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// Documents whose changes from the peer were refused, and why (the session went on with
    /// the others; their changes were not stored).
    pub fn refused_docs(&self) -> impl Iterator<Item = (&DocId, &RejectReason)> {
        self.refused.iter()
    }

    /// Documents that changed here during the session.
    pub fn changed_docs(&self) -> impl Iterator<Item = &DocId> {
        self.changed.iter()
    }

    /// Handles one frame from the peer and returns the frames to send in reply. An error ends
    /// the session: send the returned [`SessionError::refusal`] frame and close.
    pub fn receive(
        &mut self,
        frame: Frame,
        replica: &mut impl Replica,
    ) -> Result<Vec<Frame>, SessionError> {
        self.receive_batch(vec![frame], replica)
    }

    /// Handles frames from the peer that arrived together, in order, and returns the frames
    /// to send in reply to all of them. What they carry is verified frame by frame, as
    /// [`Session::receive`] does, and made durable with one [`Replica::flush`] before this
    /// returns. On an error, what earlier frames carried is still flushed (it was verified);
    /// nothing of the refused frame, or of later ones, is stored.
    pub fn receive_batch(
        &mut self,
        frames: Vec<Frame>,
        replica: &mut impl Replica,
    ) -> Result<Vec<Frame>, SessionError> {
        let mut out = Vec::new();
        for frame in frames {
            match self.receive_one(frame, replica) {
                Ok(more) => out.extend(more),
                Err(e) => {
                    // Best effort: the session ends with `e` whatever the flush says.
                    let _ = replica.flush();
                    return Err(e);
                }
            }
        }
        if let Err(e) = replica.flush() {
            self.phase = Phase::Failed;
            return Err(e.into());
        }
        Ok(out)
    }

    fn receive_one(
        &mut self,
        frame: Frame,
        replica: &mut impl Replica,
    ) -> Result<Vec<Frame>, SessionError> {
        self.stats.frames_received += 1;
        let result = self.dispatch(frame, replica);
        match &result {
            Ok(out) => self.stats.frames_sent += out.len() as u64,
            Err(_) => self.phase = Phase::Failed,
        }
        result
    }

    fn dispatch(
        &mut self,
        frame: Frame,
        replica: &mut impl Replica,
    ) -> Result<Vec<Frame>, SessionError> {
        match (self.phase, frame) {
            (_, Frame::Refuse { reason }) => Err(SessionError::Refused(reason)),
            (
                Phase::Hello,
                Frame::Hello {
                    version,
                    community,
                    genesis,
                    scope,
                    docs,
                },
            ) => self.on_hello(version, community, genesis, scope, docs, replica),
            (
                Phase::Community | Phase::Documents,
                Frame::Sync {
                    doc,
                    kind,
                    message,
                    changes,
                },
            ) => self.on_sync(doc, kind, &message, changes, replica),
            (Phase::Community | Phase::Documents, Frame::Idle { received }) => {
                self.on_idle(received, replica)
            }
            (phase, frame) => Err(SessionError::Protocol(format!(
                "unexpected {} frame in phase {phase:?}",
                frame.name()
            ))),
        }
    }

    fn on_hello(
        &mut self,
        version: u32,
        community: CommunityId,
        genesis: Option<Genesis>,
        scope: Option<DocId>,
        peer_docs: Vec<DocDigest>,
        replica: &mut impl Replica,
    ) -> Result<Vec<Frame>, SessionError> {
        if version != PROTOCOL_VERSION {
            return Err(SessionError::Protocol(format!(
                "peer speaks protocol version {version}, we speak {PROTOCOL_VERSION}"
            )));
        }
        if community != self.community {
            return Err(SessionError::Protocol(format!(
                "peer wants to sync community {community}, this session is about {}",
                self.community
            )));
        }
        if scope != self.scope {
            return Err(SessionError::Protocol(
                "the peer's hello is about other documents than ours".into(),
            ));
        }
        if peer_docs.len() > MAX_DOCS_PER_HELLO {
            return Err(SessionError::Protocol(format!(
                "peer announced {} documents; the limit is {MAX_DOCS_PER_HELLO}",
                peer_docs.len()
            )));
        }
        match (self.genesis, genesis) {
            (None, Some(g)) if g.community_id() == community => self.genesis = Some(g),
            (None, Some(_)) => {
                return Err(SessionError::Protocol(
                    "peer's founding record does not match the community id".into(),
                ));
            }
            (None, None) => {
                return Err(SessionError::Protocol(
                    "neither side holds this community".into(),
                ));
            }
            (Some(_), _) => {}
        }
        // Documents whose heads differ, or that one side lacks.
        let ours: HashMap<DocId, &DocDigest> =
            self.local_manifest.iter().map(|d| (d.id, d)).collect();
        let community_doc = DocRef::community(community).id;
        let mut kinds: BTreeMap<DocId, DocKind> = BTreeMap::new();
        for d in &peer_docs {
            if let Some(only) = scope
                && d.id != only
                && d.id != community_doc
            {
                return Err(SessionError::Protocol(format!(
                    "peer named document {} in a session about {only}",
                    d.id
                )));
            }
            if (d.id == community_doc) != (d.kind == DocKind::Community) {
                return Err(SessionError::Protocol(format!(
                    "peer announced document {} as a {}",
                    d.id,
                    d.kind.as_str()
                )));
            }
            let differs = ours.get(&d.id).is_none_or(|o| o.heads != d.heads);
            if let Some(o) = ours.get(&d.id)
                && o.kind != d.kind
            {
                return Err(SessionError::Protocol(format!(
                    "peer announced document {} as a {}, it is a {}",
                    d.id,
                    d.kind.as_str(),
                    o.kind.as_str()
                )));
            }
            if differs {
                kinds.insert(d.id, d.kind);
            }
        }
        let peer_ids: BTreeSet<DocId> = peer_docs.iter().map(|d| d.id).collect();
        for d in &self.local_manifest {
            if !peer_ids.contains(&d.id) {
                kinds.insert(d.id, d.kind);
            }
        }
        // The community document is synced first, so that both sides judge the rest by the
        // same roster. When both hellos show it with the same heads it is settled: both sides
        // see the same two hellos, so both skip that phase.
        let community_settled = !kinds.contains_key(&community_doc)
            && ours.contains_key(&community_doc)
            && peer_ids.contains(&community_doc);
        kinds.insert(community_doc, DocKind::Community);
        for (id, kind) in &kinds {
            self.docs.insert(
                *id,
                DocSync {
                    kind: *kind,
                    state: State::new(),
                },
            );
            if *id != community_doc {
                self.pending.insert(*id);
            }
        }
        if community_settled {
            let docs: Vec<DocId> = self.pending.iter().copied().collect();
            if docs.is_empty() {
                self.phase = Phase::Done;
                return Ok(Vec::new());
            }
            self.phase = Phase::Documents;
            return self.begin_phase(replica, &docs);
        }
        self.phase = Phase::Community;
        self.begin_phase(replica, &[community_doc])
    }

    fn begin_phase(
        &mut self,
        replica: &mut impl Replica,
        docs: &[DocId],
    ) -> Result<Vec<Frame>, SessionError> {
        self.sent_sync = 0;
        self.received_sync = 0;
        self.peer_acked = None;
        let mut out = Vec::new();
        for id in docs {
            if let Some(f) = self.generate(*id, replica)? {
                out.push(f);
            }
        }
        self.finish_turn(&mut out);
        Ok(out)
    }

    /// Counts the sync frames in `out` and adds an `Idle` when there is nothing to send.
    fn finish_turn(&mut self, out: &mut Vec<Frame>) {
        let syncs = out
            .iter()
            .filter(|f| matches!(f, Frame::Sync { .. }))
            .count() as u64;
        self.sent_sync += syncs;
        if syncs == 0 {
            out.push(Frame::Idle {
                received: self.received_sync,
            });
            self.last_sent_idle = true;
        } else {
            self.last_sent_idle = false;
        }
    }

    fn on_sync(
        &mut self,
        doc: DocId,
        kind: DocKind,
        message: &[u8],
        changes: Vec<SignedChange>,
        replica: &mut impl Replica,
    ) -> Result<Vec<Frame>, SessionError> {
        let community_doc = DocRef::community(self.community).id;
        let in_phase = match self.phase {
            Phase::Community => doc == community_doc,
            _ => doc != community_doc && self.scope.is_none_or(|only| only == doc),
        };
        // The peer may consider a document out of date that we thought settled: our hellos
        // were taken at slightly different moments while other sessions ran. Take it up.
        if in_phase && self.phase == Phase::Documents && kind != DocKind::Community {
            self.docs.entry(doc).or_insert_with(|| DocSync {
                kind,
                state: State::new(),
            });
        }
        let known_kind = self.docs.get(&doc).map(|d| d.kind);
        if !in_phase || known_kind != Some(kind) {
            return Err(SessionError::Protocol(format!(
                "peer sent a sync frame for document {doc} that this phase does not cover"
            )));
        }
        let doc_ref = DocRef {
            community: self.community,
            kind,
            id: doc,
        };
        if self.refused.contains_key(&doc) {
            // Refused earlier in this session: acknowledged, not answered.
            self.received_sync += 1;
            let mut out = Vec::new();
            self.finish_turn(&mut out);
            return Ok(out);
        }
        let mut msg =
            Message::decode(message).map_err(|e| SessionError::BadSyncMessage(Box::new(e)))?;
        if !msg.changes.is_empty() {
            return Err(SessionError::Protocol(
                "changes must travel beside the sync message, with their signatures".into(),
            ));
        }
        check_haves(&msg)?;
        let mut batch = self.held.remove(&doc).unwrap_or_default();
        batch.extend(changes);
        if !batch.is_empty() {
            let (genesis, roster) = match replica.community(&self.community)? {
                Some(c) => c,
                None => (
                    self.genesis.ok_or_else(|| {
                        SessionError::Protocol("no founding record for this community".into())
                    })?,
                    Roster::default(),
                ),
            };
            let mut working = replica.doc(&doc_ref)?.clone();
            match replica.verify(&doc_ref, &mut working, &batch, &roster, &genesis.founder) {
                Ok(verified) => {
                    self.needs.remove(&doc);
                    if !verified.changes.is_empty() {
                        self.stats.changes_received += verified.changes.len() as u64;
                        self.changed.insert(doc);
                        replica.commit(&doc_ref, &verified, working)?;
                    }
                }
                Err(RejectReason::MissingDependency { missing, .. }) => {
                    // Hold the whole batch (signatures of later changes may vouch for earlier
                    // ones) and ask for what is missing; a peer that never sends it is faulty.
                    let missing: ChangeHash = missing
                        .parse()
                        .map_err(|_| SessionError::Protocol("bad change hash".into()))?;
                    let entry = self.needs.entry(doc).or_insert((Vec::new(), 0));
                    entry.1 += 1;
                    if entry.1 > MAX_NEED_ROUNDS || batch.len() > MAX_HELD {
                        return Err(SessionError::Protocol(format!(
                            "the peer sent changes of document {doc} whose dependency {missing} it does not provide"
                        )));
                    }
                    if !entry.0.contains(&missing) {
                        entry.0.push(missing);
                    }
                    self.held.insert(doc, batch);
                }
                Err(e) if self.phase == Phase::Documents && refuses_only_the_document(&e) => {
                    self.needs.remove(&doc);
                    self.refused.insert(doc, e);
                    self.received_sync += 1;
                    let mut out = Vec::new();
                    self.finish_turn(&mut out);
                    return Ok(out);
                }
                Err(e) => return Err(e.into()),
            }
        }
        msg.changes = ChunkList::empty();
        let state = &mut self
            .docs
            .get_mut(&doc)
            .ok_or_else(|| SessionError::Protocol("document vanished".into()))?
            .state;
        replica
            .doc(&doc_ref)?
            .receive_sync_message(state, msg)
            .map_err(|e| SessionError::SyncMessageRefused(Box::new(e)))?;
        // Keep changes out of Automerge's own encodings: one change per chunk, so each can be
        // paired with its signature.
        if let Some(caps) = state.their_capabilities.as_mut() {
            caps.retain(|c| *c != Capability::MessageV2);
        }
        self.received_sync += 1;
        let mut out = Vec::new();
        if let Some(f) = self.generate(doc, replica)? {
            out.push(f);
        }
        self.finish_turn(&mut out);
        Ok(out)
    }

    fn on_idle(
        &mut self,
        received: u64,
        replica: &mut impl Replica,
    ) -> Result<Vec<Frame>, SessionError> {
        if received > self.sent_sync {
            return Err(SessionError::Protocol(format!(
                "peer acknowledged {received} sync frames, only {} were sent",
                self.sent_sync
            )));
        }
        self.peer_acked = Some(received);
        if received != self.sent_sync {
            // The peer has not seen all our sync frames yet; its answer to them will come.
            return Ok(Vec::new());
        }
        // The peer has processed everything we sent and has nothing to say. If our last frame
        // was a sync frame, the peer is still waiting for our word that we are quiet too.
        let mut out = Vec::new();
        if !self.last_sent_idle {
            out.push(Frame::Idle {
                received: self.received_sync,
            });
            self.last_sent_idle = true;
        }
        match self.phase {
            Phase::Community => {
                let docs: Vec<DocId> = self.pending.iter().copied().collect();
                if docs.is_empty() {
                    self.phase = Phase::Done;
                } else {
                    self.phase = Phase::Documents;
                    out.extend(self.begin_phase(replica, &docs)?);
                }
            }
            Phase::Documents => self.phase = Phase::Done,
            _ => {}
        }
        Ok(out)
    }

    /// The next sync frame for `doc`, if Automerge has something to say.
    fn generate(
        &mut self,
        id: DocId,
        replica: &mut impl Replica,
    ) -> Result<Option<Frame>, SessionError> {
        if self.refused.contains_key(&id) {
            return Ok(None);
        }
        let Some(sync) = self.docs.get_mut(&id) else {
            return Ok(None);
        };
        let doc_ref = DocRef {
            community: self.community,
            kind: sync.kind,
            id,
        };
        let doc = replica.doc(&doc_ref)?;
        let (wanted, rounds) = self
            .needs
            .get(&id)
            .map(|(n, rounds)| (n.clone(), *rounds))
            .unwrap_or_default();
        let mut msg = match doc.generate_sync_message(&mut sync.state) {
            Some(m) => m,
            None if wanted.is_empty() => return Ok(None),
            // Automerge has nothing to say, but we must ask for what we are missing.
            None => Message {
                heads: doc.get_heads(),
                need: Vec::new(),
                have: Vec::new(),
                changes: ChunkList::empty(),
                flags: None,
                version: automerge::sync::MessageVersion::V1,
            },
        };
        for h in wanted {
            if !msg.need.contains(&h) {
                msg.need.push(h);
            }
        }
        // Still missing a dependency after one round of asking: our Bloom filter may be
        // poisoned (changes ground to be false positives of it, so that the peer skips a
        // whole chain and we find one missing change per round trip). Ask without one: the
        // peer then sends everything since the heads we share, at once.
        if rounds >= 2 {
            msg.have = vec![Have {
                last_sync: sync.state.shared_heads.clone(),
                bloom: BloomFilter::default(),
            }];
        }
        // Automerge's encoding requires sorted hash lists.
        msg.need.sort();
        let mut raw = Vec::new();
        for chunk in msg.changes.iter() {
            raw.push(Change::from_bytes(chunk.to_vec()).map_err(|e| {
                SessionError::Replica(ReplicaError::new(format!(
                    "stored change of {id} does not decode: {e}"
                )))
            })?);
        }
        msg.changes = ChunkList::empty();
        let hashes: Vec<ChangeHash> = raw.iter().map(Change::hash).collect();
        let sigs = replica.signatures(&doc_ref, &hashes)?;
        let changes = attach_signatures(&raw, &sigs);
        self.stats.changes_sent += changes.len() as u64;
        Ok(Some(Frame::Sync {
            doc: id,
            kind: sync.kind,
            message: msg.encode(),
            changes,
        }))
    }
}

/// Pairs changes with the signatures they need (see
/// [`vouching_signatures`]).
/// Most Bloom filters one sync message may carry (Automerge sends one, or none).
const MAX_HAVES: usize = 4;
/// Most probes a Bloom filter may ask per hash (Automerge uses 7) and most bits per entry
/// (Automerge uses 10).
const MAX_BLOOM_PROBES: u64 = 32;
const MAX_BLOOM_BITS_PER_ENTRY: u64 = 64;

/// Refuses the Bloom filters of a peer's sync message that Automerge 0.12 would trust to its
/// cost. Automerge tests every change it could send against every filter the peer sent, with
/// as many probes as the filter says (up to 2^32, each one allocated: 16 GiB for one hash),
/// and a filter that claims entries but has no bits makes it divide by zero (a panic). An
/// honest filter (`BloomFilter::from_hashes`) has 7 probes, 10 bits per entry, and bits.
fn check_haves(msg: &Message) -> Result<(), SessionError> {
    if msg.have.len() > MAX_HAVES {
        return Err(SessionError::Protocol(format!(
            "the sync message carries {} Bloom filters; the limit is {MAX_HAVES}",
            msg.have.len()
        )));
    }
    for have in &msg.have {
        let bytes = have.bloom.to_bytes();
        if bytes.is_empty() {
            continue; // no entries: Automerge tests nothing against it
        }
        let mut rest = bytes.as_slice();
        let mut uleb = || -> Option<u64> {
            let mut value = 0u64;
            for shift in (0..35).step_by(7) {
                let (&b, tail) = rest.split_first()?;
                rest = tail;
                value |= u64::from(b & 0x7f) << shift;
                if b & 0x80 == 0 {
                    return Some(value);
                }
            }
            None
        };
        let parsed = (|| Some((uleb()?, uleb()?, uleb()?)))();
        let Some((_entries, bits_per_entry, probes)) = parsed else {
            return Err(SessionError::Protocol(
                "a Bloom filter does not parse".into(),
            ));
        };
        if rest.is_empty() || probes > MAX_BLOOM_PROBES || bits_per_entry > MAX_BLOOM_BITS_PER_ENTRY
        {
            return Err(SessionError::Protocol(format!(
                "a Bloom filter with {probes} probes, {bits_per_entry} bits per entry and {} bytes of bits is refused",
                rest.len()
            )));
        }
    }
    Ok(())
}

fn attach_signatures(changes: &[Change], sigs: &[Option<Signature>]) -> Vec<SignedChange> {
    changes
        .iter()
        .zip(vouching_signatures(changes, sigs))
        .map(|(c, signature)| SignedChange {
            bytes: c.raw_bytes().to_vec(),
            signature,
        })
        .collect()
}

/// The heads of a document in the form a hello carries.
pub fn heads_of(doc: &Automerge) -> Vec<[u8; 32]> {
    doc.get_heads().into_iter().map(|h| h.0).collect()
}
