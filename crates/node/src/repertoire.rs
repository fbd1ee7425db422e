//! The repertoire: entries, written or promoted from threads, and their co-edited text.

use commonplace_base::{CommunityId, DocId};
use commonplace_model::{
    DocKind, DocRef, Entry, EntryKind, EntrySummary, Role, SchemaError, Source, TextEdit, Thread,
    entry,
};
use commonplace_store::DocRecord;
use serde::{Deserialize, Serialize};

use crate::{Node, NodeError};

/// A new repertoire entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewEntry {
    /// Kind.
    pub kind: EntryKind,
    /// Title; defaults to the thread's title when promoting.
    pub title: Option<String>,
    /// Body; defaults to the opening post and the answer when promoting.
    pub body: Option<String>,
    /// Topics; defaults to the thread's tags when promoting.
    pub tags: Vec<String>,
    /// The thread to promote.
    pub from_thread: Option<DocId>,
}

/// What promoting a thread did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Promotion {
    /// A new entry was written.
    Created {
        /// The new entry.
        entry: DocId,
    },
    /// The thread was promoted before; nothing was written.
    Existing {
        /// The entry promoted from it earlier.
        entry: DocId,
    },
}

impl Promotion {
    /// The entry, new or earlier.
    pub fn entry(&self) -> DocId {
        match self {
            Promotion::Created { entry } | Promotion::Existing { entry } => *entry,
        }
    }
}

/// Which entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EntryFilter {
    /// Only this kind.
    pub kind: Option<EntryKind>,
    /// Only with this tag.
    pub tag: Option<String>,
}

impl Node {
    /// Promotes a thread into a repertoire entry (`new.from_thread`), or, if an entry was
    /// promoted from that thread already (here or by another member), names that entry and
    /// writes nothing.
    pub fn promote_thread(
        &self,
        community: &CommunityId,
        new: &NewEntry,
    ) -> Result<Promotion, NodeError> {
        if new.from_thread.is_none() {
            return Err(NodeError::Invalid(SchemaError::Input {
                field: "from_thread",
                problem: "names no thread to promote".into(),
            }));
        }
        match self.create_entry(community, new) {
            Ok(entry) => Ok(Promotion::Created { entry }),
            Err(NodeError::AlreadyPromoted { entry, .. }) => Ok(Promotion::Existing { entry }),
            Err(e) => Err(e),
        }
    }

    /// The entry promoted from `thread`, if there is one (the first, if members promoted it
    /// concurrently on different nodes).
    pub fn entry_promoted_from(
        &self,
        community: &CommunityId,
        thread: &DocId,
    ) -> Result<Option<EntrySummary>, NodeError> {
        Ok(self
            .store()
            .entries(community)?
            .into_iter()
            .filter(|e| e.source_thread == Some(*thread))
            .min_by_key(|e| (e.created_at, e.id)))
    }

    /// Creates a repertoire entry, or promotes a thread into one. A thread already promoted
    /// is refused with [`NodeError::AlreadyPromoted`], naming its entry: promoting twice
    /// would make a second copy of the same knowledge.
    pub fn create_entry(
        &self,
        community: &CommunityId,
        new: &NewEntry,
    ) -> Result<DocId, NodeError> {
        self.require_role(community, Role::Member, "write")?;
        let (title, body, tags, source) = match &new.from_thread {
            None => (
                new.title.clone().unwrap_or_default(),
                new.body.clone().unwrap_or_default(),
                new.tags.clone(),
                None,
            ),
            Some(tid) => {
                let rec = self.doc_record(tid, DocKind::Thread)?;
                if rec.community != *community {
                    return Err(NodeError::NotFound {
                        what: "thread in this community",
                        text: tid.to_string(),
                    });
                }
                if let Some(existing) = self.entry_promoted_from(community, tid)? {
                    return Err(NodeError::AlreadyPromoted {
                        thread: *tid,
                        entry: existing.id,
                    });
                }
                let t = self.thread(tid)?;
                let heads = self.read_doc(tid, &rec, |doc| {
                    doc.get_heads().iter().map(ToString::to_string).collect()
                })?;
                let source = Source {
                    thread: *tid,
                    heads,
                    posts: std::iter::once(&t.opening)
                        .chain(&t.replies)
                        .map(|p| p.id)
                        .collect(),
                    contributors: t.summary().participants,
                };
                let body = new.body.clone().unwrap_or_else(|| promoted_body(&t));
                let mut tags = t.tags.clone();
                tags.extend(new.tags.iter().cloned());
                (
                    new.title.clone().unwrap_or_else(|| t.title.clone()),
                    body,
                    tags,
                    Some(source),
                )
            }
        };
        let id = DocId::random(&mut rand::rng());
        let doc = DocRef {
            community: *community,
            kind: DocKind::Entry,
            id,
        };
        self.write(doc, true, |tx, now| {
            entry::init(
                tx,
                community,
                new.kind,
                &title,
                &body,
                &tags,
                source.as_ref(),
                now,
            )
        })?;
        Ok(id)
    }

    /// Edits an entry's text.
    pub fn edit_entry(&self, entry_id: &DocId, edit: &TextEdit) -> Result<(), NodeError> {
        let rec = self.doc_record(entry_id, DocKind::Entry)?;
        self.require_role(&rec.community, Role::Member, "edit the repertoire")?;
        self.write(entry_ref(&rec, entry_id), false, |tx, now| {
            entry::edit(tx, edit, now)
        })
    }

    /// Changes an entry's title and tags.
    pub fn retitle_entry(
        &self,
        entry_id: &DocId,
        title: Option<&str>,
        tags: Option<&[String]>,
    ) -> Result<(), NodeError> {
        let rec = self.doc_record(entry_id, DocKind::Entry)?;
        self.require_role(&rec.community, Role::Member, "edit the repertoire")?;
        self.write(entry_ref(&rec, entry_id), false, |tx, now| {
            entry::retitle(tx, title, tags, now)
        })
    }

    /// Entries of a community, most recently updated first.
    pub fn entries(
        &self,
        community: &CommunityId,
        filter: &EntryFilter,
    ) -> Result<Vec<EntrySummary>, NodeError> {
        self.community(community)?;
        let tag = filter
            .tag
            .as_ref()
            .map(|t| t.trim().trim_start_matches('#').to_lowercase());
        let mut out: Vec<EntrySummary> = self
            .store()
            .entries(community)?
            .into_iter()
            .filter(|e| filter.kind.is_none_or(|k| e.kind == k))
            .filter(|e| tag.as_ref().is_none_or(|tag| e.tags.contains(tag)))
            .collect();
        out.sort_by_key(|e| std::cmp::Reverse((e.updated_at, e.id)));
        Ok(out)
    }

    /// A whole entry.
    pub fn entry(&self, id: &DocId) -> Result<Entry, NodeError> {
        let rec = self.doc_record(id, DocKind::Entry)?;
        Ok(self.read_doc(id, &rec, |doc| entry::read(doc, *id))??)
    }

    /// An entry and the version it was read at.
    pub fn entry_view(&self, id: &DocId) -> Result<EntryView, NodeError> {
        let (entry, version) = self.read_versioned(id, DocKind::Entry, |d| entry::read(d, *id))?;
        Ok(EntryView { entry, version })
    }

    /// Sets an entry's text to `text`, as an edit of the version `base` the editor showed.
    ///
    /// The difference between that version's text and `text` is recorded as a change on top of
    /// `base`, then merged: whatever other members wrote since `base` survives, exactly as if the
    /// two edits had been made on two machines at once. Returns the merged entry.
    pub fn edit_entry_text(
        &self,
        id: &DocId,
        base: &[String],
        text: &str,
    ) -> Result<EntryView, NodeError> {
        let rec = self.doc_record(id, DocKind::Entry)?;
        self.require_role(&rec.community, Role::Member, "edit the repertoire")?;
        let doc_ref = entry_ref(&rec, id);
        let event = crate::NodeEvent::EntryChanged {
            community: rec.community,
            entry: *id,
        };
        // The edit stamps the time: one operation even when the text is unchanged.
        self.edit_at_version(&rec, doc_ref, base, 1, event, |tx, now| {
            entry::edit(tx, &TextEdit::Replace(text.to_owned()), now)
        })?;
        self.entry_view(id)
    }
}

pub(crate) fn entry_ref(rec: &DocRecord, id: &DocId) -> DocRef {
    DocRef {
        community: rec.community,
        kind: DocKind::Entry,
        id: *id,
    }
}

/// The default text of an entry promoted from a thread: the question and, if one was
/// marked, the answer.
fn promoted_body(t: &Thread) -> String {
    let mut body = t.opening.body.trim().to_owned();
    if let Some(answer) = t.answer.as_ref().and_then(|a| t.post(a)) {
        body.push_str("\n\nAnswer:\n\n");
        body.push_str(answer.body.trim());
    }
    body
}

/// An entry with the version it was read at, so an editor can send its edits against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EntryView {
    /// The entry.
    pub entry: Entry,
    /// The document's heads when it was read (opaque to front ends).
    pub version: Vec<String>,
}
