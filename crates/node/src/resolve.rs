//! Finding things by the short ids people type: a unique prefix of an id, or a name.

use commonplace_base::{CommunityId, DocId, MemberId};
use commonplace_model::DocKind;

use crate::{Node, NodeError};

/// Fewest characters accepted as an id prefix.
const MIN_PREFIX: usize = 4;

impl Node {
    /// A community by id, id prefix or name; `None` picks the only community of the profile.
    pub fn find_community(&self, text: Option<&str>) -> Result<CommunityId, NodeError> {
        let all = self.store().communities()?;
        let Some(text) = text.map(str::trim) else {
            return match all.as_slice() {
                [only] => Ok(only.id),
                [] => Err(NodeError::NotFound {
                    what: "community",
                    text: "(none in this profile: create one or import a bundle)".into(),
                }),
                _ => Err(NodeError::Ambiguous {
                    what: "community",
                    text: String::new(),
                    candidates: all
                        .iter()
                        .map(|c| format!("{} ({})", c.charter.name, c.id.short()))
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            };
        };
        let lower = text.to_lowercase();
        let by_name: Vec<_> = all
            .iter()
            .filter(|c| c.charter.name.to_lowercase() == lower)
            .collect();
        if let [one] = by_name.as_slice() {
            return Ok(one.id);
        }
        pick(
            "community",
            text,
            all.iter().map(|c| (c.id.to_string(), c.id)).collect(),
        )
    }

    /// A thread by id or unique id prefix.
    pub fn find_thread(&self, text: &str) -> Result<DocId, NodeError> {
        self.find_doc(DocKind::Thread, text)
    }

    /// An entry by id or unique id prefix.
    pub fn find_entry(&self, text: &str) -> Result<DocId, NodeError> {
        self.find_doc(DocKind::Entry, text)
    }

    /// An event by id or id prefix.
    pub fn find_event(&self, text: &str) -> Result<DocId, NodeError> {
        self.find_doc(DocKind::Event, text)
    }

    fn find_doc(&self, kind: DocKind, text: &str) -> Result<DocId, NodeError> {
        let text = text.trim();
        if let Ok(id) = text.parse::<DocId>() {
            self.doc_record(&id, kind)?;
            return Ok(id);
        }
        let mut candidates = Vec::new();
        for c in self.store().communities()? {
            for (id, rec) in self.store().docs_of(&c.id)? {
                if rec.kind == kind {
                    candidates.push((id.to_string(), id));
                }
            }
        }
        pick(kind.as_str(), text, candidates)
    }

    /// A member of a community by id, id prefix or exact name.
    pub fn find_member(&self, community: &CommunityId, text: &str) -> Result<MemberId, NodeError> {
        let text = text.trim();
        if let Ok(id) = text.parse::<MemberId>() {
            return Ok(id);
        }
        let c = self.community(community)?;
        let lower = text.to_lowercase();
        let by_name: Vec<_> = c
            .roster
            .members
            .values()
            .filter(|m| m.name.to_lowercase() == lower)
            .collect();
        if let [one] = by_name.as_slice() {
            return Ok(one.id);
        }
        pick(
            "member",
            text,
            c.roster
                .members
                .keys()
                .map(|m| (m.to_string(), *m))
                .collect(),
        )
    }
}

fn pick<T: Copy>(what: &'static str, text: &str, all: Vec<(String, T)>) -> Result<T, NodeError> {
    let lower = text.to_lowercase();
    if lower.len() < MIN_PREFIX {
        return Err(NodeError::NotFound {
            what,
            text: format!("{text} (type at least {MIN_PREFIX} characters of the id)"),
        });
    }
    let hits: Vec<&(String, T)> = all.iter().filter(|(s, _)| s.starts_with(&lower)).collect();
    match hits.as_slice() {
        [one] => Ok(one.1),
        [] => Err(NodeError::NotFound {
            what,
            text: text.to_owned(),
        }),
        many => Err(NodeError::Ambiguous {
            what,
            text: text.to_owned(),
            candidates: many
                .iter()
                .take(5)
                .map(|(s, _)| s.chars().take(12).collect::<String>())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}
