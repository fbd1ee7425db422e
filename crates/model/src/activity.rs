//! Compact activity records: what analytics need about each post and each repertoire edit,
//! kept in the store's read index beside the summaries so that reports never load Automerge
//! documents.
//!
//! These are derived from documents (a thread's posts, an entry's signed changes) and are
//! rewritten whole whenever their document changes, in the same transaction as the change.

use automerge::Automerge;
use commonplace_base::{DocId, MemberId, PostId, Timestamp, actor};
use serde::{Deserialize, Serialize};

use crate::Thread;

/// One post as analytics see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostRecord {
    /// The post id (the thread id for the opening post).
    pub id: PostId,
    /// Who wrote it.
    pub author: Option<MemberId>,
    /// When (as claimed by its author).
    pub at: Timestamp,
    /// Members who said "this helped".
    pub helped_by: Vec<MemberId>,
    /// Ids of documents the post mentions (an answer pointing to a repertoire entry).
    pub links: Vec<DocId>,
}

/// One signed change to a repertoire entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EditRecord {
    /// Who signed it.
    pub editor: MemberId,
    /// When (the change's own timestamp).
    pub at: Timestamp,
}

/// The activity records of one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocActivity {
    /// A thread's posts, opening post first.
    Thread(Vec<PostRecord>),
    /// An entry's signed changes, oldest first.
    Entry(Vec<EditRecord>),
}

impl Thread {
    /// Every post of the thread as an activity record, opening post first.
    pub fn activity(&self) -> Vec<PostRecord> {
        std::iter::once(&self.opening)
            .chain(&self.replies)
            .map(|p| PostRecord {
                id: p.id,
                author: p.author,
                at: p.created_at,
                helped_by: p.helped_by.clone(),
                links: links_in(&p.body),
            })
            .collect()
    }
}

/// Every signed change of an entry document: who and when, oldest first.
pub fn entry_edits(doc: &Automerge) -> Vec<EditRecord> {
    // The metadata, not the changes: rebuilding every change's bytes costs far more.
    let mut out: Vec<EditRecord> = doc
        .get_changes_meta(&[])
        .into_iter()
        .filter_map(|c| {
            Some(EditRecord {
                editor: actor::signer_of(c.actor.to_bytes()).ok()?,
                at: Timestamp(c.timestamp),
            })
        })
        .collect();
    out.sort();
    out
}

/// Ids (26 base32 characters) mentioned in a text, each once, in order.
pub fn links_in(text: &str) -> Vec<DocId> {
    let mut out = Vec::new();
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.len() == 26
            && let Ok(id) = word.parse::<DocId>()
            && !out.contains(&id)
        {
            out.push(id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ids_in_text() {
        let id = DocId::from_bytes([7; 16]);
        let text = format!("See entry {id}, and again ({id}). Not an id: abcdef.");
        assert_eq!(links_in(&text), vec![id]);
        assert!(links_in("nothing here").is_empty());
    }
}
