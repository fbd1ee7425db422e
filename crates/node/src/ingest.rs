//! The ingest gate: the one way changes from outside this node reach its store.
//!
//! Every change another node made arrives by one of three ways today — a bundle
//! ([`Node::import`]), a sync session (`NodeReplica` in `sync.rs`) or the carried changes of
//! a live announcement (`apply_carried` in `live.rs`) — and each is a thin call into this
//! module, so a check added here holds for all of them (and for whatever way comes next).
//! The rules are written down once, in `docs/architecture.md` ("The ingest gate").
//!
//! The gate works in two steps that never mix:
//!
//! 1. **Staging** ([`Node::stage`]): the batch's shape (each document named once, the
//!    community document named as what it is), the stored record of each document (same
//!    kind, same community), then `commonplace_model::verify` on working copies: decoding,
//!    every signature of the batch checked together (each strictly, one by one), authority
//!    by the roster as stored while the community document is claimed, schema, and the
//!    save/load reproducibility check. The community document goes first: its new roster
//!    judges the rest. Nothing is written; a refusal leaves the store and the cache as they
//!    were. This is the long part, and it holds only the gate and the claims of the batch's
//!    documents (see `cache.rs`): readers, and writers of other documents, do not wait.
//! 2. **Committing** ([`Node::commit_staged`]): one redb transaction for every document that
//!    changed, durable or not as the caller asks ([`Durability`]); only then do the working
//!    copies replace the cached documents. The caller emits the events after it has let go
//!    of the gate and the claims.
//!
//! What the gate must never do: store or cache anything of a batch that did not pass as a
//! whole, judge by a roster read without the community document's claim, or decide on
//! error text.

use automerge::Automerge;
use commonplace_base::{CommunityId, DocId, MemberId};
use commonplace_model::verify::{DocRead, Verified};
use commonplace_model::{
    Community, DocKind, DocRef, Genesis, RejectReason, Roster, SignedChange, community,
    new_document, verify,
};
use commonplace_store::{Commit, DocRecord, DocWrite};

use crate::write::{doc_write, row_of};
use crate::{Node, NodeError, NodeEvent};

/// Imports of at least this many changes spread their documents over the cores.
pub(crate) const PARALLEL_FROM: usize = 2_000;

pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// `f` over every job, on up to `threads` scoped threads (all joined before this returns),
/// results in the order of the jobs. Jobs are dealt round-robin: an import's documents are
/// of similar size, so this balances well enough without a queue.
pub(crate) fn in_parallel<T, R, E>(
    jobs: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> Result<R, E> + Sync,
) -> Vec<Result<R, E>>
where
    T: Send,
    R: Send,
    E: Send + From<NodeError>,
{
    let n = jobs.len();
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return jobs.into_iter().map(f).collect();
    }
    let mut shares: Vec<Vec<(usize, T)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, job) in jobs.into_iter().enumerate() {
        shares[i % threads].push((i, job));
    }
    let f = &f;
    let mut out: Vec<Option<Result<R, E>>> = (0..n).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| {
                s.spawn(move || {
                    share
                        .into_iter()
                        .map(|(i, job)| (i, f(job)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            // A worker that panicked leaves its results empty: reported below.
            if let Ok(results) = h.join() {
                for (i, r) in results {
                    out[i] = Some(r);
                }
            }
        }
    });
    out.into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(
                    NodeError::Internal("a document could not be processed (its worker failed)")
                        .into(),
                )
            })
        })
        .collect()
}

/// How durable a commit must be when the gate returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// On disk before the gate returns (imports, sync sessions).
    Durable,
    /// Visible at once, on disk with the next durable write or flush: for what a peer can
    /// send again (live announcements), so a burst costs one disk sync.
    Eventual,
}

/// One document's changes as they arrived.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arrived<'a> {
    /// The document, as the sender names it.
    pub(crate) doc: DocRef,
    /// Its changes, with their signatures.
    pub(crate) changes: &'a [SignedChange],
}

/// A batch that passed every check and is not stored yet.
#[derive(Debug)]
pub(crate) struct Staged {
    /// The community as the batch leaves it.
    pub(crate) community: Community,
    /// Changes that arrived, new or known.
    pub(crate) arrived: usize,
    docs: Vec<StagedDoc>,
}

#[derive(Debug)]
struct StagedDoc {
    doc: DocRef,
    working: Automerge,
    rec: Option<DocRecord>,
    verified: Verified,
}

/// What a commit stored.
#[derive(Debug, Default)]
pub(crate) struct Ingested {
    /// The events to emit once the document lock is let go.
    pub(crate) events: Vec<NodeEvent>,
    /// Changes that were new here.
    pub(crate) new_changes: usize,
    /// The documents that changed, with their new heads.
    pub(crate) heads: Vec<(DocId, Vec<[u8; 32]>)>,
}

/// Refuses a batch whose shape no honest sender produces, before anything is decoded.
fn check_shape(community_id: &CommunityId, batches: &[Arrived<'_>]) -> Result<(), RejectReason> {
    let community_doc = DocRef::community(*community_id).id;
    let mut seen = std::collections::HashSet::with_capacity(batches.len());
    for b in batches {
        let d = &b.doc;
        if d.community != *community_id {
            return Err(RejectReason::Malformed {
                doc: d.id,
                detail: "it was sent as part of another community".into(),
            });
        }
        if (d.id == community_doc) != (d.kind == DocKind::Community) {
            return Err(RejectReason::KindMismatch {
                doc: d.id,
                known: if d.id == community_doc {
                    DocKind::Community.as_str()
                } else {
                    "thread, entry or event"
                },
                claimed: d.kind.as_str(),
            });
        }
        // Two batches for one document would be verified against the same stored state and
        // stored as two writes, the second hiding the first's heads.
        if !seen.insert(d.id) {
            return Err(RejectReason::Malformed {
                doc: d.id,
                detail: "the document is named twice in one batch".into(),
            });
        }
    }
    Ok(())
}

/// Verifies one document's changes whose working copy and roster the caller holds.
fn verify_one(
    doc: &DocRef,
    working: &mut Automerge,
    changes: &[SignedChange],
    roster: &Roster,
    founder: &MemberId,
) -> Result<Verified, RejectReason> {
    verify::verify_and_apply(doc, working, changes, roster, founder)
}

impl Node {
    /// Staging for a caller that holds the working copy and the roster itself (a sync
    /// session, which reads the roster through `Replica::community`, that is
    /// [`Node::judging_community`]): the same shape and record checks as [`Node::stage`],
    /// then `model::verify`.
    pub(crate) fn stage_one(
        &self,
        doc: &DocRef,
        working: &mut Automerge,
        changes: &[SignedChange],
        roster: &Roster,
        founder: &MemberId,
    ) -> Result<Verified, RejectReason> {
        check_shape(&doc.community, &[Arrived { doc: *doc, changes }])?;
        self.staging(std::slice::from_ref(doc));
        match self.ingest_target(doc) {
            Ok(_) => {}
            Err(NodeError::Rejected(r)) => return Err(r),
            // A local fault is not the peer's: the caller's next store access reports it.
            Err(e) => tracing::warn!("ingest: could not read the record of {}: {e}", doc.id),
        }
        verify_one(doc, working, changes, roster, founder)
    }

    /// The stored record of `doc`, refused if it is held here as another kind or in another
    /// community (the peer learns nothing about other communities from the refusal).
    pub(crate) fn ingest_target(&self, doc: &DocRef) -> Result<Option<DocRecord>, NodeError> {
        let rec = self.store().doc_record(&doc.id)?;
        if let Some(r) = &rec
            && (r.kind != doc.kind || r.community != doc.community)
        {
            return Err(RejectReason::KindMismatch {
                doc: doc.id,
                known: if r.community == doc.community {
                    r.kind.as_str()
                } else {
                    "document of another community"
                },
                claimed: doc.kind.as_str(),
            }
            .into());
        }
        Ok(rec)
    }

    /// The community as stored, with the roster threads, entries and events are judged by
    /// (who became read-only when, which the store's record does not keep, filled in from
    /// the community document). Read with the community document's claim held, so that the
    /// roster cannot change before the batch it judges is committed.
    pub(crate) fn judging_community(
        &self,
        id: &CommunityId,
    ) -> Result<Option<Community>, NodeError> {
        let Some(mut c) = self.store().community(id)? else {
            return Ok(None);
        };
        if c.roster.members.values().any(|m| !m.role.can_contribute()) {
            let community_doc = DocRef::community(*id).id;
            if let Some(r) = self.store().doc_record(&community_doc)? {
                self.read_doc(&community_doc, &r, |doc| {
                    community::fill_read_only_since(doc, &mut c.roster);
                })?;
            }
        }
        Ok(Some(c))
    }

    /// Staging: every check of the gate on working copies; nothing is stored or cached. The
    /// caller holds the gate and the claims of the community document and of every document
    /// of the batch; no other lock is held while the changes are verified.
    pub(crate) fn stage(
        &self,
        genesis: &Genesis,
        batches: &[Arrived<'_>],
    ) -> Result<Staged, NodeError> {
        let community_id = genesis.community_id();
        check_shape(&community_id, batches)?;
        let community_ref = DocRef::community(community_id);
        let arrived = batches.iter().map(|b| b.changes.len()).sum();
        let working_copy = |doc: &DocRef| -> Result<_, NodeError> {
            let rec = self.ingest_target(doc)?;
            let working = match &rec {
                Some(r) => self.copy_of(&doc.id, r)?,
                None => new_document(&self.actor()),
            };
            Ok((rec, working))
        };
        let mut docs = Vec::with_capacity(batches.len());
        // Every document decoded and ordered first (the community document too), then the
        // signatures of all of them checked together, and only then applied, each to its
        // own working copy.
        let community_batch = match batches.iter().find(|b| b.doc.kind == DocKind::Community) {
            Some(b) => {
                let (rec, working) = working_copy(&community_ref)?;
                let p = verify::prepare(&community_ref, &working, b.changes)?;
                Some((rec, working, p))
            }
            None => None,
        };
        let mut pending = Vec::new();
        for b in batches.iter().filter(|b| b.doc.kind != DocKind::Community) {
            let (rec, working) = working_copy(&b.doc)?;
            pending.push((b.doc, working, rec, b.changes));
        }
        self.staging(&batches.iter().map(|b| b.doc).collect::<Vec<_>>());
        let threads = if arrived >= PARALLEL_FROM { cores() } else { 1 };
        // Decoding (and hashing) every change is pure work per document: spread it too.
        let mut prepared = Vec::with_capacity(pending.len() + 1);
        let community_batch = community_batch.map(|(rec, working, p)| {
            prepared.push(p);
            (rec, working)
        });
        let pending: Vec<_> = in_parallel(pending, threads, |(doc, working, rec, changes)| {
            let p = verify::prepare(&doc, &working, changes)?;
            Ok::<_, NodeError>(((doc, working, rec), p))
        })
        .into_iter()
        .map(|r| {
            r.map(|(job, p)| {
                prepared.push(p);
                job
            })
        })
        .collect::<Result<_, _>>()?;
        let mut checked = verify::check_signatures(prepared)?.into_iter();
        // The community document is applied first: the community as the batch leaves it
        // judges the rest (its own changes are judged by the roster at their dependencies).
        let mut community = None;
        if let Some((rec, mut working)) = community_batch {
            let c = checked.next().ok_or_else(|| RejectReason::Malformed {
                doc: community_ref.id,
                detail: "the community document's batch went missing".into(),
            })?;
            let verified =
                verify::apply_checked(c, &mut working, &Roster::default(), &genesis.founder)?;
            if let Some(DocRead::Community(c)) = &verified.read {
                community = Some((**c).clone());
            }
            docs.push(StagedDoc {
                doc: community_ref,
                working,
                rec,
                verified,
            });
        }
        let community = match community {
            Some(c) => c,
            None => self
                .judging_community(&community_id)?
                .ok_or_else(|| RejectReason::Schema {
                    doc: community_ref.id,
                    detail: "no readable community document, here or in what arrived".into(),
                })?,
        };
        let roster = &community.roster;
        let founder = &genesis.founder;
        let jobs: Vec<_> = pending.into_iter().zip(checked).collect();
        for r in in_parallel(jobs, threads, |((doc, mut working, rec), c)| {
            let verified = verify::apply_checked(c, &mut working, roster, founder)?;
            Ok::<_, NodeError>(StagedDoc {
                doc,
                working,
                rec,
                verified,
            })
        }) {
            docs.push(r?);
        }
        Ok(Staged {
            community,
            arrived,
            docs,
        })
    }

    /// Committing: one store transaction for every staged document that changed, as
    /// durable as asked; then the working copies replace the cached documents, each under its
    /// own slot lock.
    pub(crate) fn commit_staged(
        &self,
        staged: Staged,
        durability: Durability,
    ) -> Result<Ingested, NodeError> {
        let mut out = Ingested::default();
        let mut writes = Vec::new();
        let mut changed = Vec::new();
        for d in staged.docs {
            if d.verified.changes.is_empty() {
                continue;
            }
            let (write, event) = ingest_write(&d.doc, &d.working, d.rec.as_ref(), d.verified)?;
            out.new_changes += write.changes.len();
            out.heads.push((d.doc.id, write.heads.clone()));
            out.events.push(event);
            writes.push(write);
            changed.push((d.doc.id, d.working));
        }
        self.store_writes(writes, durability)?;
        for (id, doc) in changed {
            self.docs().install(id, doc);
        }
        Ok(out)
    }

    /// Stores the writes of verified documents in one transaction.
    pub(crate) fn store_writes(
        &self,
        docs: Vec<DocWrite>,
        durability: Durability,
    ) -> Result<(), NodeError> {
        if docs.is_empty() {
            return Ok(());
        }
        let commit = Commit {
            docs,
            meta: Vec::new(),
        };
        match durability {
            Durability::Durable => self.store().commit(&commit)?,
            Durability::Eventual => self.store().commit_eventually(&commit)?,
        }
        Ok(())
    }

    /// The whole gate for callers that hand it everything at once (imports, announcements):
    /// stage, commit, and emit the events once the gate is let go.
    pub(crate) fn ingest(
        &self,
        genesis: &Genesis,
        batches: &[Arrived<'_>],
        durability: Durability,
    ) -> Result<(Community, usize, Ingested), NodeError> {
        let gate = self.docs().gate();
        // The community document too: its roster judges the batch and must not change before
        // the commit.
        let community_doc = DocRef::community(genesis.community_id()).id;
        let mut claims = vec![self.docs().claim(community_doc)];
        let mut claimed = std::collections::HashSet::from([community_doc]);
        // (A document named twice is claimed once; staging refuses the batch.)
        for b in batches {
            if claimed.insert(b.doc.id) {
                claims.push(self.docs().claim(b.doc.id));
            }
        }
        let staged = self.stage(genesis, batches)?;
        let (community, arrived) = (staged.community.clone(), staged.arrived);
        let ingested = self.commit_staged(staged, durability)?;
        drop(claims);
        drop(gate);
        for e in &ingested.events {
            self.emit(e.clone());
        }
        Ok((community, arrived, ingested))
    }

    /// Verifies and stores changes of one document of a community held here, as a live
    /// announcement carries them: through the same gate as imports and sync sessions, not
    /// yet durably (what a peer announced it sends again). Returns the document's new heads,
    /// or `None` when nothing was new or the community is not held here.
    pub fn ingest_carried(
        &self,
        doc: &DocRef,
        changes: &[SignedChange],
    ) -> Result<Option<Vec<[u8; 32]>>, NodeError> {
        let batch = [Arrived { doc: *doc, changes }];
        // A misnamed document is refused even for a community not held here.
        check_shape(&doc.community, &batch)?;
        let Some(c) = self.store().community(&doc.community)? else {
            return Ok(None);
        };
        let (_, _, ingested) = self.ingest(&c.genesis, &batch, Durability::Eventual)?;
        Ok(ingested.heads.into_iter().next().map(|(_, heads)| heads))
    }
}

/// The store write and the event for one verified document.
pub(crate) fn ingest_write(
    doc: &DocRef,
    working: &Automerge,
    rec: Option<&DocRecord>,
    mut verified: Verified,
) -> Result<(DocWrite, NodeEvent), NodeError> {
    // The schema check's read of the document, for its index row: one read, not two.
    let row = verified.read.take().map(|r| row_of(doc, working, r));
    doc_write(doc, working, rec, &verified.changes, &verified.hashes, row)
}
