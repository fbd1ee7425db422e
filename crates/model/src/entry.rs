//! Repertoire entries: one Automerge document per entry, its body an Automerge Text so that
//! members editing it at the same time merge instead of overwriting each other.
//!
//! An entry promoted from a thread keeps a link to it: the thread id, the thread's heads at
//! promotion (so the link names exact signed content), the posts it drew on and their authors.

use std::collections::BTreeSet;

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT};
use commonplace_base::{CommunityId, DocId, MemberId, PostId, Timestamp, actor};
use serde::{Deserialize, Serialize};

use crate::read::{View, signer_of_op};
use crate::thread::{MAX_TITLE, excerpt};
use crate::{EntryKind, SCHEMA_VERSION, SchemaError, validate};

/// Longest entry body, in characters.
pub const MAX_ENTRY_BODY: usize = 1_000_000;

/// Where an entry came from when it was promoted from a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Source {
    /// The thread.
    pub thread: DocId,
    /// The thread's heads when it was promoted (hex change hashes).
    pub heads: Vec<String>,
    /// The posts the entry drew on.
    pub posts: Vec<PostId>,
    /// The authors of those posts.
    pub contributors: Vec<MemberId>,
}

/// A whole entry, read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Entry {
    /// The entry id.
    pub id: DocId,
    /// Its community.
    pub community: CommunityId,
    /// What kind of knowledge it holds.
    pub kind: EntryKind,
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
    /// Topics.
    pub tags: Vec<String>,
    /// Who created it.
    pub author: Option<MemberId>,
    /// Everyone who changed it, from the signed history, in order of first change.
    pub editors: Vec<MemberId>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last edited (as claimed by the editor).
    pub updated_at: Timestamp,
    /// The thread it was promoted from.
    pub source: Option<Source>,
}

/// What lists and reports need about an entry, kept in the read index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EntrySummary {
    /// The entry id.
    pub id: DocId,
    /// Its community.
    pub community: CommunityId,
    /// What kind of knowledge it holds.
    pub kind: EntryKind,
    /// Its title.
    pub title: String,
    /// Who created it.
    pub author: Option<MemberId>,
    /// Everyone who edited it.
    pub editors: Vec<MemberId>,
    /// Topics.
    pub tags: Vec<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last edited.
    pub updated_at: Timestamp,
    /// The thread it was promoted from.
    pub source_thread: Option<DocId>,
    /// A short start of the body.
    pub excerpt: String,
}

/// Writes a new entry document.
#[allow(clippy::too_many_arguments)]
pub fn init<T: Transactable>(
    tx: &mut T,
    community: &CommunityId,
    kind: EntryKind,
    title: &str,
    body: &str,
    tags: &[String],
    source: Option<&Source>,
    now: Timestamp,
) -> Result<(), SchemaError> {
    validate::line("title", title, MAX_TITLE)?;
    validate::paragraph("body", body, MAX_ENTRY_BODY)?;
    let tags = validate::tags(tags)?;
    tx.put(ROOT, "schema", SCHEMA_VERSION)?;
    tx.put(ROOT, "kind", "entry")?;
    tx.put(ROOT, "community", community.to_string())?;
    tx.put(ROOT, "entry_kind", kind.as_str())?;
    tx.put(ROOT, "title", title.trim())?;
    tx.put(ROOT, "created_at", now.0)?;
    tx.put(ROOT, "updated_at", now.0)?;
    let list = tx.put_object(ROOT, "tags", ObjType::List)?;
    for (i, t) in tags.iter().enumerate() {
        tx.insert(&list, i, t.as_str())?;
    }
    let text = tx.put_object(ROOT, "body", ObjType::Text)?;
    tx.splice_text(&text, 0, 0, body)?;
    if let Some(s) = source {
        let obj = tx.put_object(ROOT, "source", ObjType::Map)?;
        tx.put(&obj, "thread", s.thread.to_string())?;
        for (key, items) in [
            ("heads", s.heads.clone()),
            ("posts", s.posts.iter().map(ToString::to_string).collect()),
            (
                "contributors",
                s.contributors.iter().map(ToString::to_string).collect(),
            ),
        ] {
            let l = tx.put_object(&obj, key, ObjType::List)?;
            for (i, item) in items.into_iter().enumerate() {
                tx.insert(&l, i, item)?;
            }
        }
    }
    Ok(())
}

/// How to change an entry's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", content = "value", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum TextEdit {
    /// Replace the whole text; only the difference is recorded, so concurrent edits to other
    /// parts of the text survive.
    Replace(String),
    /// Add text at the end.
    Append(String),
    /// Insert text at a character position.
    Insert { at: usize, text: String },
    /// Delete `len` characters from a position.
    Delete { at: usize, len: usize },
}

/// Edits an entry's body and stamps the edit time.
pub fn edit<T: Transactable>(
    tx: &mut T,
    edit: &TextEdit,
    now: Timestamp,
) -> Result<(), SchemaError> {
    let text = match tx.get(ROOT, "body")? {
        Some((automerge::Value::Object(ObjType::Text), id)) => id,
        _ => return Err(SchemaError::Field { field: "body" }),
    };
    let len = tx.length(&text);
    match edit {
        TextEdit::Replace(new) => {
            validate::paragraph("body", new, MAX_ENTRY_BODY)?;
            crate::splice::replace(tx, &text, new)?;
        }
        TextEdit::Append(more) => {
            validate::paragraph("body", more, MAX_ENTRY_BODY.saturating_sub(len))?;
            tx.splice_text(&text, len, 0, more)?;
        }
        TextEdit::Insert { at, text: more } => {
            if *at > len {
                return Err(SchemaError::Input {
                    field: "position",
                    problem: format!("{at} is past the end of the text ({len} characters)"),
                });
            }
            validate::paragraph("body", more, MAX_ENTRY_BODY.saturating_sub(len))?;
            tx.splice_text(&text, *at, 0, more)?;
        }
        TextEdit::Delete { at, len: n } => {
            if at.saturating_add(*n) > len {
                return Err(SchemaError::Input {
                    field: "range",
                    problem: format!("{at}+{n} is past the end of the text ({len} characters)"),
                });
            }
            let n = isize::try_from(*n).map_err(|_| SchemaError::Field { field: "range" })?;
            tx.splice_text(&text, *at, n, "")?;
        }
    }
    tx.put(ROOT, "updated_at", now.0)?;
    Ok(())
}

/// Changes the title and tags.
pub fn retitle<T: Transactable>(
    tx: &mut T,
    title: Option<&str>,
    tags: Option<&[String]>,
    now: Timestamp,
) -> Result<(), SchemaError> {
    if let Some(t) = title {
        validate::line("title", t, MAX_TITLE)?;
        tx.put(ROOT, "title", t.trim())?;
    }
    if let Some(tags) = tags {
        let tags = validate::tags(tags)?;
        let list = tx.put_object(ROOT, "tags", ObjType::List)?;
        for (i, t) in tags.iter().enumerate() {
            tx.insert(&list, i, t.as_str())?;
        }
    }
    tx.put(ROOT, "updated_at", now.0)?;
    Ok(())
}

/// Reads an entry document.
pub fn read(doc: &Automerge, id: DocId) -> Result<Entry, SchemaError> {
    let v = View::now(doc);
    v.check_schema("entry")?;
    let community: CommunityId = v
        .str(&ROOT, "community")?
        .parse()
        .map_err(|_| SchemaError::Field { field: "community" })?;
    let body_obj = v.req_obj(&ROOT, "body", ObjType::Text)?;
    let source = v.obj(&ROOT, "source", ObjType::Map).and_then(|obj| {
        Some(Source {
            thread: v.opt_str(&obj, "thread")?.parse().ok()?,
            heads: v.str_list(&obj, "heads"),
            posts: v
                .str_list(&obj, "posts")
                .iter()
                .filter_map(|p| p.parse().ok())
                .collect(),
            contributors: v
                .str_list(&obj, "contributors")
                .iter()
                .filter_map(|p| p.parse().ok())
                .collect(),
        })
    });
    let created_at = Timestamp(v.i64(&ROOT, "created_at")?);
    Ok(Entry {
        id,
        community,
        kind: v.str(&ROOT, "entry_kind")?.parse()?,
        title: v.str(&ROOT, "title")?,
        body: v.text(&body_obj)?,
        tags: v.str_list(&ROOT, "tags"),
        author: signer_of_op(&body_obj),
        editors: editors(doc),
        created_at,
        updated_at: Timestamp(v.opt_i64(&ROOT, "updated_at").unwrap_or(created_at.0)),
        source,
    })
}

/// Signers of every change in the document, in order of their first change.
fn editors(doc: &Automerge) -> Vec<MemberId> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    // The metadata, not the changes: rebuilding every change's bytes costs far more.
    for c in doc.get_changes_meta(&[]) {
        if let Ok(m) = actor::signer_of(c.actor.to_bytes())
            && seen.insert(m)
        {
            out.push(m);
        }
    }
    out
}

impl Entry {
    /// The summary kept in the read index.
    pub fn summary(&self) -> EntrySummary {
        EntrySummary {
            id: self.id,
            community: self.community,
            kind: self.kind,
            title: self.title.clone(),
            author: self.author,
            editors: self.editors.clone(),
            tags: self.tags.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            source_thread: self.source.as_ref().map(|s| s.thread),
            excerpt: excerpt(&self.body, 200),
        }
    }
}
