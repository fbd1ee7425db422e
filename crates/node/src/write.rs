//! The write path: reading loaded documents (the cache and its locks are in `cache.rs`),
//! local changes made, signed and durably stored with their index rows before they are
//! acknowledged, and edits made against the version an editor showed.

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{Automerge, Change, ChangeHash, ReadDoc};
use commonplace_base::{DocId, PostId, Timestamp};
use commonplace_model::{
    DocActivity, DocKind, DocRef, SchemaError, activity, community, entry, event, load_document,
    new_document, thread, verify,
};
use commonplace_store::{Commit, DocRecord, DocWrite, IndexRow, SNAPSHOT_EVERY};

use crate::cache::{Slot, lock_slot};
use crate::peers::pending_key;
use crate::{Node, NodeError, NodeEvent};

impl Node {
    pub(crate) fn doc_record(&self, id: &DocId, kind: DocKind) -> Result<DocRecord, NodeError> {
        self.store()
            .doc_record(id)?
            .filter(|r| r.kind == kind)
            .ok_or_else(|| NodeError::NotFound {
                what: kind.as_str(),
                text: id.to_string(),
            })
    }

    /// Runs `f` on the loaded document (from the cache, or loaded from the store into it),
    /// holding only its slot lock: readers of other documents never wait for it.
    pub(crate) fn read_doc<R>(
        &self,
        id: &DocId,
        rec: &DocRecord,
        f: impl FnOnce(&Automerge) -> R,
    ) -> Result<R, NodeError> {
        let slot = self.docs().slot(*id);
        let mut guard = lock_slot(&slot);
        Ok(f(self.filled(&mut guard, id, rec)?))
    }

    /// A copy of the loaded document, for the gate to verify changes on.
    pub(crate) fn copy_of(&self, id: &DocId, rec: &DocRecord) -> Result<Automerge, NodeError> {
        self.read_doc(id, rec, Automerge::clone)
    }

    /// For a claim holder: a copy of the loaded document, or the document loaded from the
    /// store when it is not loaded (then not cached: the holder gives it back with
    /// `DocCache::fill` when done, which saves a copy of every document a sync touches).
    pub(crate) fn copy_or_load(&self, id: &DocId, rec: &DocRecord) -> Result<Automerge, NodeError> {
        if let Some(slot) = self.docs().peek(id)
            && let Some(doc) = lock_slot(&slot).as_ref()
        {
            return Ok(doc.clone());
        }
        self.load_from_store(id, rec)
    }

    /// The document in a locked slot, loaded from the store if the slot is empty.
    fn filled<'g>(
        &self,
        guard: &'g mut Option<Automerge>,
        id: &DocId,
        rec: &DocRecord,
    ) -> Result<&'g mut Automerge, NodeError> {
        if guard.is_none() {
            *guard = Some(self.load_from_store(id, rec)?);
        }
        guard.as_mut().ok_or_else(|| NodeError::NotFound {
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
        let local = self.docs().local();
        let claim = self.docs().claim(doc_ref.id);
        let rec = self.store().doc_record(&doc_ref.id)?;
        if create && rec.is_some() {
            return Err(NodeError::NotAllowed(format!(
                "{} already exists",
                doc_ref.id
            )));
        }
        // A new document is written outside the cache and installed once stored; a loaded
        // one is changed in place under its slot lock, held until it is stored.
        let slot = match &rec {
            Some(_) => self.docs().slot(doc_ref.id),
            None if create => Slot::default(),
            None => {
                return Err(NodeError::NotFound {
                    what: doc_ref.kind.as_str(),
                    text: doc_ref.id.to_string(),
                });
            }
        };
        let mut guard = lock_slot(&slot);
        let doc = match &rec {
            Some(r) => self.filled(&mut guard, &doc_ref.id, r)?,
            None => guard.insert(new_document(&self.actor())),
        };
        let now = Timestamp::now();
        let outcome = doc.transact_with(
            |_| CommitOptions::default().with_time(now.0),
            |tx| f(tx, now),
        );
        let success = match outcome {
            Ok(s) => s,
            // Rolled back: the document is as it was.
            Err(failure) => return Err(failure.error.into()),
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
                drop(guard);
                self.docs().keep(doc_ref.id, &slot);
                drop((claim, local));
                self.emit(event);
                Ok(success.result)
            }
            Err(e) => {
                // The change is in memory but not on disk: empty the slot so the next read
                // comes from the store again.
                *guard = None;
                drop(guard);
                self.docs().forget(&doc_ref.id);
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
        let (read, version) = self.read_doc(id, &rec, |doc| {
            let version = doc.get_heads().iter().map(ToString::to_string).collect();
            (read(doc), version)
        })?;
        Ok((read?, version))
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
        // The claim keeps the gate from replacing the document between the version check and
        // the write; the slot lock is held until the edit is stored.
        let local = self.docs().local();
        let claim = self.docs().claim(*id);
        // The record as stored now: a sync may have added changes since the caller read it.
        let fresh = self.store().doc_record(id)?;
        let rec = fresh.as_ref().unwrap_or(rec);
        let slot = self.docs().slot(*id);
        let mut guard = lock_slot(&slot);
        let doc = self.filled(&mut guard, id, rec)?;
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
        let stored = doc
            .apply_changes([change])
            .map_err(am)
            .and_then(|()| self.sign_and_store(doc, &doc_ref, Some(rec), &hash));
        if let Err(e) = stored {
            // Possibly changed in memory and not on disk: load it from the store next time.
            *guard = None;
            drop(guard);
            self.docs().forget(id);
            return Err(e);
        }
        drop(guard);
        self.docs().keep(*id, &slot);
        drop((claim, local));
        self.emit(event);
        Ok(())
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
