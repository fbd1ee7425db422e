//! Participation levels: core, active, peripheral, inactive — computed from each member's
//! contributions in a trailing window, never assigned.

use std::collections::{BTreeMap, HashMap};

use commonplace_base::{MemberId, Timestamp};
use commonplace_model::{LevelThresholds, Role};
use serde::{Deserialize, Serialize};

use crate::corpus::{ContributionKind, Corpus, DAY, MemberRef};

/// How involved a member is, from their recent activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Level {
    /// The heart of the community.
    Core,
    /// Takes part regularly.
    Active,
    /// Takes part now and then.
    Peripheral,
    /// Nothing in the window.
    Inactive,
}

impl Level {
    /// Every level, core first.
    pub const ALL: [Level; 4] = [
        Level::Core,
        Level::Active,
        Level::Peripheral,
        Level::Inactive,
    ];

    /// The word reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Core => "core",
            Level::Active => "active",
            Level::Peripheral => "peripheral",
            Level::Inactive => "inactive",
        }
    }

    /// The level `n` contributions earn under `t`.
    pub fn for_count(n: u32, t: &LevelThresholds) -> Level {
        if n >= t.core {
            Level::Core
        } else if n >= t.active {
            Level::Active
        } else if n >= t.peripheral {
            Level::Peripheral
        } else {
            Level::Inactive
        }
    }
}

/// How many members are at each level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LevelCounts {
    /// Core members.
    pub core: u32,
    /// Active members.
    pub active: u32,
    /// Peripheral members.
    pub peripheral: u32,
    /// Inactive members.
    pub inactive: u32,
}

impl LevelCounts {
    fn add(&mut self, l: Level) {
        match l {
            Level::Core => self.core += 1,
            Level::Active => self.active += 1,
            Level::Peripheral => self.peripheral += 1,
            Level::Inactive => self.inactive += 1,
        }
    }

    /// The count at one level.
    pub fn get(&self, l: Level) -> u32 {
        match l {
            Level::Core => self.core,
            Level::Active => self.active,
            Level::Peripheral => self.peripheral,
            Level::Inactive => self.inactive,
        }
    }
}

/// One member's level and what earned it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberLevel {
    /// The member.
    pub member: MemberRef,
    /// Their role.
    pub role: Role,
    /// Their level now.
    pub level: Level,
    /// Their level one window earlier (`None` if they were not a member yet).
    pub previous: Option<Level>,
    /// Contributions in the window.
    pub contributions: u32,
    /// Threads opened in the window.
    pub threads: u32,
    /// Replies in the window.
    pub replies: u32,
    /// Repertoire edits in the window (at most one per entry per day).
    pub repertoire_edits: u32,
    /// Event occurrences attended in the window.
    pub attended: u32,
    /// Their latest contribution ever (up to `at`).
    pub last_active: Option<Timestamp>,
}

/// A member who moved between levels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Movement {
    /// The member.
    pub member: MemberRef,
    /// Their level at the start (`None`: they joined since).
    pub from: Option<Level>,
    /// Their level at the end.
    pub to: Level,
}

/// Level counts at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LevelSnapshot {
    /// The moment.
    pub at: Timestamp,
    /// Counts of the members at that moment.
    pub counts: LevelCounts,
}

/// Everyone's level at a moment, how it changed, and the thresholds used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Participation {
    /// The moment levels are computed for.
    pub at: Timestamp,
    /// The thresholds (set by coordinators, or the defaults).
    pub thresholds: LevelThresholds,
    /// Counts per level.
    pub counts: LevelCounts,
    /// Active roster members, core first, then by contributions and name.
    pub members: Vec<MemberLevel>,
    /// Members whose level differs from one window earlier, toward the core first.
    pub movement: Vec<Movement>,
    /// Counts at the end of each of the last six 30-day steps, oldest first, ending at `at`.
    pub history: Vec<LevelSnapshot>,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    threads: u32,
    replies: u32,
    edits: u32,
    attended: u32,
}

impl Tally {
    fn total(&self) -> u32 {
        self.threads + self.replies + self.edits + self.attended
    }
}

fn tallies(corpus: &Corpus, at: Timestamp, window_days: u32) -> HashMap<MemberId, Tally> {
    let from = Timestamp(at.0.saturating_sub(i64::from(window_days) * DAY));
    let mut out: HashMap<MemberId, Tally> = HashMap::new();
    for c in corpus.contributions_in(from, at) {
        let t = out.entry(c.member).or_default();
        match c.kind {
            ContributionKind::Thread => t.threads += 1,
            ContributionKind::Reply => t.replies += 1,
            ContributionKind::RepertoireEdit => t.edits += 1,
            ContributionKind::Attendance => t.attended += 1,
        }
    }
    out
}

/// Members of the roster at `at`: added by then and not removed by then.
fn members_at(
    corpus: &Corpus,
    at: Timestamp,
) -> impl Iterator<Item = &commonplace_model::RosterMember> {
    corpus
        .community
        .roster
        .members
        .values()
        .filter(move |m| m.added_at <= at && m.removed_at.is_none_or(|r| r > at))
}

/// Each member's level at `at` (contributions in `[at - window, at)`).
pub fn levels_at(corpus: &Corpus, t: &LevelThresholds, at: Timestamp) -> BTreeMap<MemberId, Level> {
    let tallies = tallies(corpus, at, t.window_days);
    members_at(corpus, at)
        .map(|m| {
            let n = tallies.get(&m.id).map_or(0, Tally::total);
            (m.id, Level::for_count(n, t))
        })
        .collect()
}

/// Level counts at `at`.
pub fn counts_at(corpus: &Corpus, t: &LevelThresholds, at: Timestamp) -> LevelCounts {
    let mut counts = LevelCounts::default();
    for l in levels_at(corpus, t, at).into_values() {
        counts.add(l);
    }
    counts
}

/// Members who moved between `from` and `to`, toward the core first.
pub fn movement(
    corpus: &Corpus,
    t: &LevelThresholds,
    from: Timestamp,
    to: Timestamp,
) -> Vec<Movement> {
    let before = levels_at(corpus, t, from);
    let after = levels_at(corpus, t, to);
    let mut out: Vec<Movement> = after
        .iter()
        .filter_map(|(id, to)| {
            let from = before.get(id).copied();
            (from != Some(*to)).then(|| Movement {
                member: corpus.member(id),
                from,
                to: *to,
            })
        })
        .collect();
    // Toward the core first (the largest step inward), then by name.
    let rank = |l: Option<Level>| l.map_or(4, |l| l as i32);
    out.sort_by(|a, b| {
        (rank(Some(a.to)) - rank(a.from), &a.member.name, a.member.id).cmp(&(
            rank(Some(b.to)) - rank(b.from),
            &b.member.name,
            b.member.id,
        ))
    });
    out
}

/// Everyone's level at `at`, with movement over one window and a six-step history.
pub fn participation(corpus: &Corpus, t: &LevelThresholds, at: Timestamp) -> Participation {
    let window = i64::from(t.window_days) * DAY;
    let now = tallies(corpus, at, t.window_days);
    let before = levels_at(corpus, t, Timestamp(at.0.saturating_sub(window)));
    let mut last_active: HashMap<MemberId, Timestamp> = HashMap::new();
    for c in corpus.contributions_in(Timestamp(i64::MIN), at) {
        last_active.insert(c.member, c.at);
    }
    let mut counts = LevelCounts::default();
    let mut members: Vec<MemberLevel> = members_at(corpus, at)
        .map(|m| {
            let tally = now.get(&m.id).copied().unwrap_or_default();
            let level = Level::for_count(tally.total(), t);
            counts.add(level);
            MemberLevel {
                member: corpus.member(&m.id),
                role: m.role,
                level,
                previous: before.get(&m.id).copied(),
                contributions: tally.total(),
                threads: tally.threads,
                replies: tally.replies,
                repertoire_edits: tally.edits,
                attended: tally.attended,
                last_active: last_active.get(&m.id).copied(),
            }
        })
        .collect();
    members.sort_by(|a, b| {
        (
            a.level,
            std::cmp::Reverse(a.contributions),
            &a.member.name,
            a.member.id,
        )
            .cmp(&(
                b.level,
                std::cmp::Reverse(b.contributions),
                &b.member.name,
                b.member.id,
            ))
    });
    let history = (0..6)
        .rev()
        .map(|i| {
            let when = Timestamp(at.0.saturating_sub(i * 30 * DAY));
            LevelSnapshot {
                at: when,
                counts: counts_at(corpus, t, when),
            }
        })
        .collect();
    Participation {
        at,
        thresholds: *t,
        counts,
        members,
        movement: movement(corpus, t, Timestamp(at.0.saturating_sub(window)), at),
        history,
    }
}
