//! The health report for a period: members and levels, activity per week, requests,
//! repertoire and events.

use std::collections::{BTreeSet, HashSet};

use commonplace_base::{CommunityId, DocId, MemberId, Timestamp};
use commonplace_model::{ActivityKind, LevelThresholds, RsvpStatus, event::MAX_OCCURRENCES};
use serde::{Deserialize, Serialize};

use crate::corpus::{ContributionKind, Corpus, DAY};
use crate::participation::{self, LevelCounts, Movement};

/// Monday 1970-01-05 00:00 UTC: weeks start on Mondays.
const FIRST_MONDAY: i64 = 4 * DAY;
const WEEK: i64 = 7 * DAY;

/// The Monday 00:00 UTC that starts the week holding `t`.
pub fn week_start(t: Timestamp) -> Timestamp {
    Timestamp(t.0 - (t.0 - FIRST_MONDAY).rem_euclid(WEEK))
}

/// Activity in one week (or, for totals, the whole period).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WeekRow {
    /// Monday 00:00 UTC (the period start for totals).
    pub week_start: Timestamp,
    /// Threads opened.
    pub threads: u32,
    /// Replies written.
    pub replies: u32,
    /// Threads plus replies.
    pub posts: u32,
    /// Members who contributed anything.
    pub active_members: u32,
    /// Members added to the roster.
    pub new_members: u32,
    /// Repertoire entries created.
    pub entries_created: u32,
    /// Event occurrences held.
    pub events_held: u32,
    /// Attendances recorded at them.
    pub attendance: u32,
}

/// Members over the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MembersHealth {
    /// Members in the roster at the end.
    pub total: u32,
    /// Members who contributed in the period.
    pub active: u32,
    /// Members added in the period.
    pub new: u32,
    /// Levels at the start.
    pub levels_at_start: LevelCounts,
    /// Levels at the end.
    pub levels_at_end: LevelCounts,
    /// Who moved between levels from start to end.
    pub movement: Vec<Movement>,
}

/// Requests for information opened in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestsHealth {
    /// Requests opened.
    pub opened: u32,
    /// Of those, replied to by someone other than the asker (by the end).
    pub replied: u32,
    /// Of those, resolved (by the end).
    pub resolved: u32,
    /// `resolved / opened`, if any were opened.
    pub share_resolved: Option<f64>,
    /// Median hours from the request to the first reply by someone else, over those replied.
    pub median_hours_to_first_reply: Option<f64>,
    /// Requests (opened any time) unanswered at the end ([`crate::unanswered_at`]).
    pub unanswered_at_end: u32,
}

/// The repertoire over the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RepertoireHealth {
    /// Entries at the start.
    pub entries_at_start: u32,
    /// Entries at the end.
    pub entries_at_end: u32,
    /// Entries created in the period.
    pub created: u32,
    /// Of those, promoted from a thread.
    pub promoted_from_threads: u32,
    /// Edits in the period (at most one per member per entry per day).
    pub edits: u32,
    /// Replies in the period that link to an entry.
    pub replies_linking_entries: u32,
    /// Distinct entries those replies link to: the repertoire being reused.
    pub entries_reused: u32,
}

/// One occurrence of an event in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HeldEvent {
    /// The event.
    pub id: DocId,
    /// Its title.
    pub title: String,
    /// When the occurrence started.
    pub start: Timestamp,
    /// Members who recorded they attended.
    pub attended: u32,
    /// Members who said they were going.
    pub going: u32,
}

/// Events over the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventsHealth {
    /// Occurrences held (started in the period, not cancelled).
    pub held: u32,
    /// Attendances recorded at them.
    pub attendance: u32,
    /// `attendance / held`, if any were held.
    pub mean_attendance: Option<f64>,
    /// The occurrences, oldest first.
    pub occurrences: Vec<HeldEvent>,
}

/// The health report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HealthReport {
    /// The community.
    pub community: CommunityId,
    /// Its name.
    pub name: String,
    /// Period start (inclusive).
    pub since: Timestamp,
    /// Period end (exclusive): the moment the report describes.
    pub until: Timestamp,
    /// Thresholds the levels were computed with.
    pub thresholds: LevelThresholds,
    /// Members.
    pub members: MembersHealth,
    /// Activity per week, oldest first (weeks start on Monday, UTC; the first and last may
    /// be partial).
    pub weeks: Vec<WeekRow>,
    /// Totals over the period.
    pub totals: WeekRow,
    /// Requests.
    pub requests: RequestsHealth,
    /// Repertoire.
    pub repertoire: RepertoireHealth,
    /// Events.
    pub events: EventsHealth,
    /// Topics of threads opened in the period, most used first (at most ten).
    pub top_topics: Vec<(String, u32)>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn ratio(a: u32, b: u32) -> Option<f64> {
    (b > 0).then(|| f64::from(a) / f64::from(b))
}

/// The health report for `[since, until)`.
pub fn health_report(
    corpus: &Corpus,
    t: &LevelThresholds,
    since: Timestamp,
    until: Timestamp,
) -> HealthReport {
    let in_period = |x: Timestamp| x >= since && x < until;
    // Weeks.
    let first = week_start(since);
    let n_weeks = if until > since {
        usize::try_from((until.0 - 1 - first.0).div_euclid(WEEK) + 1).unwrap_or(0)
    } else {
        0
    };
    let mut weeks: Vec<WeekRow> = (0..n_weeks)
        .map(|i| WeekRow {
            week_start: Timestamp(first.0 + i as i64 * WEEK),
            ..WeekRow::default()
        })
        .collect();
    let week_of = |x: Timestamp| usize::try_from((x.0 - first.0).div_euclid(WEEK)).ok();
    let mut active_per_week: Vec<HashSet<MemberId>> = vec![HashSet::new(); n_weeks];
    let mut active: HashSet<MemberId> = HashSet::new();
    for c in corpus.contributions_in(since, until) {
        active.insert(c.member);
        let Some(w) = week_of(c.at).filter(|w| *w < n_weeks) else {
            continue;
        };
        active_per_week[w].insert(c.member);
        match c.kind {
            ContributionKind::Thread => weeks[w].threads += 1,
            ContributionKind::Reply => weeks[w].replies += 1,
            _ => {}
        }
    }
    // Posts whose author is unknown are not contributions but are still posts.
    for th in &corpus.threads {
        for (i, p) in th.posts.iter().enumerate() {
            if p.author.is_none()
                && in_period(p.at)
                && let Some(w) = week_of(p.at).filter(|w| *w < n_weeks)
            {
                if i == 0 {
                    weeks[w].threads += 1;
                } else {
                    weeks[w].replies += 1;
                }
            }
        }
    }
    let roster = &corpus.community.roster;
    let mut new_members = 0;
    for m in roster.members.values() {
        if in_period(m.added_at) {
            new_members += 1;
            if let Some(w) = week_of(m.added_at).filter(|w| *w < n_weeks) {
                weeks[w].new_members += 1;
            }
        }
    }
    // Repertoire.
    let mut rep = RepertoireHealth {
        entries_at_start: 0,
        entries_at_end: 0,
        created: 0,
        promoted_from_threads: 0,
        edits: 0,
        replies_linking_entries: 0,
        entries_reused: 0,
    };
    let entry_ids: HashSet<DocId> = corpus.entries.iter().map(|e| e.summary.id).collect();
    for e in &corpus.entries {
        let s = &e.summary;
        rep.entries_at_start += u32::from(s.created_at < since);
        rep.entries_at_end += u32::from(s.created_at < until);
        if in_period(s.created_at) {
            rep.created += 1;
            rep.promoted_from_threads += u32::from(s.source_thread.is_some());
            if let Some(w) = week_of(s.created_at).filter(|w| *w < n_weeks) {
                weeks[w].entries_created += 1;
            }
        }
    }
    rep.edits = corpus
        .contributions_in(since, until)
        .iter()
        .filter(|c| c.kind == ContributionKind::RepertoireEdit)
        .count() as u32;
    let mut reused: BTreeSet<DocId> = BTreeSet::new();
    for th in &corpus.threads {
        for p in th.posts.iter().skip(1).filter(|p| in_period(p.at)) {
            let linked: Vec<&DocId> = p.links.iter().filter(|l| entry_ids.contains(l)).collect();
            if !linked.is_empty() {
                rep.replies_linking_entries += 1;
                reused.extend(linked);
            }
        }
    }
    rep.entries_reused = reused.len() as u32;
    // Requests.
    let mut hours = Vec::new();
    let mut req = RequestsHealth {
        opened: 0,
        replied: 0,
        resolved: 0,
        share_resolved: None,
        median_hours_to_first_reply: None,
        unanswered_at_end: 0,
    };
    let mut topic_counts: std::collections::BTreeMap<&str, u32> = Default::default();
    for th in &corpus.threads {
        let s = &th.summary;
        if in_period(s.created_at) {
            for tag in &s.tags {
                *topic_counts.entry(tag.as_str()).or_default() += 1;
            }
        }
        if s.activity != ActivityKind::Request || s.created_at >= until {
            continue;
        }
        let first_reply = s.first_reply_at.filter(|r| *r < until);
        if crate::knowledge::unanswered_at(s, until) {
            req.unanswered_at_end += 1;
        }
        if !in_period(s.created_at) {
            continue;
        }
        req.opened += 1;
        if let Some(r) = first_reply {
            req.replied += 1;
            hours.push((r.0 - s.created_at.0).max(0) as f64 / 3_600_000.0);
        }
        if s.resolved && s.resolved_at.is_none_or(|r| r < until) {
            req.resolved += 1;
        }
    }
    req.share_resolved = ratio(req.resolved, req.opened);
    req.median_hours_to_first_reply = median(hours);
    // Events.
    let mut occurrences = Vec::new();
    for ev in &corpus.events {
        for start in ev.occurrences(since, until, MAX_OCCURRENCES) {
            let attended = ev
                .answers_for(start)
                .filter(|r| r.status == RsvpStatus::Attended)
                .count() as u32;
            let going = ev
                .answers_for(start)
                .filter(|r| r.status == RsvpStatus::Going)
                .count() as u32;
            if let Some(w) = week_of(start).filter(|w| *w < n_weeks) {
                weeks[w].events_held += 1;
                weeks[w].attendance += attended;
            }
            occurrences.push(HeldEvent {
                id: ev.id,
                title: ev.details.title.clone(),
                start,
                attended,
                going,
            });
        }
    }
    occurrences.sort_by_key(|o| (o.start, o.id));
    let held = occurrences.len() as u32;
    let attendance = occurrences.iter().map(|o| o.attended).sum();
    // Weekly totals.
    for (w, set) in weeks.iter_mut().zip(&active_per_week) {
        w.posts = w.threads + w.replies;
        w.active_members = set.len() as u32;
    }
    let mut totals = WeekRow {
        week_start: since,
        ..WeekRow::default()
    };
    for w in &weeks {
        totals.threads += w.threads;
        totals.replies += w.replies;
        totals.posts += w.posts;
        totals.new_members += w.new_members;
        totals.entries_created += w.entries_created;
        totals.events_held += w.events_held;
        totals.attendance += w.attendance;
    }
    totals.active_members = active.len() as u32;
    let mut top_topics: Vec<(String, u32)> = topic_counts
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    top_topics.sort_by(|a, b| (std::cmp::Reverse(a.1), &a.0).cmp(&(std::cmp::Reverse(b.1), &b.0)));
    top_topics.truncate(10);
    let total = roster
        .members
        .values()
        .filter(|m| m.added_at < until && m.removed_at.is_none_or(|r| r >= until))
        .count() as u32;
    HealthReport {
        community: corpus.community.id,
        name: corpus.community.charter.name.clone(),
        since,
        until,
        thresholds: *t,
        members: MembersHealth {
            total,
            active: active.len() as u32,
            new: new_members,
            levels_at_start: participation::counts_at(corpus, t, since),
            levels_at_end: participation::counts_at(corpus, t, until),
            movement: participation::movement(corpus, t, since, until),
        },
        weeks,
        totals,
        requests: req,
        repertoire: rep,
        events: EventsHealth {
            held,
            attendance,
            mean_attendance: ratio(attendance, held),
            occurrences,
        },
        top_topics,
    }
}
