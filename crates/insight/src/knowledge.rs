//! The knowledge map (topics with their threads, requests and repertoire) and its gaps.

use std::collections::BTreeMap;

use commonplace_base::{DocId, Timestamp};
use commonplace_model::{ActivityKind, ThreadSummary};
use serde::{Deserialize, Serialize};

use crate::corpus::{Corpus, DAY, MemberRef};

/// One topic of the knowledge map.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Topic {
    /// The tag.
    pub topic: String,
    /// Threads with the tag.
    pub threads: u32,
    /// Requests for information with the tag.
    pub requests: u32,
    /// Of those, not resolved.
    pub open_requests: u32,
    /// Replies in threads with the tag.
    pub replies: u32,
    /// Repertoire entries with the tag.
    pub entries: u32,
    /// Newest post or edit on the topic.
    pub last_activity: Option<Timestamp>,
}

/// Every topic used in threads or the repertoire (or named in the charter), most used first.
pub fn knowledge_map(corpus: &Corpus) -> Vec<Topic> {
    let mut map: BTreeMap<String, Topic> = BTreeMap::new();
    fn at<'m>(map: &'m mut BTreeMap<String, Topic>, tag: &str) -> &'m mut Topic {
        map.entry(tag.to_owned()).or_insert_with(|| Topic {
            topic: tag.to_owned(),
            ..Topic::default()
        })
    }
    for tag in &corpus.community.charter.topics {
        at(&mut map, tag);
    }
    for t in &corpus.threads {
        let s = &t.summary;
        for tag in &s.tags {
            let e = at(&mut map, tag);
            e.threads += 1;
            e.replies += s.replies;
            if s.activity == ActivityKind::Request {
                e.requests += 1;
                e.open_requests += u32::from(!s.resolved);
            }
            e.last_activity = e.last_activity.max(Some(s.last_activity));
        }
    }
    for en in &corpus.entries {
        let s = &en.summary;
        for tag in &s.tags {
            let e = at(&mut map, tag);
            e.entries += 1;
            e.last_activity = e.last_activity.max(Some(s.updated_at));
        }
    }
    let mut out: Vec<Topic> = map.into_values().collect();
    out.sort_by(|a, b| {
        (std::cmp::Reverse(a.threads + a.entries), &a.topic)
            .cmp(&(std::cmp::Reverse(b.threads + b.entries), &b.topic))
    });
    out
}

/// Whether `s` is an unanswered request at `at`: a request for information, asked before
/// `at`, not resolved, that nobody but its asker had replied to by then. The one definition
/// of "unanswered" for the gaps, the health report and every screen (the UI shows what these
/// return and counts nothing itself).
pub fn unanswered_at(s: &ThreadSummary, at: Timestamp) -> bool {
    s.activity == ActivityKind::Request
        && !s.resolved
        && s.created_at < at
        && s.first_reply_at.is_none_or(|r| r >= at)
}

/// What counts as a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GapOptions {
    /// A request with no reply from anyone but its author for more than this many days.
    pub unanswered_days: u32,
    /// An entry not edited for more than this many days.
    pub stale_days: u32,
}

impl Default for GapOptions {
    fn default() -> Self {
        GapOptions {
            unanswered_days: 7,
            stale_days: 365,
        }
    }
}

/// A request nobody has answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnansweredRequest {
    /// The thread.
    pub id: DocId,
    /// Its title.
    pub title: String,
    /// Who asked.
    pub author: Option<MemberRef>,
    /// Topics.
    pub tags: Vec<String>,
    /// When it was asked.
    pub created_at: Timestamp,
    /// Whole days since.
    pub age_days: i64,
}

/// An entry nobody has touched for a long time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StaleEntry {
    /// The entry.
    pub id: DocId,
    /// Its title.
    pub title: String,
    /// Topics.
    pub tags: Vec<String>,
    /// Last edited.
    pub updated_at: Timestamp,
    /// Whole days since.
    pub age_days: i64,
}

/// A topic people ask about that the repertoire does not cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UncoveredTopic {
    /// The tag.
    pub topic: String,
    /// Requests with the tag.
    pub requests: u32,
    /// Of those, not resolved.
    pub open_requests: u32,
}

/// Where the community's knowledge is thin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Gaps {
    /// When the gaps were computed.
    pub at: Timestamp,
    /// The options used.
    pub options: GapOptions,
    /// Topics with requests but no repertoire entry, most asked first.
    pub topics_without_repertoire: Vec<UncoveredTopic>,
    /// Requests for information asked before `at`.
    #[serde(default)]
    pub requests: u32,
    /// Of those, not resolved.
    #[serde(default)]
    pub open_requests: u32,
    /// Of the open ones, those nobody but the asker has replied to ([`unanswered_at`]),
    /// however recent.
    #[serde(default)]
    pub unanswered: u32,
    /// Open requests with no reply for longer than `options.unanswered_days`, oldest first
    /// (the unanswered ones old enough to be a gap; with 0 days, every unanswered one).
    pub unanswered_requests: Vec<UnansweredRequest>,
    /// Entries not edited for longer than `options.stale_days`, oldest first.
    pub stale_entries: Vec<StaleEntry>,
}

/// The gaps at `at`.
pub fn gaps(corpus: &Corpus, options: &GapOptions, at: Timestamp) -> Gaps {
    let mut topics_without_repertoire: Vec<UncoveredTopic> = knowledge_map(corpus)
        .into_iter()
        .filter(|t| t.requests > 0 && t.entries == 0)
        .map(|t| UncoveredTopic {
            topic: t.topic,
            requests: t.requests,
            open_requests: t.open_requests,
        })
        .collect();
    topics_without_repertoire.sort_by(|a, b| {
        (std::cmp::Reverse(a.requests), &a.topic).cmp(&(std::cmp::Reverse(b.requests), &b.topic))
    });
    let unanswered_before =
        at.0.saturating_sub(i64::from(options.unanswered_days) * DAY);
    let asked: Vec<&ThreadSummary> = corpus
        .threads_of(ActivityKind::Request)
        .map(|t| &t.summary)
        .filter(|s| s.created_at < at)
        .collect();
    let unanswered: Vec<&ThreadSummary> = asked
        .iter()
        .copied()
        .filter(|s| unanswered_at(s, at))
        .collect();
    let mut unanswered_requests: Vec<UnansweredRequest> = unanswered
        .iter()
        .filter(|s| s.created_at.0 < unanswered_before)
        .map(|s| UnansweredRequest {
            id: s.id,
            title: s.title.clone(),
            author: s.author.map(|a| corpus.member(&a)),
            tags: s.tags.clone(),
            created_at: s.created_at,
            age_days: (at.0 - s.created_at.0).div_euclid(DAY),
        })
        .collect();
    unanswered_requests.sort_by_key(|r| (r.created_at, r.id));
    let stale_before = at.0.saturating_sub(i64::from(options.stale_days) * DAY);
    let mut stale_entries: Vec<StaleEntry> = corpus
        .entries
        .iter()
        .map(|e| &e.summary)
        .filter(|s| s.updated_at.0 < stale_before)
        .map(|s| StaleEntry {
            id: s.id,
            title: s.title.clone(),
            tags: s.tags.clone(),
            updated_at: s.updated_at,
            age_days: (at.0 - s.updated_at.0).div_euclid(DAY),
        })
        .collect();
    stale_entries.sort_by_key(|e| (e.updated_at, e.id));
    Gaps {
        at,
        options: *options,
        topics_without_repertoire,
        requests: asked.len() as u32,
        open_requests: asked.iter().filter(|s| !s.resolved).count() as u32,
        unanswered: unanswered.len() as u32,
        unanswered_requests,
        stale_entries,
    }
}
