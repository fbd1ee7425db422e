//! Analytics against a small community whose figures were worked out by hand, and property
//! tests that every post is counted exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use commonplace_base::{DocId, MemberId, PostId, SecretKey, Timestamp};
use commonplace_insight::{
    Corpus, GapOptions, Level, ask_someone_who_knows, expertise, gaps, health_report,
    introductions, knowledge_map, participation, render, week_start,
};
use commonplace_model::{
    ActivityKind, Charter, Community, DocActivity, EditRecord, EntryKind, EntrySummary,
    EventDetails, EventKind, EventSummary, Genesis, LevelThresholds, Post, Role, Roster,
    RosterMember, Rsvp, RsvpStatus, Thread,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

const H: i64 = 3_600_000;
const D: i64 = 24 * H;
/// Monday 5 January 2026, 00:00 UTC.
const T0: i64 = 20_458 * D;

fn id(seed: u8) -> MemberId {
    SecretKey::from_seed([seed; 32]).member_id()
}

fn doc(seed: u8) -> DocId {
    DocId::from_bytes([seed; 16])
}

fn post_id(seed: u8) -> PostId {
    PostId::from_bytes([seed; 16])
}

struct Cast {
    ana: MemberId,
    bea: MemberId,
    cai: MemberId,
    dan: MemberId,
}

fn cast() -> Cast {
    Cast {
        ana: id(1),
        bea: id(2),
        cai: id(3),
        dan: id(4),
    }
}

fn community(c: &Cast) -> Community {
    let genesis = Genesis {
        founder: c.ana,
        nonce: [9; 16],
    };
    let mut members = BTreeMap::new();
    for (m, name, role, region, org, added) in [
        (
            c.ana,
            "Ana",
            Role::Coordinator,
            "North",
            "City",
            T0 - 30 * D,
        ),
        (c.bea, "Bea", Role::Member, "South", "Metro", T0 - 30 * D),
        (c.cai, "Cai", Role::Member, "North", "City", T0 + 2 * D),
        (c.dan, "Dan", Role::Observer, "North", "City", T0 - 30 * D),
    ] {
        members.insert(
            m,
            RosterMember {
                id: m,
                name: name.into(),
                role,
                region: Some(region.into()),
                organisation: Some(org.into()),
                added_at: Timestamp(added),
                added_by: Some(c.ana),
                removed_at: None,
                read_only_since: None,
            },
        );
    }
    Community {
        id: genesis.community_id(),
        genesis,
        charter: Charter {
            name: "Crime Prevention Network".into(),
            ..Default::default()
        },
        roster: Roster { members },
        created_at: Timestamp(T0 - 30 * D),
    }
}

fn post(id: PostId, author: MemberId, at: i64, body: &str, helped_by: Vec<MemberId>) -> Post {
    Post {
        id,
        author: Some(author),
        body: body.into(),
        created_at: Timestamp(at),
        reply_to: None,
        helped_by,
    }
}

#[allow(clippy::too_many_arguments)]
fn thread(
    community: &Community,
    seed: u8,
    activity: ActivityKind,
    author: MemberId,
    at: i64,
    tags: &[&str],
    replies: Vec<Post>,
    answer: Option<(PostId, i64)>,
) -> Thread {
    Thread {
        id: doc(seed),
        community: community.id,
        activity,
        title: format!("thread {seed}"),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        opening: post(
            PostId::from_bytes([seed; 16]),
            author,
            at,
            "opening",
            vec![],
        ),
        replies,
        resolved: answer.is_some(),
        answer: answer.map(|a| a.0),
        resolved_by: answer.map(|_| author),
        resolved_at: answer.map(|a| Timestamp(a.1)),
    }
}

fn entry(
    community: &Community,
    seed: u8,
    author: MemberId,
    editors: &[(MemberId, i64)],
    tags: &[&str],
    source: Option<DocId>,
) -> (EntrySummary, Vec<EditRecord>) {
    let created = editors[0].1;
    let summary = EntrySummary {
        id: doc(seed),
        community: community.id,
        kind: EntryKind::Lesson,
        title: format!("entry {seed}"),
        author: Some(author),
        editors: {
            let mut e: Vec<MemberId> = Vec::new();
            for (m, _) in editors {
                if !e.contains(m) {
                    e.push(*m);
                }
            }
            e
        },
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        created_at: Timestamp(created),
        updated_at: Timestamp(editors.iter().map(|e| e.1).max().unwrap()),
        source_thread: source,
        excerpt: String::new(),
    };
    let edits = editors
        .iter()
        .map(|(m, at)| EditRecord {
            editor: *m,
            at: Timestamp(*at),
        })
        .collect();
    (summary, edits)
}

/// The hand-worked community (see the expected figures in each test).
fn corpus() -> Corpus {
    let c = cast();
    let com = community(&c);
    let e1 = doc(101);
    let t1 = thread(
        &com,
        1,
        ActivityKind::Request,
        c.ana,
        T0 + H,
        &["lighting"],
        vec![post(
            post_id(11),
            c.bea,
            T0 + 3 * H,
            "Yes, in Porto.",
            vec![c.ana],
        )],
        Some((post_id(11), T0 + 5 * H)),
    );
    let t2 = thread(
        &com,
        2,
        ActivityKind::Request,
        c.bea,
        T0 + 8 * D,
        &["lighting", "youth"],
        vec![],
        None,
    );
    let t3 = thread(
        &com,
        3,
        ActivityKind::Discussion,
        c.cai,
        T0 + 9 * D,
        &["youth"],
        vec![post(
            post_id(31),
            c.ana,
            T0 + 9 * D + 2 * H,
            &format!("See the lesson {e1}."),
            vec![],
        )],
        None,
    );
    let (s1, ed1) = entry(
        &com,
        101,
        c.bea,
        &[(c.bea, T0 + 2 * D), (c.ana, T0 + 2 * D + H)],
        &["lighting"],
        Some(doc(1)),
    );
    let (s2, ed2) = entry(
        &com,
        102,
        c.cai,
        &[(c.cai, T0 + 10 * D)],
        &["lighting"],
        None,
    );
    let first_call = T0 + D + 15 * H;
    let ev = EventSummary {
        id: doc(201),
        community: com.id,
        organiser: Some(c.ana),
        details: EventDetails {
            kind: EventKind::Call,
            title: "Weekly call".into(),
            start: Timestamp(first_call),
            tz: "UTC".into(),
            duration_min: 60,
            place: None,
            agenda: String::new(),
            recur: Some("FREQ=WEEKLY".into()),
        },
        cancelled: false,
        rsvps: vec![
            Rsvp {
                occurrence: Timestamp(first_call),
                member: c.bea,
                status: RsvpStatus::Attended,
            },
            Rsvp {
                occurrence: Timestamp(first_call + 7 * D),
                member: c.cai,
                status: RsvpStatus::Going,
            },
        ],
        created_at: Timestamp(T0),
        updated_at: Timestamp(T0),
        notes_excerpt: String::new(),
    };
    let threads = [t1, t2, t3];
    let activity = threads
        .iter()
        .map(|t| (t.id, DocActivity::Thread(t.activity())))
        .chain([
            (s1.id, DocActivity::Entry(ed1)),
            (s2.id, DocActivity::Entry(ed2)),
        ])
        .collect();
    Corpus::new(
        com,
        threads.iter().map(Thread::summary).collect(),
        vec![s1, s2],
        vec![ev],
        activity,
    )
}

fn thresholds() -> LevelThresholds {
    LevelThresholds {
        window_days: 90,
        core: 4,
        active: 2,
        peripheral: 1,
    }
}

#[test]
fn weeks_start_on_monday() {
    assert_eq!(week_start(Timestamp(T0)), Timestamp(T0));
    assert_eq!(week_start(Timestamp(T0 + 6 * D + 23 * H)), Timestamp(T0));
    assert_eq!(week_start(Timestamp(T0 - 1)), Timestamp(T0 - 7 * D));
}

#[test]
fn health_report_matches_the_hand_worked_figures() {
    let r = health_report(
        &corpus(),
        &thresholds(),
        Timestamp(T0),
        Timestamp(T0 + 14 * D),
    );
    assert_eq!(r.weeks.len(), 2);
    let w1 = &r.weeks[0];
    assert_eq!(w1.week_start, Timestamp(T0));
    assert_eq!(
        (
            w1.threads,
            w1.replies,
            w1.posts,
            w1.active_members,
            w1.new_members
        ),
        (1, 1, 2, 2, 1)
    );
    assert_eq!(
        (w1.entries_created, w1.events_held, w1.attendance),
        (1, 1, 1)
    );
    let w2 = &r.weeks[1];
    assert_eq!(
        (
            w2.threads,
            w2.replies,
            w2.posts,
            w2.active_members,
            w2.new_members
        ),
        (2, 1, 3, 3, 0)
    );
    assert_eq!(
        (w2.entries_created, w2.events_held, w2.attendance),
        (1, 1, 0)
    );
    let t = &r.totals;
    assert_eq!(
        (t.threads, t.replies, t.posts, t.active_members),
        (3, 2, 5, 3)
    );
    assert_eq!(
        (
            t.new_members,
            t.entries_created,
            t.events_held,
            t.attendance
        ),
        (1, 2, 2, 1)
    );
    // Requests: t1 (answered after 2 h, resolved) and t2 (no reply).
    let q = &r.requests;
    assert_eq!((q.opened, q.replied, q.resolved), (2, 1, 1));
    assert_eq!(q.share_resolved, Some(0.5));
    assert_eq!(q.median_hours_to_first_reply, Some(2.0));
    assert_eq!(q.unanswered_at_end, 1);
    let p = &r.repertoire;
    assert_eq!((p.entries_at_start, p.entries_at_end, p.created), (0, 2, 2));
    assert_eq!((p.promoted_from_threads, p.edits), (1, 3));
    assert_eq!((p.replies_linking_entries, p.entries_reused), (1, 1));
    assert_eq!((r.events.held, r.events.attendance), (2, 1));
    assert_eq!(r.events.mean_attendance, Some(0.5));
    assert_eq!(r.events.occurrences[1].going, 1);
    // Members: 4 in the roster, 3 contributed, Cai is new.
    let m = &r.members;
    assert_eq!((m.total, m.active, m.new), (4, 3, 1));
    assert_eq!(
        (
            m.levels_at_end.core,
            m.levels_at_end.active,
            m.levels_at_end.peripheral,
            m.levels_at_end.inactive
        ),
        (1, 2, 0, 1)
    );
    assert_eq!(m.levels_at_start.inactive, 3);
    let moved: Vec<(&str, Option<Level>, Level)> = m
        .movement
        .iter()
        .map(|x| (x.member.name.as_str(), x.from, x.to))
        .collect();
    assert_eq!(
        moved,
        [
            ("Bea", Some(Level::Inactive), Level::Core),
            ("Cai", None, Level::Active),
            ("Ana", Some(Level::Inactive), Level::Active),
        ]
    );
    assert_eq!(
        r.top_topics,
        [("lighting".to_owned(), 2), ("youth".to_owned(), 2)]
    );
}

#[test]
fn csv_and_markdown_carry_the_same_totals() {
    let r = health_report(
        &corpus(),
        &thresholds(),
        Timestamp(T0),
        Timestamp(T0 + 14 * D),
    );
    let csv = render::csv(&r);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], render::CSV_COLUMNS.join(","));
    assert_eq!(lines[1], "2026-01-05,1,1,2,2,1,1,1,1");
    assert_eq!(lines[2], "2026-01-12,2,1,3,3,0,1,1,0");
    assert_eq!(lines[3], "total,3,2,5,3,1,2,2,1");
    let md = render::markdown(&r);
    assert!(
        md.contains("| **total** | 3 | 2 | 5 | 3 | 1 | 2 | 2 | 1 |"),
        "{md}"
    );
    assert!(
        md.contains("- 2 opened, 1 replied to, 1 resolved (50%)"),
        "{md}"
    );
    let html = render::html(&r);
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("uPlot"));
    assert!(
        !html.contains("src=\"http"),
        "the page must not load anything"
    );
    let json: serde_json::Value = serde_json::from_str(&render::json(&r)).unwrap();
    assert_eq!(json["totals"]["posts"], 5);
}

#[test]
fn participation_levels_and_history() {
    let p = participation(&corpus(), &thresholds(), Timestamp(T0 + 14 * D));
    let levels: Vec<(&str, Level, u32)> = p
        .members
        .iter()
        .map(|m| (m.member.name.as_str(), m.level, m.contributions))
        .collect();
    assert_eq!(
        levels,
        [
            ("Bea", Level::Core, 4),
            ("Ana", Level::Active, 3),
            ("Cai", Level::Active, 2),
            ("Dan", Level::Inactive, 0),
        ]
    );
    let bea = &p.members[0];
    assert_eq!(
        (bea.threads, bea.replies, bea.repertoire_edits, bea.attended),
        (1, 1, 1, 1)
    );
    assert_eq!(bea.last_active, Some(Timestamp(T0 + 8 * D)));
    assert_eq!(p.history.len(), 6);
    assert_eq!(p.history[5].counts, p.counts);
    // Raising the bar moves Bea out of the core.
    let strict = LevelThresholds {
        core: 5,
        ..thresholds()
    };
    let p = participation(&corpus(), &strict, Timestamp(T0 + 14 * D));
    assert_eq!(p.counts.core, 0);
    assert_eq!(p.counts.active, 3);
}

#[test]
fn expertise_suggestions_and_introductions() {
    let c = cast();
    let corpus = corpus();
    let ex = expertise(&corpus);
    let rows: Vec<(&str, &str, u32)> = ex
        .iter()
        .map(|e| (e.topic.as_str(), e.member.name.as_str(), e.score))
        .collect();
    assert_eq!(
        rows,
        [
            ("lighting", "Bea", 9),
            ("lighting", "Cai", 3),
            ("lighting", "Ana", 1),
            ("youth", "Ana", 1),
        ]
    );
    let bea = &ex[0];
    assert_eq!(
        (
            bea.replies,
            bea.answers,
            bea.helped,
            bea.entries_written,
            bea.entries_edited
        ),
        (1, 1, 1, 1, 0)
    );
    // Who could answer Bea's open request on lighting and youth?
    let ask = ask_someone_who_knows(&corpus, &ex, &doc(2), 5);
    let ask: Vec<(&str, u32, Vec<String>)> = ask
        .iter()
        .map(|s| (s.member.name.as_str(), s.score, s.topics.clone()))
        .collect();
    assert_eq!(
        ask,
        [
            ("Cai", 3, vec!["lighting".to_owned()]),
            ("Ana", 2, vec!["lighting".to_owned(), "youth".to_owned()]),
        ]
    );
    // Bea (South, Metro) and Cai (North, City) both know lighting and never met in a thread;
    // Ana met Bea in the first thread, and shares region and organisation with Cai.
    let intro = introductions(&corpus, &ex, 10);
    assert_eq!(intro.len(), 1);
    let pair = [intro[0].a.id, intro[0].b.id];
    assert!(pair.contains(&c.bea) && pair.contains(&c.cai));
    assert_eq!(intro[0].topics, ["lighting"]);
    assert_eq!(intro[0].score, 3);
    assert_eq!(intro[0].differ_in, ["region", "organisation"]);
}

#[test]
fn knowledge_map_and_gaps() {
    let corpus = corpus();
    let map = knowledge_map(&corpus);
    let rows: Vec<(&str, u32, u32, u32, u32, u32)> = map
        .iter()
        .map(|t| {
            (
                t.topic.as_str(),
                t.threads,
                t.requests,
                t.open_requests,
                t.replies,
                t.entries,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [("lighting", 2, 2, 1, 1, 2), ("youth", 2, 1, 1, 1, 0)]
    );
    let options = GapOptions {
        unanswered_days: 3,
        stale_days: 365,
    };
    let g = gaps(&corpus, &options, Timestamp(T0 + 14 * D));
    assert_eq!(g.topics_without_repertoire.len(), 1);
    assert_eq!(g.topics_without_repertoire[0].topic, "youth");
    assert_eq!(g.unanswered_requests.len(), 1);
    assert_eq!(g.unanswered_requests[0].id, doc(2));
    assert_eq!(g.unanswered_requests[0].age_days, 6);
    assert!(g.stale_entries.is_empty());
    // A year on, both entries are stale; with a longer grace, the request is not a gap yet.
    let g = gaps(&corpus, &options, Timestamp(T0 + 400 * D));
    assert_eq!(g.stale_entries.len(), 2);
    let patient = GapOptions {
        unanswered_days: 10,
        stale_days: 365,
    };
    assert!(
        gaps(&corpus, &patient, Timestamp(T0 + 14 * D))
            .unanswered_requests
            .is_empty()
    );
}

#[test]
fn open_and_unanswered_requests_are_counted_one_way_for_gaps_and_the_report() {
    // Four open requests asked in the last days, none older than the week a gap waits
    // for: one with a reply from someone else, one answered only by its asker, two with
    // nothing. "No gaps" must not hide them: the counts say what is open and unanswered.
    let c = cast();
    let com = community(&c);
    let at = T0 + 30 * D;
    let asked = |seed: u8, replies: Vec<Post>| {
        thread(
            &com,
            seed,
            ActivityKind::Request,
            c.ana,
            at - 2 * D,
            &["lighting"],
            replies,
            None,
        )
    };
    let threads = [
        asked(
            1,
            vec![post(post_id(11), c.bea, at - D, "Try this.", vec![])],
        ),
        asked(2, vec![post(post_id(21), c.ana, at - D, "Anyone?", vec![])]),
        asked(3, vec![]),
        asked(4, vec![]),
        thread(
            &com,
            5,
            ActivityKind::Request,
            c.bea,
            at - 20 * D,
            &["youth"],
            vec![post(post_id(51), c.cai, at - 19 * D, "Done it.", vec![])],
            Some((post_id(51), at - 18 * D)),
        ),
    ];
    let activity = threads
        .iter()
        .map(|t| (t.id, DocActivity::Thread(t.activity())))
        .collect();
    let corpus = Corpus::new(
        com,
        threads.iter().map(Thread::summary).collect(),
        vec![],
        vec![],
        activity,
    );
    let week = GapOptions::default();
    let g = gaps(&corpus, &week, Timestamp(at));
    assert_eq!(
        (g.requests, g.open_requests, g.unanswered),
        (5, 4, 3),
        "an asker's own reply is no answer"
    );
    assert!(g.unanswered_requests.is_empty(), "none waits over a week");
    // With no grace, the list is every unanswered request: what the home screen shows.
    let now = gaps(
        &corpus,
        &GapOptions {
            unanswered_days: 0,
            ..week
        },
        Timestamp(at),
    );
    let ids: Vec<DocId> = now.unanswered_requests.iter().map(|r| r.id).collect();
    assert_eq!(ids, [doc(2), doc(3), doc(4)]);
    // The report counts the same ones.
    let report = health_report(
        &corpus,
        &thresholds(),
        Timestamp(at - 90 * D),
        Timestamp(at),
    );
    assert_eq!(report.requests.unanswered_at_end, g.unanswered);
    // A week later the three are gaps.
    let later = gaps(&corpus, &week, Timestamp(at + 6 * D));
    assert_eq!(later.unanswered_requests.len(), 3);
}

/// A random thread: author seed 1..=3, day offset, replies as (author, hour offset).
type ThreadSpec = (u8, i64, Vec<(u8, i64)>);

fn arb_threads() -> impl Strategy<Value = Vec<ThreadSpec>> {
    prop::collection::vec(
        (
            1u8..=3,
            0i64..60,
            prop::collection::vec((1u8..=3, 0i64..24 * 40), 0..6),
        ),
        0..25,
    )
}

fn random_corpus(spec: &[ThreadSpec]) -> (Corpus, Vec<Thread>) {
    let c = cast();
    let com = community(&c);
    let who = |s: u8| match s {
        1 => c.ana,
        2 => c.bea,
        _ => c.cai,
    };
    let threads: Vec<Thread> = spec
        .iter()
        .enumerate()
        .map(|(i, (a, day, replies))| {
            let at = T0 + day * D;
            let replies = replies
                .iter()
                .enumerate()
                .map(|(j, (r, h))| {
                    let mut b = [0u8; 16];
                    b[0] = i as u8;
                    b[1] = j as u8 + 1;
                    post(PostId::from_bytes(b), who(*r), at + h * H, "reply", vec![])
                })
                .collect();
            thread(
                &com,
                i as u8 + 1,
                ActivityKind::Request,
                who(*a),
                at,
                &["t"],
                replies,
                None,
            )
        })
        .collect();
    let activity = threads
        .iter()
        .map(|t| (t.id, DocActivity::Thread(t.activity())))
        .collect();
    (
        Corpus::new(
            com,
            threads.iter().map(Thread::summary).collect(),
            vec![],
            vec![],
            activity,
        ),
        threads,
    )
}

proptest! {
    #![proptest_config(Config {
        cases: 64,
        rng_seed: RngSeed::Fixed(0x5eed_c0de),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn every_post_is_counted_exactly_once(spec in arb_threads(), from_day in 0i64..50, len in 1i64..60) {
        let (corpus, threads) = random_corpus(&spec);
        let since = Timestamp(T0 + from_day * D + 5 * H);
        let until = Timestamp(since.0 + len * D);
        let r = health_report(&corpus, &thresholds(), since, until);
        let in_period = |t: Timestamp| t >= since && t < until;
        let openings = threads.iter().filter(|t| in_period(t.opening.created_at)).count() as u32;
        let replies = threads
            .iter()
            .flat_map(|t| &t.replies)
            .filter(|p| in_period(p.created_at))
            .count() as u32;
        // Every post in the period lands in exactly one week, and the totals are the sums.
        prop_assert_eq!(r.totals.threads, openings);
        prop_assert_eq!(r.totals.replies, replies);
        prop_assert_eq!(r.weeks.iter().map(|w| w.posts).sum::<u32>(), openings + replies);
        prop_assert_eq!(r.totals.posts, openings + replies);
        for w in &r.weeks {
            prop_assert_eq!(w.posts, w.threads + w.replies);
            prop_assert!(w.active_members <= r.totals.active_members);
        }
        // Weeks tile the period.
        prop_assert!(r.weeks.first().is_none_or(|w| w.week_start <= since));
        prop_assert!(r.weeks.last().is_none_or(|w| w.week_start.0 + 7 * D >= until.0));
        // Every contribution is a post here, counted once for its author; levels partition
        // the roster.
        let p = participation(&corpus, &thresholds(), until);
        let counted: u32 = p.members.iter().map(|m| m.threads + m.replies).sum();
        let window = Timestamp(until.0 - 90 * D);
        let expected = threads
            .iter()
            .flat_map(|t| std::iter::once(&t.opening).chain(&t.replies))
            .filter(|x| x.created_at >= window && x.created_at < until)
            // Cai joins the roster on day 2: before that, he is nobody's level.
            .filter(|x| x.author != Some(cast().cai) || until.0 >= T0 + 2 * D)
            .count() as u32;
        prop_assert_eq!(counted, expected);
        let c = p.counts;
        prop_assert_eq!((c.core + c.active + c.peripheral + c.inactive) as usize, p.members.len());
    }
}
