//! Threads: opening, replying, resolving, "this helped", and read marks for unread counts.

use std::collections::BTreeMap;

use commonplace_base::{CommunityId, DocId, PostId};
use commonplace_model::{ActivityKind, DocKind, DocRef, Role, Thread, ThreadSummary, thread};
use commonplace_store::DocRecord;
use serde::{Deserialize, Serialize};

use crate::write::Derive;
use crate::{Node, NodeError};

/// A new thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewThread {
    /// Which activity.
    pub activity: ActivityKind,
    /// Title.
    pub title: String,
    /// Opening post.
    pub body: String,
    /// Topics.
    pub tags: Vec<String>,
}

/// Open or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ThreadState {
    /// Not resolved yet.
    Open,
    /// Resolved.
    Resolved,
}

/// Which threads to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ThreadFilter {
    /// Only this activity.
    pub activity: Option<ActivityKind>,
    /// Only open or only resolved.
    pub state: Option<ThreadState>,
    /// Only with this tag.
    pub tag: Option<String>,
}

impl Node {
    /// Opens a thread.
    pub fn create_thread(
        &self,
        community: &CommunityId,
        new: &NewThread,
    ) -> Result<DocId, NodeError> {
        self.require_role(community, Role::Member, "write")?;
        let id = DocId::random(&mut rand::rng());
        let doc = DocRef {
            community: *community,
            kind: DocKind::Thread,
            id,
        };
        self.write(doc, true, |tx, now| {
            thread::init(
                tx,
                community,
                new.activity,
                &new.title,
                &new.body,
                &new.tags,
                now,
            )
        })?;
        Ok(id)
    }

    /// Threads of a community, most recently active first.
    pub fn threads(
        &self,
        community: &CommunityId,
        filter: &ThreadFilter,
    ) -> Result<Vec<ThreadSummary>, NodeError> {
        self.community(community)?;
        let tag = filter
            .tag
            .as_ref()
            .map(|t| t.trim().trim_start_matches('#').to_lowercase());
        let mut out: Vec<ThreadSummary> = self
            .store()
            .threads(community)?
            .into_iter()
            .filter(|t| filter.activity.is_none_or(|a| t.activity == a))
            .filter(|t| match filter.state {
                None => true,
                Some(ThreadState::Open) => !t.resolved,
                Some(ThreadState::Resolved) => t.resolved,
            })
            .filter(|t| tag.as_ref().is_none_or(|tag| t.tags.contains(tag)))
            .collect();
        out.sort_by_key(|t| std::cmp::Reverse((t.last_activity, t.id)));
        Ok(out)
    }

    /// A whole thread.
    pub fn thread(&self, id: &DocId) -> Result<Thread, NodeError> {
        let rec = self.doc_record(id, DocKind::Thread)?;
        Ok(self.read_doc(id, &rec, |doc| thread::read(doc, *id))??)
    }

    /// Replies to a thread (or to one of its posts).
    pub fn reply(
        &self,
        thread_id: &DocId,
        body: &str,
        reply_to: Option<&PostId>,
    ) -> Result<PostId, NodeError> {
        let rec = self.doc_record(thread_id, DocKind::Thread)?;
        self.require_role(&rec.community, Role::Member, "reply")?;
        if let Some(r) = reply_to {
            let t = self.thread(thread_id)?;
            if t.post(r).is_none() {
                return Err(NodeError::NotFound {
                    what: "post in this thread",
                    text: r.to_string(),
                });
            }
        }
        let post = PostId::random(&mut rand::rng());
        self.write_as(
            thread_ref(&rec, thread_id),
            false,
            Derive::Reply { post, body },
            |tx, now| thread::reply(tx, &post, body, reply_to, now),
        )?;
        Ok(post)
    }

    /// Marks a thread resolved, optionally naming the answer. The thread's author and
    /// coordinators may do this.
    pub fn resolve(&self, thread_id: &DocId, answer: Option<&PostId>) -> Result<(), NodeError> {
        let rec = self.doc_record(thread_id, DocKind::Thread)?;
        self.may_moderate(thread_id, &rec, "resolve")?;
        self.write(thread_ref(&rec, thread_id), false, |tx, now| {
            thread::resolve(tx, answer, now)
        })
    }

    /// Opens a resolved thread again.
    pub fn reopen(&self, thread_id: &DocId) -> Result<(), NodeError> {
        let rec = self.doc_record(thread_id, DocKind::Thread)?;
        self.may_moderate(thread_id, &rec, "reopen")?;
        self.write(thread_ref(&rec, thread_id), false, |tx, _| {
            thread::reopen(tx)
        })
    }

    fn may_moderate(
        &self,
        thread_id: &DocId,
        rec: &DocRecord,
        action: &str,
    ) -> Result<(), NodeError> {
        let role = self.require_role(&rec.community, Role::Member, action)?;
        let author = self.thread(thread_id)?.opening.author;
        if role != Role::Coordinator && author != Some(self.member_id()) {
            return Err(NodeError::NotAllowed(format!(
                "only the thread's author or a coordinator may {action} it"
            )));
        }
        Ok(())
    }

    /// Says "this helped" for a post (the opening post's id is the thread id). Not for one's
    /// own post: peers refuse that change.
    pub fn mark_helped(&self, thread_id: &DocId, post: &PostId) -> Result<(), NodeError> {
        let rec = self.doc_record(thread_id, DocKind::Thread)?;
        self.require_role(&rec.community, Role::Member, "mark posts helpful")?;
        let me = self.member_id();
        let t = self.thread(thread_id)?;
        let Some(p) = t.post(post) else {
            return Err(NodeError::NotFound {
                what: "post in this thread",
                text: post.to_string(),
            });
        };
        if p.author == Some(me) {
            return Err(NodeError::NotAllowed(
                "this is your own post: others say whether it helped them".into(),
            ));
        }
        if p.helped_by.contains(&me) {
            return Ok(());
        }
        self.write(thread_ref(&rec, thread_id), false, |tx, _| {
            thread::mark_helped(tx, post, &me)
        })
    }

    /// Withdraws this member's own "this helped" mark on a post; nothing to do if there is
    /// none.
    pub fn unmark_helped(&self, thread_id: &DocId, post: &PostId) -> Result<(), NodeError> {
        let rec = self.doc_record(thread_id, DocKind::Thread)?;
        self.require_role(&rec.community, Role::Member, "mark posts helpful")?;
        let me = self.member_id();
        let t = self.thread(thread_id)?;
        let Some(p) = t.post(post) else {
            return Err(NodeError::NotFound {
                what: "post in this thread",
                text: post.to_string(),
            });
        };
        if !p.helped_by.contains(&me) {
            return Ok(());
        }
        self.write(thread_ref(&rec, thread_id), false, |tx, _| {
            thread::unmark_helped(tx, post, &me)
        })
    }

    /// Remembers that this profile has seen `posts` posts of a thread (for unread counts).
    pub fn mark_read(&self, thread: &DocId, posts: u32) -> Result<(), NodeError> {
        let rec = self.doc_record(thread, DocKind::Thread)?;
        let key = format!("{READ_PREFIX}{}/{thread}", rec.community);
        self.store().commit(&commonplace_store::Commit {
            docs: Vec::new(),
            meta: vec![(key, posts.to_le_bytes().to_vec())],
        })?;
        Ok(())
    }

    /// How many posts of each thread this profile has seen.
    pub fn read_marks(&self, community: &CommunityId) -> Result<BTreeMap<DocId, u32>, NodeError> {
        let prefix = format!("{READ_PREFIX}{community}/");
        let mut out = BTreeMap::new();
        for (key, value) in self.store().meta_with_prefix(&prefix)? {
            let id = key[prefix.len()..].parse::<DocId>();
            let n = <[u8; 4]>::try_from(value.as_slice()).map(u32::from_le_bytes);
            if let (Ok(id), Ok(n)) = (id, n) {
                out.insert(id, n);
            }
        }
        Ok(out)
    }
}

fn thread_ref(rec: &DocRecord, id: &DocId) -> DocRef {
    DocRef {
        community: rec.community,
        kind: DocKind::Thread,
        id: *id,
    }
}

const READ_PREFIX: &str = "read/";
