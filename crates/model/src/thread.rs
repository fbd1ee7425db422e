//! Threads: one Automerge document per thread, holding the opening post and its replies.
//!
//! Authorship is never a field anyone can write: the author of the thread is the signer of
//! the op that created its `posts` map, the author of a reply the signer of the op that
//! created the reply's map. [`crate::verify`] refuses changes that would re-create either,
//! so the author read here is the one who really wrote the post. Post bodies are plain strings (an edit replaces the string):
//! only text that several members edit together is Automerge Text.

use std::collections::BTreeSet;

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT, ReadDoc, ScalarValueRef, ValueRef};
use commonplace_base::{CommunityId, DocId, MemberId, PostId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::read::{View, signer_of_op};
use crate::{ActivityKind, SCHEMA_VERSION, SchemaError, validate};

/// Longest title, in characters.
pub const MAX_TITLE: usize = 300;
/// Longest post body, in characters.
pub const MAX_BODY: usize = 100_000;

/// One post: the opening post or a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Post {
    /// The post id. The opening post's id equals the thread id.
    pub id: PostId,
    /// Who wrote it (from the signed change).
    pub author: Option<MemberId>,
    /// The text.
    pub body: String,
    /// When it was written (as claimed by its author).
    pub created_at: Timestamp,
    /// The post this one answers, if it is a reply to a reply.
    pub reply_to: Option<PostId>,
    /// Members who said "this helped".
    pub helped_by: Vec<MemberId>,
}

/// A whole thread, read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Thread {
    /// The thread id.
    pub id: DocId,
    /// Its community.
    pub community: CommunityId,
    /// Which activity it carries.
    pub activity: ActivityKind,
    /// Its title.
    pub title: String,
    /// Topics.
    pub tags: Vec<String>,
    /// The opening post.
    pub opening: Post,
    /// Replies, oldest first.
    pub replies: Vec<Post>,
    /// Whether it is solved / answered.
    pub resolved: bool,
    /// The reply marked as the answer.
    pub answer: Option<PostId>,
    /// Who marked it resolved.
    pub resolved_by: Option<MemberId>,
    /// When.
    pub resolved_at: Option<Timestamp>,
}

/// What lists and reports need about a thread, kept in the read index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ThreadSummary {
    /// The thread id.
    pub id: DocId,
    /// Its community.
    pub community: CommunityId,
    /// Which activity it carries.
    pub activity: ActivityKind,
    /// Its title.
    pub title: String,
    /// Who opened it.
    pub author: Option<MemberId>,
    /// Topics.
    pub tags: Vec<String>,
    /// When it was opened.
    pub created_at: Timestamp,
    /// Newest post time.
    pub last_activity: Timestamp,
    /// Number of replies.
    pub replies: u32,
    /// When someone other than the author first replied.
    pub first_reply_at: Option<Timestamp>,
    /// Whether it is resolved.
    pub resolved: bool,
    /// The answer, if one was marked.
    pub answer: Option<PostId>,
    /// When it was resolved.
    pub resolved_at: Option<Timestamp>,
    /// Everyone who posted in it, author first.
    pub participants: Vec<MemberId>,
    /// "This helped" marks across all posts.
    pub helped: u32,
    /// A short start of the opening post.
    pub excerpt: String,
}

/// Writes a new thread document.
#[allow(clippy::too_many_arguments)]
pub fn init<T: Transactable>(
    tx: &mut T,
    community: &CommunityId,
    activity: ActivityKind,
    title: &str,
    body: &str,
    tags: &[String],
    now: Timestamp,
) -> Result<(), SchemaError> {
    validate::line("title", title, MAX_TITLE)?;
    validate::body("body", body, MAX_BODY)?;
    let tags = validate::tags(tags)?;
    tx.put(ROOT, "schema", SCHEMA_VERSION)?;
    tx.put(ROOT, "kind", "thread")?;
    tx.put(ROOT, "community", community.to_string())?;
    tx.put(ROOT, "activity", activity.as_str())?;
    tx.put(ROOT, "title", title.trim())?;
    tx.put(ROOT, "body", body)?;
    tx.put(ROOT, "created_at", now.0)?;
    let list = tx.put_object(ROOT, "tags", ObjType::List)?;
    for (i, t) in tags.iter().enumerate() {
        tx.insert(&list, i, t.as_str())?;
    }
    tx.put_object(ROOT, "posts", ObjType::Map)?;
    tx.put_object(ROOT, "helped", ObjType::Map)?;
    tx.put(ROOT, "resolved", false)?;
    Ok(())
}

/// Adds a reply. `post` must be a new id: a reply is never written over another one (peers
/// refuse a change that does, see [`crate::verify`]).
pub fn reply<T: Transactable>(
    tx: &mut T,
    post: &PostId,
    body: &str,
    reply_to: Option<&PostId>,
    now: Timestamp,
) -> Result<(), SchemaError> {
    validate::body("reply", body, MAX_BODY)?;
    let posts = posts_obj(tx)?;
    let key = post.to_string();
    if tx.get(&posts, key.as_str())?.is_some() {
        return Err(SchemaError::Input {
            field: "post",
            problem: format!("{post} already exists in this thread"),
        });
    }
    let obj = tx.put_object(&posts, key.as_str(), ObjType::Map)?;
    tx.put(&obj, "body", body)?;
    tx.put(&obj, "created_at", now.0)?;
    if let Some(r) = reply_to {
        tx.put(&obj, "reply_to", r.to_string())?;
    }
    Ok(())
}

/// Marks the thread resolved, optionally with the reply that answered it.
pub fn resolve<T: Transactable>(
    tx: &mut T,
    answer: Option<&PostId>,
    now: Timestamp,
) -> Result<(), SchemaError> {
    if let Some(a) = answer {
        let posts = posts_obj(tx)?;
        if tx.get(&posts, a.to_string().as_str())?.is_none() {
            return Err(SchemaError::Input {
                field: "answer",
                problem: format!("{a} is not a reply in this thread"),
            });
        }
        tx.put(ROOT, "answer", a.to_string())?;
    } else if tx.get(ROOT, "answer")?.is_some() {
        tx.delete(ROOT, "answer")?;
    }
    tx.put(ROOT, "resolved", true)?;
    tx.put(ROOT, "resolved_at", now.0)?;
    Ok(())
}

/// Opens a resolved thread again.
pub fn reopen<T: Transactable>(tx: &mut T) -> Result<(), SchemaError> {
    tx.put(ROOT, "resolved", false)?;
    if tx.get(ROOT, "answer")?.is_some() {
        tx.delete(ROOT, "answer")?;
    }
    Ok(())
}

/// Records that `member` found `post` helpful (the opening post's id is the thread id).
/// Peers refuse a mark on the member's own post (see [`crate::verify`]); the node checks it
/// before writing, with the thread at hand.
pub fn mark_helped<T: Transactable>(
    tx: &mut T,
    post: &PostId,
    member: &MemberId,
) -> Result<(), SchemaError> {
    let helped = helped_obj(tx)?;
    tx.put(&helped, format!("{post}/{member}").as_str(), true)?;
    Ok(())
}

/// Withdraws `member`'s "this helped" mark on `post`, if there is one (only their own: the
/// key names them, and peers refuse a change to anyone else's).
pub fn unmark_helped<T: Transactable>(
    tx: &mut T,
    post: &PostId,
    member: &MemberId,
) -> Result<(), SchemaError> {
    let helped = helped_obj(tx)?;
    let key = format!("{post}/{member}");
    if tx.get(&helped, key.as_str())?.is_some() {
        tx.delete(&helped, key.as_str())?;
    }
    Ok(())
}

fn helped_obj<T: ReadDoc>(tx: &T) -> Result<automerge::ObjId, SchemaError> {
    match tx.get(ROOT, "helped")? {
        Some((automerge::Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(SchemaError::Field { field: "helped" }),
    }
}

fn posts_obj<T: ReadDoc>(tx: &T) -> Result<automerge::ObjId, SchemaError> {
    match tx.get(ROOT, "posts")? {
        Some((automerge::Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(SchemaError::Field { field: "posts" }),
    }
}

/// Reads a thread document.
pub fn read(doc: &Automerge, id: DocId) -> Result<Thread, SchemaError> {
    let v = View::now(doc);
    v.check_schema("thread")?;
    let community: CommunityId = v
        .str(&ROOT, "community")?
        .parse()
        .map_err(|_| SchemaError::Field { field: "community" })?;
    let activity: ActivityKind = v.str(&ROOT, "activity")?.parse()?;
    let posts_obj = v.req_obj(&ROOT, "posts", ObjType::Map)?;
    let helped = read_helped(v);
    let helped_for = |post: &PostId| -> Vec<MemberId> {
        let prefix = format!("{post}/");
        helped
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, m)| *m)
            .collect()
    };
    // A mark by the post's own author counts for nothing (earlier versions let authors mark
    // their own posts; peers now refuse new such marks, see `verify`).
    let helped_for = |post: &PostId, author: Option<MemberId>| -> Vec<MemberId> {
        helped_for(post)
            .into_iter()
            .filter(|m| Some(*m) != author)
            .collect()
    };
    let opening_id = PostId::from_bytes(*id.as_bytes());
    let opening_author = signer_of_op(&posts_obj);
    let opening = Post {
        id: opening_id,
        author: opening_author,
        body: v.str(&ROOT, "body")?,
        created_at: Timestamp(v.i64(&ROOT, "created_at")?),
        reply_to: None,
        helped_by: helped_for(&opening_id, opening_author),
    };
    // One pass over the posts map and one over each reply's map: looking every field up by
    // key costs a search of the document each, which made this read the bulk of an import.
    // The values are the ones `get` shows (the winner of any conflict).
    let mut replies = Vec::new();
    for item in doc.map_range(&posts_obj, ..) {
        let Ok(pid) = item.key.parse::<PostId>() else {
            continue;
        };
        if item.value != ValueRef::Object(ObjType::Map) {
            continue;
        }
        let obj = item.id();
        let author = signer_of_op(&obj);
        let mut post = Post {
            id: pid,
            author,
            body: String::new(),
            created_at: Timestamp(0),
            reply_to: None,
            helped_by: helped_for(&pid, author),
        };
        for field in doc.map_range(&obj, ..) {
            match (field.key.as_ref(), field.value) {
                ("body", ValueRef::Scalar(ScalarValueRef::Str(s))) => post.body = s.into_owned(),
                (
                    "created_at",
                    ValueRef::Scalar(ScalarValueRef::Int(i) | ScalarValueRef::Timestamp(i)),
                ) => {
                    post.created_at = Timestamp(i);
                }
                ("created_at", ValueRef::Scalar(ScalarValueRef::Uint(u))) => {
                    post.created_at = Timestamp(i64::try_from(u).unwrap_or_default());
                }
                ("reply_to", ValueRef::Scalar(ScalarValueRef::Str(s))) => {
                    post.reply_to = s.parse().ok();
                }
                _ => {}
            }
        }
        replies.push(post);
    }
    replies.sort_by_key(|p| (p.created_at, p.id));
    let resolved = v.opt_bool(&ROOT, "resolved").unwrap_or(false);
    Ok(Thread {
        id,
        community,
        activity,
        title: v.str(&ROOT, "title")?,
        tags: v.str_list(&ROOT, "tags"),
        opening,
        replies,
        resolved,
        answer: v
            .opt_str(&ROOT, "answer")
            .and_then(|a| a.parse().ok())
            .filter(|_| resolved),
        resolved_by: if resolved {
            v.writer_of(&ROOT, "resolved")
        } else {
            None
        },
        resolved_at: if resolved {
            v.opt_i64(&ROOT, "resolved_at").map(Timestamp)
        } else {
            None
        },
    })
}

/// "post/member" keys whose value was written by that member. Marks written by anyone else
/// are ignored: one member cannot say that another found something helpful.
fn read_helped(v: View<'_>) -> Vec<(String, MemberId)> {
    let Some(obj) = v.obj(&ROOT, "helped", ObjType::Map) else {
        return Vec::new();
    };
    v.keys(&obj)
        .into_iter()
        .filter_map(|k| {
            let member: MemberId = k.split_once('/')?.1.parse().ok()?;
            (v.writer_of(&obj, &k) == Some(member) && v.opt_bool(&obj, &k) == Some(true))
                .then_some((k, member))
        })
        .collect()
}

impl Thread {
    /// The summary kept in the read index.
    pub fn summary(&self) -> ThreadSummary {
        let stats = PostStats::of(
            std::iter::once(&self.opening)
                .chain(&self.replies)
                .map(|p| (p.author, p.created_at, p.helped_by.len())),
        );
        ThreadSummary {
            id: self.id,
            community: self.community,
            activity: self.activity,
            title: self.title.clone(),
            author: self.opening.author,
            tags: self.tags.clone(),
            created_at: self.opening.created_at,
            last_activity: stats.last_activity,
            replies: stats.replies,
            first_reply_at: stats.first_reply_at,
            resolved: self.resolved,
            answer: self.answer,
            resolved_at: self.resolved_at,
            participants: stats.participants,
            helped: stats.helped,
            excerpt: excerpt(&self.opening.body, 160),
        }
    }

    /// A post by id (the opening post or a reply).
    pub fn post(&self, id: &PostId) -> Option<&Post> {
        std::iter::once(&self.opening)
            .chain(&self.replies)
            .find(|p| &p.id == id)
    }
}

/// The first `max` characters of `text` on one line, with an ellipsis if cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let mut s: String = flat.chars().take(max).collect();
        s.push('…');
        s
    }
}

/// What a summary counts over a thread's posts. One definition for the summary read from a
/// document and for the one derived from the previous row, so the two cannot drift apart.
struct PostStats {
    participants: Vec<MemberId>,
    first_reply_at: Option<Timestamp>,
    last_activity: Timestamp,
    replies: u32,
    helped: u32,
}

impl PostStats {
    /// `posts`: (author, time, "helped" marks) of every post, the opening post first and the
    /// replies oldest first.
    fn of(mut posts: impl Iterator<Item = (Option<MemberId>, Timestamp, usize)>) -> PostStats {
        let Some((author, opened, marks)) = posts.next() else {
            // Unreachable for a read thread (it always has its opening post).
            return PostStats {
                participants: Vec::new(),
                first_reply_at: None,
                last_activity: Timestamp(0),
                replies: 0,
                helped: 0,
            };
        };
        let mut participants: Vec<MemberId> = author.into_iter().collect();
        let mut seen: BTreeSet<MemberId> = participants.iter().copied().collect();
        let mut first_reply_at: Option<Timestamp> = None;
        let mut last_activity = opened;
        let mut replies = 0usize;
        let mut helped = marks;
        for (a, at, marks) in posts {
            replies += 1;
            helped += marks;
            last_activity = last_activity.max(at);
            if a != author {
                first_reply_at = Some(first_reply_at.map_or(at, |f| f.min(at)));
            }
            if let Some(a) = a
                && seen.insert(a)
            {
                participants.push(a);
            }
        }
        PostStats {
            participants,
            first_reply_at,
            last_activity,
            replies: u32::try_from(replies).unwrap_or(u32::MAX),
            helped: u32::try_from(helped).unwrap_or(u32::MAX),
        }
    }
}

impl ThreadSummary {
    /// The summary after a new reply joined the thread, derived from this summary and the
    /// thread's activity records (`posts`, as [`Thread::activity`] gives them) without reading
    /// the document: what a local reply needs, where reading the whole thread again would cost
    /// far more than the write. `posts` gets the new reply at its place.
    ///
    /// Equal to `thread::read(..).summary()` after the reply, provided `reply` is the post
    /// just written by [`reply`] with a fresh id (so no "helped" mark can name it yet) and the
    /// summary and records were those of the document before it. Returns `None` when the
    /// records do not fit this summary (a row from an older version): read the thread then.
    pub fn with_reply(
        &self,
        posts: &mut Vec<crate::PostRecord>,
        reply: crate::PostRecord,
    ) -> Option<ThreadSummary> {
        let opening = posts.first()?;
        if opening.id.as_bytes() != self.id.as_bytes()
            || posts.len() != self.replies as usize + 1
            || posts.iter().any(|p| p.id == reply.id)
        {
            return None;
        }
        // Replies are kept oldest first, ties by id, as `read` sorts them.
        let at = 1 + posts[1..].partition_point(|p| (p.at, p.id) < (reply.at, reply.id));
        posts.insert(at, reply);
        let stats = PostStats::of(posts.iter().map(|p| (p.author, p.at, p.helped_by.len())));
        Some(ThreadSummary {
            last_activity: stats.last_activity,
            replies: stats.replies,
            first_reply_at: stats.first_reply_at,
            participants: stats.participants,
            helped: stats.helped,
            ..self.clone()
        })
    }
}
