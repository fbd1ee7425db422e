//! The write path: loaded documents (the cache and its lock), local changes made, signed and
//! durably stored with their index rows before they are acknowledged, and edits made against
//! the version an editor showed.

use std::collections::HashMap;
use std::sync::MutexGuard;

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{Automerge, Change, ChangeHash, ReadDoc};
use commonplace_base::{DocId, PostId, Timestamp};
use commonplace_model::{
    DocActivity, DocKind, DocRef, SchemaError, activity, community, entry, event, load_document,
    new_document, thread, verify,
};
use commonplace_store::{Commit, DocRecord, DocWrite, IndexRow, SNAPSHOT_EVERY};

use crate::peers::pending_key;
use crate::{Node, NodeError, NodeEvent};

/// Loaded Automerge documents, so repeated edits of one entry do not reload it each time.
#[derive(Debug, Default)]
pub(crate) struct DocCache {
    pub(crate) docs: HashMap<DocId, Automerge>,
}

const CACHE_DOCS: usize = 256;

impl Node {
    pub(crate) fn lock_docs(&self) -> MutexGuard<'_, DocCache> {
        // A panic while holding the lock leaves at worst a document with an uncommitted
        // change in the cache; clear it rather than propagate the poison.
        self.doc_lock().lock().unwrap_or_else(|poisoned| {
            let mut g = poisoned.into_inner();
            g.docs.clear();
            g
        })
    }

    pub(crate) fn doc_record(&self, id: &DocId, kind: DocKind) -> Result<DocRecord, NodeError> {
        self.store()
            .doc_record(id)?
            .filter(|r| r.kind == kind)
            .ok_or_else(|| NodeError::NotFound {
                what: kind.as_str(),
                text: id.to_string(),
            })
    }

    /// The loaded document, from the cache or the store.
    pub(crate) fn loaded<'c>(
        &self,
        cache: &'c mut DocCache,
        id: &DocId,
        rec: &DocRecord,
    ) -> Result<&'c mut Automerge, NodeError> {
        if !cache.docs.contains_key(id) {
            let doc = self.load_from_store(id, rec)?;
            cache.put(*id, doc);
        }
        cache.docs.get_mut(id).ok_or_else(|| NodeError::NotFound {
            what: rec.kind.as_str(),
            text: id.to_string(),
        })
    }

    fn load_from_store(&self, id: &DocId, rec: &DocRecord) -> Result<Automerge, NodeError> {
        let corrupt = |detail: String| {
            NodeError::Store(commonplace_store::StoreError::Corrupt {
                what: "document",
                detail: format!("{} {id}: {detail}", rec.kind.as_str()),
            })
        };
        let loaded = self
            .store()
            .load_doc(id)?
            .ok_or_else(|| corrupt("missing".into()))?;
        let from_log = |from: &str| -> Result<Automerge, NodeError> {
            let changes = self.store().changes(id)?;
            replay(new_document(&self.actor()), changes, from).map_err(corrupt)
        };
        let Some(snapshot) = &loaded.snapshot else {
            return replay(new_document(&self.actor()), loaded.tail, "its change log")
                .map_err(corrupt);
        };
        // The snapshot is a cache of the change log: a snapshot that does not load (written
        // before the gate refused changes Automerge does not reproduce, or damaged) costs a
        // replay of the log, never the document.
        let doc = match load_document(snapshot, &self.actor()) {
            Ok(doc) => doc,
            Err(e) => {
                tracing::warn!(
                    "{} {id}: its snapshot does not load ({e}); rebuilt from its change log",
                    rec.kind.as_str()
                );
                return from_log("its change log");
            }
        };
        match replay(doc, loaded.tail, "the changes after its snapshot") {
            Ok(doc) => Ok(doc),
            Err(e) => {
                tracing::warn!(
                    "{} {id}: {e}; rebuilt from its whole change log",
                    rec.kind.as_str()
                );
                from_log("its change log")
            }
        }
    }

    /// Makes one local change to one document, signs it, stores it durably with its index
    /// row, and only then reports success.
    pub(crate) fn write<R>(
        &self,
        doc_ref: DocRef,
        create: bool,
        f: impl FnOnce(&mut Transaction<'_>, Timestamp) -> Result<R, SchemaError>,
    ) -> Result<R, NodeError> {
        self.write_as(doc_ref, create, Derive::Read, f)
    }

    /// [`Node::write`], saying how the new index row is found.
    pub(crate) fn write_as<R>(
        &self,
        doc_ref: DocRef,
        create: bool,
        derive: Derive<'_>,
        f: impl FnOnce(&mut Transaction<'_>, Timestamp) -> Result<R, SchemaError>,
    ) -> Result<R, NodeError> {
        let mut cache = self.lock_docs();
        let rec = self.store().doc_record(&doc_ref.id)?;
        if create {
            if rec.is_some() {
                return Err(NodeError::NotAllowed(format!(
                    "{} already exists",
                    doc_ref.id
                )));
            }
            cache.put(doc_ref.id, new_document(&self.actor()));
        }
        let doc = match &rec {
            Some(r) => self.loaded(&mut cache, &doc_ref.id, r)?,
            None => cache
                .docs
                .get_mut(&doc_ref.id)
                .ok_or_else(|| NodeError::NotFound {
                    what: doc_ref.kind.as_str(),
                    text: doc_ref.id.to_string(),
                })?,
        };
        let now = Timestamp::now();
        let outcome = doc.transact_with(
            |_| CommitOptions::default().with_time(now.0),
            |tx| f(tx, now),
        );
        let success = match outcome {
            Ok(s) => s,
            Err(failure) => {
                if create {
                    cache.docs.remove(&doc_ref.id);
                }
                return Err(failure.error.into());
            }
        };
        let Some(hash) = success.hash else {
            return Ok(success.result);
        };
        let row = match derive {
            Derive::Read => Ok(None),
            Derive::Reply { post, body } => self.reply_row(&doc_ref, post, body, now),
        };
        #[cfg(debug_assertions)]
        if let Ok(Some(row)) = &row {
            // The derived row must be the one a full read gives; every debug test checks it.
            if let Ok((index, _, activity)) = index_row(&doc_ref, doc) {
                debug_assert_eq!(
                    format!("{:?}", (&row.0, &row.2)),
                    format!("{:?}", (&index, &activity))
                );
            }
        }
        let stored =
            row.and_then(|row| self.sign_and_store_with(doc, &doc_ref, rec.as_ref(), &hash, row));
        match stored {
            Ok(event) => {
                drop(cache);
                self.emit(event);
                Ok(success.result)
            }
            Err(e) => {
                // The change is in memory but not on disk: forget the document so the next
                // read comes from the store again.
                cache.docs.remove(&doc_ref.id);
                Err(e)
            }
        }
    }

    /// The index row after a reply this node just wrote, derived from the stored row instead
    /// of reading the whole thread; `None` when the stored row cannot be extended (no activity
    /// records yet): read the thread then.
    fn reply_row(
        &self,
        doc_ref: &DocRef,
        post: PostId,
        body: &str,
        now: Timestamp,
    ) -> Result<Option<Row>, NodeError> {
        let Some((summary, Some(DocActivity::Thread(mut posts)))) =
            self.store().thread_row(&doc_ref.community, &doc_ref.id)?
        else {
            return Ok(None);
        };
        let record = commonplace_model::PostRecord {
            id: post,
            author: Some(self.member_id()),
            at: now,
            helped_by: Vec::new(),
            links: activity::links_in(body),
        };
        Ok(summary.with_reply(&mut posts, record).map(|s| {
            (
                IndexRow::Thread(Box::new(s)),
                NodeEvent::ThreadChanged {
                    community: doc_ref.community,
                    thread: doc_ref.id,
                },
                Some(DocActivity::Thread(posts)),
            )
        }))
    }

    pub(crate) fn sign_and_store(
        &self,
        doc: &Automerge,
        doc_ref: &DocRef,
        rec: Option<&DocRecord>,
        hash: &automerge::ChangeHash,
    ) -> Result<NodeEvent, NodeError> {
        self.sign_and_store_with(doc, doc_ref, rec, hash, None)
    }

    /// [`Node::sign_and_store`] with the index row already known, if it is.
    fn sign_and_store_with(
        &self,
        doc: &Automerge,
        doc_ref: &DocRef,
        rec: Option<&DocRecord>,
        hash: &automerge::ChangeHash,
        row: Option<Row>,
    ) -> Result<NodeEvent, NodeError> {
        let change = doc
            .get_change_by_hash(hash)
            .ok_or(NodeError::Internal("the change vanished"))?;
        let signature = doc_ref.sign(self.secret_key(), hash);
        let (write, event) = doc_write(
            doc_ref,
            doc,
            rec,
            &[commonplace_model::SignedChange {
                bytes: change.raw_bytes().to_vec(),
                signature: Some(signature),
            }],
            &[*hash],
            row,
        )?;
        self.store().commit(&Commit {
            docs: vec![write],
            // Counted until a sync with some member completes: "not yet shared".
            meta: vec![(
                pending_key(&doc_ref.community),
                (self.unshared(&doc_ref.community)? + 1)
                    .to_le_bytes()
                    .to_vec(),
            )],
        })?;
        Ok(event)
    }

    /// Reads a document with `read`, with the version (heads) it was read at.
    pub(crate) fn read_versioned<T>(
        &self,
        id: &DocId,
        kind: DocKind,
        read: impl FnOnce(&automerge::Automerge) -> Result<T, SchemaError>,
    ) -> Result<(T, Vec<String>), NodeError> {
        let rec = self.doc_record(id, kind)?;
        let mut cache = self.lock_docs();
        let doc = self.loaded(&mut cache, id, &rec)?;
        let version = doc.get_heads().iter().map(ToString::to_string).collect();
        Ok((read(doc)?, version))
    }

    /// Records `edit` as a change on top of the version `base` (a document's heads as an
    /// editor last saw them), merges it into the document, signs and stores it, and emits
    /// `event`. An edit that records no more than `unchanged_ops` operations is dropped: the
    /// text did not change.
    pub(crate) fn edit_at_version(
        &self,
        rec: &commonplace_store::DocRecord,
        doc_ref: DocRef,
        base: &[String],
        unchanged_ops: usize,
        event: crate::NodeEvent,
        edit: impl FnOnce(
            &mut automerge::transaction::Transaction<'_>,
            Timestamp,
        ) -> Result<(), SchemaError>,
    ) -> Result<(), NodeError> {
        let id = &doc_ref.id;
        let base: Vec<ChangeHash> = base
            .iter()
            .map(|h| h.parse())
            .collect::<Result<_, _>>()
            .map_err(|_| stale())?;
        let mut cache = self.lock_docs();
        let doc = self.loaded(&mut cache, id, rec)?;
        let mine = self.actor();
        // Our own newer changes must be part of the base: the editor sends its edits in order,
        // so this only fails for an editor that lost track, which then reloads.
        if base.iter().any(|h| doc.get_change_by_hash(h).is_none())
            || doc
                .get_changes(&base)
                .iter()
                .any(|c| c.actor_id().to_bytes() == mine)
        {
            return Err(stale());
        }
        let mut fork = doc.fork_at(&base).map_err(am)?;
        fork.set_actor(automerge::ActorId::from(mine.as_slice()));
        let now = Timestamp::now();
        /// Why an edit's transaction was rolled back: decided on the variant, not on text.
        enum NoEdit {
            /// The edit changed nothing: not an error, nothing to store.
            Unchanged,
            /// The edit is not valid.
            Invalid(SchemaError),
        }
        let outcome = fork.transact_with(
            |_| CommitOptions::default().with_time(now.0),
            |tx| {
                edit(tx, now).map_err(NoEdit::Invalid)?;
                if tx.pending_ops() <= unchanged_ops {
                    return Err(NoEdit::Unchanged);
                }
                Ok(())
            },
        );
        let hash = match outcome {
            Ok(ok) => ok.hash,
            Err(f) => match f.error {
                NoEdit::Unchanged => None,
                NoEdit::Invalid(e) => return Err(e.into()),
            },
        };
        let Some(hash) = hash else {
            return Ok(());
        };
        let change = fork
            .get_change_by_hash(&hash)
            .ok_or(NodeError::Internal("the edit vanished"))?
            .clone();
        if let Err(e) = doc.apply_changes([change]) {
            cache.docs.remove(id);
            return Err(am(e));
        }
        if let Err(e) = self.sign_and_store(doc, &doc_ref, Some(rec), &hash) {
            cache.docs.remove(id);
            return Err(e);
        }
        drop(cache);
        self.emit(event);
        Ok(())
    }
}

impl DocCache {
    pub(crate) fn put(&mut self, id: DocId, doc: Automerge) {
        if self.docs.len() >= CACHE_DOCS && !self.docs.contains_key(&id) {
            // Documents are cheap to reload from their snapshots; a simple reset keeps
            // memory bounded without bookkeeping.
            self.docs.clear();
        }
        self.docs.insert(id, doc);
    }
}

/// How a local write finds its new index row.
pub(crate) enum Derive<'a> {
    /// Read the document.
    Read,
    /// From the stored row: the write adds reply `post` with this body, nothing else.
    Reply { post: PostId, body: &'a str },
}

/// A document's index row, the event to publish and its activity records.
pub(crate) type Row = (IndexRow, NodeEvent, Option<DocActivity>);

/// The store write for new changes of one document: the changes with their hashes, the new
/// heads, the index row (`row`, or read from `doc`), and a snapshot when one is due.
pub(crate) fn doc_write(
    doc_ref: &DocRef,
    doc: &Automerge,
    rec: Option<&DocRecord>,
    changes: &[commonplace_model::SignedChange],
    hashes: &[automerge::ChangeHash],
    row: Option<Row>,
) -> Result<(DocWrite, NodeEvent), NodeError> {
    let (index, event, activity) = match row {
        Some(row) => row,
        None => index_row(doc_ref, doc)?,
    };
    let since_snapshot = rec.map_or(0, |r| r.changes - r.snapshot_upto) + changes.len() as u64;
    // Uncompressed: a snapshot is a local cache of the change log, and deflating it was a
    // tenth of an import's time (loading it back is faster too).
    let snapshot =
        (rec.is_none() || since_snapshot >= SNAPSHOT_EVERY).then(|| doc.save_nocompress());
    Ok((
        DocWrite {
            doc: *doc_ref,
            changes: changes.to_vec(),
            hashes: hashes.iter().map(|h| h.0).collect(),
            heads: doc.get_heads().iter().map(|h| h.0).collect(),
            snapshot,
            index,
            activity,
        },
        event,
    ))
}

/// [`index_row`] from a read the verification already made.
pub(crate) fn row_of(doc_ref: &DocRef, doc: &Automerge, read: verify::DocRead) -> Row {
    match read {
        verify::DocRead::Community(c) => (
            IndexRow::Community(c),
            NodeEvent::CommunityChanged {
                community: doc_ref.community,
            },
            None,
        ),
        verify::DocRead::Thread(t) => (
            IndexRow::Thread(Box::new(t.summary())),
            NodeEvent::ThreadChanged {
                community: doc_ref.community,
                thread: doc_ref.id,
            },
            Some(DocActivity::Thread(t.activity())),
        ),
        verify::DocRead::Entry(e) => (
            IndexRow::Entry(Box::new(e.summary())),
            NodeEvent::EntryChanged {
                community: doc_ref.community,
                entry: doc_ref.id,
            },
            Some(DocActivity::Entry(activity::entry_edits(doc))),
        ),
        verify::DocRead::Event(e) => (
            IndexRow::Event(Box::new(e.summary())),
            NodeEvent::EventChanged {
                community: doc_ref.community,
                event: doc_ref.id,
            },
            None,
        ),
    }
}

/// The index row, the event to publish and the activity records of a document.
pub(crate) fn index_row(doc_ref: &DocRef, doc: &Automerge) -> Result<Row, NodeError> {
    Ok(match doc_ref.kind {
        DocKind::Community => (
            IndexRow::Community(Box::new(community::read(doc)?)),
            NodeEvent::CommunityChanged {
                community: doc_ref.community,
            },
            None,
        ),
        DocKind::Thread => {
            let t = thread::read(doc, doc_ref.id)?;
            (
                IndexRow::Thread(Box::new(t.summary())),
                NodeEvent::ThreadChanged {
                    community: doc_ref.community,
                    thread: doc_ref.id,
                },
                Some(DocActivity::Thread(t.activity())),
            )
        }
        DocKind::Entry => (
            IndexRow::Entry(Box::new(entry::read(doc, doc_ref.id)?.summary())),
            NodeEvent::EntryChanged {
                community: doc_ref.community,
                entry: doc_ref.id,
            },
            Some(DocActivity::Entry(activity::entry_edits(doc))),
        ),
        DocKind::Event => (
            IndexRow::Event(Box::new(event::read(doc, doc_ref.id)?.summary())),
            NodeEvent::EventChanged {
                community: doc_ref.community,
                event: doc_ref.id,
            },
            None,
        ),
    })
}

/// Applies stored changes to `doc`, in stored order (dependencies first); `what` names them
/// in the error.
fn replay(
    mut doc: Automerge,
    changes: Vec<commonplace_model::SignedChange>,
    what: &str,
) -> Result<Automerge, String> {
    let mut decoded = Vec::with_capacity(changes.len());
    for c in changes {
        decoded.push(Change::from_bytes(c.bytes).map_err(|e| format!("{what}: {e}"))?);
    }
    doc.apply_changes(decoded)
        .map_err(|e| format!("{what}: {e}"))?;
    Ok(doc)
}

fn stale() -> NodeError {
    NodeError::StaleVersion
}

fn am(e: automerge::AutomergeError) -> NodeError {
    NodeError::Invalid(SchemaError::from(e))
}
