//! The input of every analysis: a community's read-index rows joined once.

use std::collections::HashMap;

use commonplace_base::{DocId, MemberId, Timestamp};
use commonplace_model::{
    ActivityKind, Community, DocActivity, EditRecord, EntrySummary, EventSummary, PostRecord,
    RsvpStatus, ThreadSummary,
};
use serde::{Deserialize, Serialize};

/// Milliseconds in a day.
pub const DAY: i64 = 86_400_000;

/// A member as reports show them: id and roster name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberRef {
    /// The member id.
    pub id: MemberId,
    /// The name the roster gives.
    pub name: String,
}

/// A thread with its posts.
#[derive(Debug, Clone)]
pub struct ThreadFacts {
    /// The thread's index row.
    pub summary: ThreadSummary,
    /// Its posts, opening post first (empty if the activity index lacks the thread).
    pub posts: Vec<PostRecord>,
}

/// An entry with its signed edits.
#[derive(Debug, Clone)]
pub struct EntryFacts {
    /// The entry's index row.
    pub summary: EntrySummary,
    /// Its edits, oldest first.
    pub edits: Vec<EditRecord>,
}

/// What a member did that counts toward participation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContributionKind {
    /// Opened a thread.
    Thread,
    /// Replied in a thread.
    Reply,
    /// Created or edited a repertoire entry (at most one per entry per day).
    RepertoireEdit,
    /// Attended an event occurrence.
    Attendance,
}

/// One contribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Contribution {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub member: MemberId,
    /// What.
    pub kind: ContributionKind,
}

/// A community's activity, ready for analysis.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The community document (charter and roster).
    pub community: Community,
    /// Threads, in id order.
    pub threads: Vec<ThreadFacts>,
    /// Entries, in id order.
    pub entries: Vec<EntryFacts>,
    /// Events, in id order.
    pub events: Vec<EventSummary>,
    /// Every contribution, oldest first.
    pub contributions: Vec<Contribution>,
}

impl Corpus {
    /// Joins the index rows of one community. `activity` holds the per-post and per-edit
    /// records by document id.
    pub fn new(
        community: Community,
        mut threads: Vec<ThreadSummary>,
        mut entries: Vec<EntrySummary>,
        mut events: Vec<EventSummary>,
        activity: Vec<(DocId, DocActivity)>,
    ) -> Corpus {
        let mut by_id: HashMap<DocId, DocActivity> = activity.into_iter().collect();
        threads.sort_by_key(|t| t.id);
        entries.sort_by_key(|e| e.id);
        events.sort_by_key(|e| e.id);
        let threads: Vec<ThreadFacts> = threads
            .into_iter()
            .map(|summary| {
                let posts = match by_id.remove(&summary.id) {
                    Some(DocActivity::Thread(p)) => p,
                    _ => Vec::new(),
                };
                ThreadFacts { summary, posts }
            })
            .collect();
        let entries: Vec<EntryFacts> = entries
            .into_iter()
            .map(|summary| {
                let edits = match by_id.remove(&summary.id) {
                    Some(DocActivity::Entry(e)) => e,
                    _ => Vec::new(),
                };
                EntryFacts { summary, edits }
            })
            .collect();
        let contributions = contributions(&threads, &entries, &events);
        Corpus {
            community,
            threads,
            entries,
            events,
            contributions,
        }
    }

    /// A member's id and roster name.
    pub fn member(&self, id: &MemberId) -> MemberRef {
        MemberRef {
            id: *id,
            name: self.community.roster.name_of(id),
        }
    }

    /// Threads of one activity.
    pub fn threads_of(&self, kind: ActivityKind) -> impl Iterator<Item = &ThreadFacts> {
        self.threads
            .iter()
            .filter(move |t| t.summary.activity == kind)
    }

    /// Contributions in `[from, to)`.
    pub fn contributions_in(&self, from: Timestamp, to: Timestamp) -> &[Contribution] {
        let lo = self.contributions.partition_point(|c| c.at < from);
        let hi = self.contributions.partition_point(|c| c.at < to);
        self.contributions.get(lo..hi.max(lo)).unwrap_or(&[])
    }
}

fn contributions(
    threads: &[ThreadFacts],
    entries: &[EntryFacts],
    events: &[EventSummary],
) -> Vec<Contribution> {
    let mut out = Vec::new();
    for t in threads {
        for (i, p) in t.posts.iter().enumerate() {
            if let Some(member) = p.author {
                out.push(Contribution {
                    at: p.at,
                    member,
                    kind: if i == 0 {
                        ContributionKind::Thread
                    } else {
                        ContributionKind::Reply
                    },
                });
            }
        }
    }
    for e in entries {
        // Typing produces many changes; a member's work on one entry counts once a day.
        let mut last: Option<(MemberId, i64)> = None;
        let mut edits = e.edits.clone();
        edits.sort_by_key(|r| (r.editor, r.at));
        for r in edits {
            let day = r.at.0.div_euclid(DAY);
            if last == Some((r.editor, day)) {
                continue;
            }
            last = Some((r.editor, day));
            out.push(Contribution {
                at: r.at,
                member: r.editor,
                kind: ContributionKind::RepertoireEdit,
            });
        }
    }
    for ev in events {
        for r in &ev.rsvps {
            if r.status == RsvpStatus::Attended {
                out.push(Contribution {
                    at: r.occurrence,
                    member: r.member,
                    kind: ContributionKind::Attendance,
                });
            }
        }
    }
    out.sort();
    out
}
