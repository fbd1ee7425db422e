//! Timing of `verify_and_apply` on a large batch. Not a pass/fail test: run it by hand with
//! `cargo test -p commonplace-model --release --test verify_perf -- --ignored --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use automerge::{Automerge, Change};
use common::{community_fixture, signed};
use commonplace_base::{PostId, Timestamp};
use commonplace_model::verify::verify_and_apply;
use commonplace_model::{SignedChange, thread};

#[test]
#[ignore = "timing, run by hand"]
fn time_a_batch_of_a_few_thousand_thread_changes() {
    let fx = community_fixture();
    let tref = fx.thread_ref(0x70);
    let (doc, first) = fx.open_thread(&tref, &fx.cast.ana);
    let people = [&fx.cast.ana, &fx.cast.ben, &fx.cast.carl];
    let mut docs: Vec<Automerge> = people.iter().map(|p| p.fork(&doc)).collect();
    let mut changes: Vec<SignedChange> = vec![first];
    let n = 3_000usize;
    for i in 0..n {
        let who = i % people.len();
        let id = PostId::from_bytes(u128::try_from(i + 1).unwrap().to_be_bytes());
        let me = people[who].id;
        changes.push(signed(
            &tref,
            &people[who].key,
            &mut docs[who],
            20 + i as i64,
            |tx| {
                if i % 5 == 4 {
                    thread::mark_helped(tx, &id, &me)
                } else {
                    thread::reply(
                        tx,
                        &id,
                        "A reply of a few words, like most replies are.",
                        None,
                        Timestamp(20 + i as i64),
                    )
                }
            },
        ));
        // Members see each other's changes now and then.
        if i % 7 == 6 {
            let mut from = docs[(who + 1) % people.len()].clone();
            docs[who].merge(&mut from).unwrap();
        }
    }
    let roster = fx.roster();
    for round in 0..3 {
        let started = Instant::now();
        let mut working = Automerge::new();
        let v =
            verify_and_apply(&tref, &mut working, &changes, &roster, &fx.genesis.founder).unwrap();
        let verify = started.elapsed();
        assert_eq!(v.changes.len(), changes.len());

        let parsed: Vec<Change> = changes
            .iter()
            .map(|c| Change::from_bytes(c.bytes.clone()).unwrap())
            .collect();
        let started = Instant::now();
        let mut batch = Automerge::new();
        batch.apply_changes(parsed.clone()).unwrap();
        let batch_apply = started.elapsed();
        let ordered: Vec<Change> = v
            .changes
            .iter()
            .map(|c| Change::from_bytes(c.bytes.clone()).unwrap())
            .collect();
        let started = Instant::now();
        let mut one = Automerge::new();
        for c in ordered.iter().cloned() {
            one.apply_changes(vec![c]).unwrap();
        }
        let one_by_one = started.elapsed();
        let started = Instant::now();
        let ops: usize = parsed.iter().map(|c| c.decode().operations.len()).sum();
        let decode = started.elapsed();
        println!(
            "round {round}: {} changes, {ops} ops: verify_and_apply {verify:?}; automerge alone: batch apply {batch_apply:?}, one at a time {one_by_one:?}, decode all {decode:?}",
            changes.len()
        );
    }
}
