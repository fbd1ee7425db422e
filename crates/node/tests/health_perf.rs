//! How long the health report takes on a community with 100,000 posts, read from the store's
//! index as the node reads it. A measurement, not a pass/fail timing:
//!
//! ```sh
//! cargo test --release -p commonplace-node --test health_perf -- --ignored --nocapture
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use commonplace_base::{DocId, MemberId, PostId, SecretKey, Timestamp};
use commonplace_insight::Corpus;
use commonplace_model::{
    ActivityKind, Charter, Community, DocActivity, DocKind, DocRef, Genesis, LevelThresholds, Post,
    Role, Roster, RosterMember, Thread,
};
use commonplace_store::{Commit, DocWrite, IndexRow, Store};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const DAY: i64 = 86_400_000;
const THREADS: usize = 1_000;
const POSTS_PER_THREAD: usize = 100;
const MEMBERS: u8 = 200;

#[test]
#[ignore = "a measurement: run with --ignored --nocapture, in release"]
fn health_report_on_100k_posts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("perf.redb")).unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let members: Vec<MemberId> = (0..MEMBERS)
        .map(|i| SecretKey::from_seed([i; 32]).member_id())
        .collect();
    let genesis = Genesis {
        founder: members[0],
        nonce: [1; 16],
    };
    let now = 20_458 * DAY;
    let community = Community {
        id: genesis.community_id(),
        genesis,
        charter: Charter {
            name: "Perf".into(),
            ..Default::default()
        },
        roster: Roster {
            members: members
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    (
                        *m,
                        RosterMember {
                            id: *m,
                            name: format!("Member {i}"),
                            role: Role::Member,
                            region: Some(format!("Region {}", i % 7)),
                            organisation: Some(format!("Org {}", i % 13)),
                            added_at: Timestamp(now - 800 * DAY),
                            added_by: None,
                            removed_at: None,
                            read_only_since: None,
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        },
        created_at: Timestamp(now - 800 * DAY),
    };
    let cid = community.id;
    let mut commit = Commit::default();
    commit.docs.push(DocWrite {
        doc: DocRef::community(cid),
        changes: vec![],
        hashes: vec![],
        heads: vec![],
        snapshot: None,
        index: IndexRow::Community(Box::new(community)),
        activity: None,
    });
    let tags = [
        "lighting",
        "youth",
        "policing",
        "schools",
        "housing",
        "transport",
    ];
    for t in 0..THREADS {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(t as u64).to_be_bytes());
        let id = DocId::from_bytes(b);
        let start = now - rng.random_range(0..700) * DAY;
        let post = |rng: &mut StdRng, n: usize, at: i64| Post {
            id: {
                let mut p = b;
                p[8..].copy_from_slice(&(n as u64).to_be_bytes());
                PostId::from_bytes(p)
            },
            author: Some(members[rng.random_range(0..members.len())]),
            body: String::new(),
            created_at: Timestamp(at),
            reply_to: None,
            helped_by: vec![],
        };
        let opening = post(&mut rng, 0, start);
        let replies = (1..POSTS_PER_THREAD)
            .map(|n| {
                let at = start + rng.random_range(0..30 * DAY);
                post(&mut rng, n, at)
            })
            .collect::<Vec<_>>();
        let thread = Thread {
            id,
            community: cid,
            activity: if t % 3 == 0 {
                ActivityKind::Request
            } else {
                ActivityKind::Discussion
            },
            title: format!("Thread {t}"),
            tags: vec![
                tags[t % tags.len()].into(),
                tags[(t / 7) % tags.len()].into(),
            ],
            answer: None,
            resolved: t % 2 == 0,
            resolved_by: None,
            resolved_at: None,
            opening,
            replies,
        };
        commit.docs.push(DocWrite {
            doc: DocRef {
                community: cid,
                kind: DocKind::Thread,
                id,
            },
            changes: vec![],
            hashes: vec![],
            heads: vec![],
            snapshot: None,
            index: IndexRow::Thread(Box::new(thread.summary())),
            activity: Some(DocActivity::Thread(thread.activity())),
        });
    }
    store.commit(&commit).unwrap();
    drop(commit);

    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let c = store.community(&cid).unwrap().unwrap();
        let corpus = Corpus::new(
            c,
            store.threads(&cid).unwrap(),
            store.entries(&cid).unwrap(),
            store.events(&cid).unwrap(),
            store.activity(&cid).unwrap(),
        );
        let read = started.elapsed();
        let t = LevelThresholds::default();
        let report = commonplace_insight::health_report(
            &corpus,
            &t,
            Timestamp(now - 90 * DAY),
            Timestamp(now),
        );
        let levels = commonplace_insight::participation(&corpus, &t, Timestamp(now));
        let experts = commonplace_insight::expertise(&corpus);
        let total = started.elapsed();
        assert_eq!(corpus.contributions.len(), THREADS * POSTS_PER_THREAD);
        assert!(report.totals.posts > 0 && !levels.members.is_empty() && !experts.is_empty());
        times.push((read, total));
    }
    times.sort();
    let (read, total) = times[times.len() / 2];
    println!(
        "{} posts: read index + join {:?}; with health report, levels and expertise {:?} (median of 5)",
        THREADS * POSTS_PER_THREAD,
        read,
        total
    );
}
