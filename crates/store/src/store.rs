use std::path::{Path, PathBuf};

use commonplace_base::{CommunityId, DocId, Signature};
use commonplace_model::{
    Community, DocActivity, DocKind, DocRef, EntrySummary, EventSummary, SignedChange,
    ThreadSummary,
};
use redb::{Database, DatabaseError, Durability, ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::tables::{
    ACTIVITY, CHANGES, COMMUNITIES, DOCS, ENTRIES, EVENTS, FORMAT, META, SIGNATURES, SNAPSHOTS,
    THREADS, change_key, pair, signature_key,
};
use crate::{OpenError, StoreError};

/// Take a fresh snapshot once this many changes have piled up after the last one.
pub const SNAPSHOT_EVERY: u64 = 64;

/// What the store knows about a community: its materialised community document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunityRecord {
    /// The charter, roster and founding record as of the newest stored change.
    pub community: Community,
}

/// What the store knows about one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocRecord {
    /// Its community.
    pub community: CommunityId,
    /// Its kind.
    pub kind: DocKind,
    /// How many changes are stored.
    pub changes: u64,
    /// How many of them the snapshot covers.
    pub snapshot_upto: u64,
    /// The document's heads after the newest stored change.
    pub heads: Vec<[u8; 32]>,
}

/// A document as stored: its snapshot and the changes after it.
#[derive(Debug, Clone)]
pub struct LoadedDoc {
    /// Its record.
    pub record: DocRecord,
    /// The snapshot, if any.
    pub snapshot: Option<Vec<u8>>,
    /// Changes not in the snapshot, in stored order.
    pub tail: Vec<SignedChange>,
}

/// The new state of one document's read-index row.
#[derive(Debug, Clone)]
pub enum IndexRow {
    /// The community document, read.
    Community(Box<Community>),
    /// A thread's summary.
    Thread(Box<ThreadSummary>),
    /// An entry's summary.
    Entry(Box<EntrySummary>),
    /// An event's summary.
    Event(Box<EventSummary>),
}

/// The writes to one document.
#[derive(Debug, Clone)]
pub struct DocWrite {
    /// Which document.
    pub doc: DocRef,
    /// New changes, dependencies first, each already verified or signed locally.
    pub changes: Vec<SignedChange>,
    /// Their hashes, in the same order.
    pub hashes: Vec<[u8; 32]>,
    /// The document's heads after these changes.
    pub heads: Vec<[u8; 32]>,
    /// A snapshot covering every change after this write, if one is due.
    pub snapshot: Option<Vec<u8>>,
    /// The document's index row after this write.
    pub index: IndexRow,
    /// The document's activity records after this write (threads and entries), if given.
    pub activity: Option<DocActivity>,
}

/// Everything one user action or one import writes, applied atomically.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    /// Document writes.
    pub docs: Vec<DocWrite>,
    /// Profile settings to set.
    pub meta: Vec<(String, Vec<u8>)>,
}

/// A profile's database.
#[derive(Debug)]
pub struct Store {
    db: Database,
    path: PathBuf,
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    postcard::to_stdvec(v).map_err(|source| StoreError::Codec {
        what: "record",
        source,
    })
}

fn decode<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(|source| StoreError::Codec { what, source })
}

impl Store {
    /// Opens (creating if needed) the database at `path`. Fails at once, without waiting, if
    /// another process has it open.
    pub fn open(path: &Path) -> Result<Store, OpenError> {
        let db = Database::builder().create(path).map_err(|e| match e {
            DatabaseError::DatabaseAlreadyOpen => OpenError::InUse {
                path: path.to_owned(),
            },
            DatabaseError::Storage(redb::StorageError::Io(source)) => OpenError::Io {
                path: path.to_owned(),
                source,
            },
            other => OpenError::Damaged {
                path: path.to_owned(),
                source: redb::Error::from(other).into(),
            },
        })?;
        let store = Store {
            db,
            path: path.to_owned(),
        };
        // Check the format before writing anything: an older Commonplace must neither
        // misread nor modify a newer database.
        let found = store.stored_format().map_err(|source| OpenError::Damaged {
            path: path.to_owned(),
            source,
        })?;
        if let Some(found) = found
            && found > FORMAT
        {
            return Err(OpenError::Version {
                path: path.to_owned(),
                found,
                supported: FORMAT,
            });
        }
        store.init_format().map_err(|source| OpenError::Damaged {
            path: path.to_owned(),
            source,
        })?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format recorded in the database, or `None` for a new one.
    fn stored_format(&self) -> Result<Option<u32>, StoreError> {
        let tx = self.db.begin_read()?;
        let meta = match tx.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(v) = meta.get("format")? else {
            return Ok(None);
        };
        let bytes: [u8; 4] = v.value().try_into().map_err(|_| StoreError::Corrupt {
            what: "format",
            detail: "not 4 bytes".into(),
        })?;
        Ok(Some(u32::from_le_bytes(bytes)))
    }

    fn init_format(&self) -> Result<(), StoreError> {
        let tx = self.db.begin_write()?;
        {
            let mut meta = tx.open_table(META)?;
            if meta.get("format")?.is_none() {
                meta.insert("format", FORMAT.to_le_bytes().as_slice())?;
            }
            // Create every table so readers never meet a missing one.
            tx.open_table(COMMUNITIES)?;
            tx.open_table(DOCS)?;
            tx.open_table(CHANGES)?;
            tx.open_table(SNAPSHOTS)?;
            tx.open_table(SIGNATURES)?;
            tx.open_table(THREADS)?;
            tx.open_table(ENTRIES)?;
            tx.open_table(EVENTS)?;
            tx.open_table(ACTIVITY)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A profile setting.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(META)?;
        Ok(t.get(key)?.map(|v| v.value().to_vec()))
    }

    /// Profile settings whose key starts with `prefix`, in key order.
    pub fn meta_with_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(META)?;
        let mut out = Vec::new();
        for row in t.range(prefix..)? {
            let (k, v) = row?;
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push((k.value().to_owned(), v.value().to_vec()));
        }
        Ok(out)
    }

    /// Every community in the profile.
    pub fn communities(&self) -> Result<Vec<Community>, StoreError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(COMMUNITIES)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (_, v) = row?;
            out.push(decode::<CommunityRecord>("community", v.value())?.community);
        }
        Ok(out)
    }

    /// One community.
    pub fn community(&self, id: &CommunityId) -> Result<Option<Community>, StoreError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(COMMUNITIES)?;
        t.get(id.as_bytes().as_slice())?
            .map(|v| decode::<CommunityRecord>("community", v.value()).map(|r| r.community))
            .transpose()
    }

    /// One document's record.
    pub fn doc_record(&self, id: &DocId) -> Result<Option<DocRecord>, StoreError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(DOCS)?;
        t.get(id.as_bytes().as_slice())?
            .map(|v| decode("document record", v.value()))
            .transpose()
    }

    /// Every document of a community, with its record.
    pub fn docs_of(&self, community: &CommunityId) -> Result<Vec<(DocId, DocRecord)>, StoreError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(DOCS)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let rec: DocRecord = decode("document record", v.value())?;
            if rec.community == *community {
                let id: [u8; 16] = k.value().try_into().map_err(|_| StoreError::Corrupt {
                    what: "document key",
                    detail: "wrong length".into(),
                })?;
                out.push((DocId::from_bytes(id), rec));
            }
        }
        Ok(out)
    }

    /// A document's snapshot and the changes after it.
    pub fn load_doc(&self, id: &DocId) -> Result<Option<LoadedDoc>, StoreError> {
        let tx = self.db.begin_read()?;
        let docs = tx.open_table(DOCS)?;
        let Some(record) = docs
            .get(id.as_bytes().as_slice())?
            .map(|v| decode::<DocRecord>("document record", v.value()))
            .transpose()?
        else {
            return Ok(None);
        };
        let snapshot = if record.snapshot_upto > 0 {
            let snaps = tx.open_table(SNAPSHOTS)?;
            snaps
                .get(id.as_bytes().as_slice())?
                .map(|v| v.value().to_vec())
        } else {
            None
        };
        let from = if snapshot.is_some() {
            record.snapshot_upto
        } else {
            0
        };
        let tail = read_changes(&tx, id, from)?;
        Ok(Some(LoadedDoc {
            record,
            snapshot,
            tail,
        }))
    }

    /// Every stored change of a document, in stored order (dependencies first).
    pub fn changes(&self, id: &DocId) -> Result<Vec<SignedChange>, StoreError> {
        let tx = self.db.begin_read()?;
        read_changes(&tx, id, 0)
    }

    /// The stored signatures of these changes of a document, where there are any.
    pub fn signatures(
        &self,
        id: &DocId,
        hashes: &[[u8; 32]],
    ) -> Result<Vec<Option<Signature>>, StoreError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(SIGNATURES)?;
        let mut out = Vec::with_capacity(hashes.len());
        for h in hashes {
            out.push(match t.get(signature_key(id.as_bytes(), h).as_slice())? {
                Some(v) => Some(Signature(v.value().try_into().map_err(|_| {
                    StoreError::Corrupt {
                        what: "signature",
                        detail: "not 64 bytes".into(),
                    }
                })?)),
                None => None,
            });
        }
        Ok(out)
    }

    /// Thread summaries of a community, in id order.
    pub fn threads(&self, community: &CommunityId) -> Result<Vec<ThreadSummary>, StoreError> {
        self.index_rows(THREADS, community, "thread summary")
    }

    /// Entry summaries of a community, in id order.
    pub fn entries(&self, community: &CommunityId) -> Result<Vec<EntrySummary>, StoreError> {
        self.index_rows(ENTRIES, community, "entry summary")
    }

    /// Event summaries of a community, in id order.
    pub fn events(&self, community: &CommunityId) -> Result<Vec<EventSummary>, StoreError> {
        self.index_rows(EVENTS, community, "event summary")
    }

    /// One thread's summary and activity records as the index holds them, read together.
    pub fn thread_row(
        &self,
        community: &CommunityId,
        thread: &DocId,
    ) -> Result<Option<(ThreadSummary, Option<DocActivity>)>, StoreError> {
        let tx = self.db.begin_read()?;
        let key = pair(community.as_bytes(), thread.as_bytes());
        let Some(summary) = tx
            .open_table(THREADS)?
            .get(key.as_slice())?
            .map(|v| decode::<ThreadSummary>("thread summary", v.value()))
            .transpose()?
        else {
            return Ok(None);
        };
        let activity = tx
            .open_table(ACTIVITY)?
            .get(key.as_slice())?
            .map(|v| decode::<DocActivity>("activity", v.value()))
            .transpose()?;
        Ok(Some((summary, activity)))
    }

    /// Activity records of a community's threads and entries, in document id order.
    pub fn activity(
        &self,
        community: &CommunityId,
    ) -> Result<Vec<(DocId, DocActivity)>, StoreError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(ACTIVITY)?;
        let lo = pair(community.as_bytes(), &[0; 16]);
        let hi = pair(community.as_bytes(), &[0xff; 16]);
        let mut out = Vec::new();
        for row in t.range(lo.as_slice()..=hi.as_slice())? {
            let (k, v) = row?;
            let id: [u8; 16] = k
                .value()
                .get(16..)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| StoreError::Corrupt {
                    what: "activity key",
                    detail: "wrong length".into(),
                })?;
            out.push((DocId::from_bytes(id), decode("activity", v.value())?));
        }
        Ok(out)
    }

    /// Writes activity records without a change, in one durable transaction: for building
    /// the activity index of documents stored before it existed.
    pub fn put_activity(
        &self,
        rows: &[(CommunityId, DocId, DocActivity)],
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate)?;
        {
            let mut t = tx.open_table(ACTIVITY)?;
            for (c, d, a) in rows {
                t.insert(
                    pair(c.as_bytes(), d.as_bytes()).as_slice(),
                    encode(a)?.as_slice(),
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Replaces documents' snapshots with newer ones, in one durable transaction: `(doc, n,
    /// bytes)` is a saved document holding exactly the first `n` stored changes. A snapshot
    /// is taken only where the document still has `n` changes (nothing was stored since it
    /// was saved) and it covers more than the stored one; the others are skipped. Returns how
    /// many were taken. Snapshots are a cache of the change log, so this changes no content.
    pub fn put_snapshots(&self, snapshots: &[(DocId, u64, Vec<u8>)]) -> Result<usize, StoreError> {
        if snapshots.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate)?;
        let mut taken = 0;
        {
            let mut docs = tx.open_table(DOCS)?;
            let mut snaps = tx.open_table(SNAPSHOTS)?;
            for (id, covers, bytes) in snapshots {
                let key = id.as_bytes().as_slice();
                let Some(mut rec) = docs
                    .get(key)?
                    .map(|v| decode::<DocRecord>("document record", v.value()))
                    .transpose()?
                else {
                    continue;
                };
                if rec.changes != *covers || rec.snapshot_upto >= *covers {
                    continue;
                }
                snaps.insert(key, bytes.as_slice())?;
                rec.snapshot_upto = *covers;
                docs.insert(key, encode(&rec)?.as_slice())?;
                taken += 1;
            }
        }
        tx.commit()?;
        Ok(taken)
    }

    fn index_rows<T: DeserializeOwned>(
        &self,
        table: redb::TableDefinition<&[u8], &[u8]>,
        community: &CommunityId,
        what: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(table)?;
        let lo = pair(community.as_bytes(), &[0; 16]);
        let hi = pair(community.as_bytes(), &[0xff; 16]);
        let mut out = Vec::new();
        for row in t.range(lo.as_slice()..=hi.as_slice())? {
            let (_, v) = row?;
            out.push(decode(what, v.value())?);
        }
        Ok(out)
    }

    /// Applies a commit atomically and durably: when this returns `Ok`, every write in it is on
    /// disk; when it returns `Err`, none is.
    pub fn commit(&self, commit: &Commit) -> Result<(), StoreError> {
        self.commit_with(commit, Durability::Immediate)
    }

    /// Applies a commit atomically but not yet durably: readers see it at once, and it reaches
    /// the disk with the next durable commit ([`Store::commit`] or [`Store::flush`]). A crash
    /// before that loses it (and anything else not yet durable) as a whole, never in part.
    /// For what can be had again, such as changes received from a peer; never for the
    /// member's own writes, which are acknowledged only once on disk.
    pub fn commit_eventually(&self, commit: &Commit) -> Result<(), StoreError> {
        self.commit_with(commit, Durability::None)
    }

    /// Makes every earlier [`Store::commit_eventually`] durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.commit(&Commit::default())
    }

    fn commit_with(&self, commit: &Commit, durability: Durability) -> Result<(), StoreError> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(durability)?;
        {
            let mut meta = tx.open_table(META)?;
            for (k, v) in &commit.meta {
                meta.insert(k.as_str(), v.as_slice())?;
            }
            let mut docs = tx.open_table(DOCS)?;
            let mut changes = tx.open_table(CHANGES)?;
            let mut snaps = tx.open_table(SNAPSHOTS)?;
            let mut sigs = tx.open_table(SIGNATURES)?;
            let mut communities = tx.open_table(COMMUNITIES)?;
            let mut threads = tx.open_table(THREADS)?;
            let mut entries = tx.open_table(ENTRIES)?;
            let mut events = tx.open_table(EVENTS)?;
            let mut activity = tx.open_table(ACTIVITY)?;
            // In key order: a large commit (an import) then fills each B-tree from left to
            // right instead of splitting pages all over it.
            let mut writes: Vec<&DocWrite> = commit.docs.iter().collect();
            writes.sort_by_key(|w| w.doc.id);
            for w in writes {
                let id = w.doc.id.as_bytes();
                let mut rec = match docs.get(id.as_slice())? {
                    Some(v) => decode::<DocRecord>("document record", v.value())?,
                    None => DocRecord {
                        community: w.doc.community,
                        kind: w.doc.kind,
                        changes: 0,
                        snapshot_upto: 0,
                        heads: Vec::new(),
                    },
                };
                if w.hashes.len() != w.changes.len() {
                    return Err(StoreError::Corrupt {
                        what: "commit",
                        detail: format!(
                            "document {}: {} changes but {} hashes",
                            w.doc.id,
                            w.changes.len(),
                            w.hashes.len()
                        ),
                    });
                }
                if rec.kind != w.doc.kind || rec.community != w.doc.community {
                    return Err(StoreError::Corrupt {
                        what: "document record",
                        detail: format!("document {} changed kind or community", w.doc.id),
                    });
                }
                for (c, h) in w.changes.iter().zip(&w.hashes) {
                    changes.insert(
                        change_key(id, rec.changes).as_slice(),
                        encode(c)?.as_slice(),
                    )?;
                    if let Some(sig) = &c.signature {
                        sigs.insert(signature_key(id, h).as_slice(), sig.0.as_slice())?;
                    }
                    rec.changes += 1;
                }
                rec.heads.clone_from(&w.heads);
                if let Some(s) = &w.snapshot {
                    snaps.insert(id.as_slice(), s.as_slice())?;
                    rec.snapshot_upto = rec.changes;
                }
                docs.insert(id.as_slice(), encode(&rec)?.as_slice())?;
                match &w.index {
                    IndexRow::Community(c) => {
                        let record = CommunityRecord {
                            community: (**c).clone(),
                        };
                        communities.insert(
                            w.doc.community.as_bytes().as_slice(),
                            encode(&record)?.as_slice(),
                        )?;
                    }
                    IndexRow::Thread(s) => {
                        threads.insert(
                            pair(w.doc.community.as_bytes(), id).as_slice(),
                            encode(s)?.as_slice(),
                        )?;
                    }
                    IndexRow::Entry(s) => {
                        entries.insert(
                            pair(w.doc.community.as_bytes(), id).as_slice(),
                            encode(s)?.as_slice(),
                        )?;
                    }
                    IndexRow::Event(s) => {
                        events.insert(
                            pair(w.doc.community.as_bytes(), id).as_slice(),
                            encode(s)?.as_slice(),
                        )?;
                    }
                }
                if let Some(a) = &w.activity {
                    activity.insert(
                        pair(w.doc.community.as_bytes(), id).as_slice(),
                        encode(a)?.as_slice(),
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}

fn read_changes(
    tx: &redb::ReadTransaction,
    id: &DocId,
    from: u64,
) -> Result<Vec<SignedChange>, StoreError> {
    let t = tx.open_table(CHANGES)?;
    let lo = change_key(id.as_bytes(), from);
    let hi = change_key(id.as_bytes(), u64::MAX);
    let mut out = Vec::new();
    for row in t.range(lo.as_slice()..=hi.as_slice())? {
        let (_, v) = row?;
        out.push(decode("change", v.value())?);
    }
    Ok(out)
}
