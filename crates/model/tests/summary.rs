//! A thread summary derived from the previous row plus a new reply
//! (`ThreadSummary::with_reply`) equals the summary read from the whole document again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::Automerge;
use common::{Cast, Person, write};
use commonplace_base::{CommunityId, DocId, PostId, Timestamp};
use commonplace_model::activity::links_in;
use commonplace_model::{ActivityKind, PostRecord, thread};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

#[derive(Debug, Clone)]
enum Op {
    /// A reply by person `by` at `at` (ms after the opening, may be before it: clocks drift),
    /// with post id bytes `id`, optionally naming an entry id in its body.
    Reply {
        by: usize,
        at: i64,
        id: u8,
        link: bool,
    },
    /// Person `by` marks post number `post` (modulo the posts there are) helpful.
    Helped { by: usize, post: usize },
    /// The thread's author resolves (`true`) or reopens it.
    Resolve(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..3usize, -3..6i64, any::<u8>(), any::<bool>())
            .prop_map(|(by, at, id, link)| Op::Reply { by, at, id, link }),
        2 => (0..3usize, any::<usize>()).prop_map(|(by, post)| Op::Helped { by, post }),
        1 => any::<bool>().prop_map(Op::Resolve),
    ]
}

fn as_person(doc: &mut Automerge, p: &Person) {
    doc.set_actor(p.actor.clone());
}

/// Like `write`, for edits that may change nothing (a second identical mark).
fn edit(
    doc: &mut Automerge,
    f: impl FnOnce(
        &mut automerge::transaction::Transaction<'_>,
    ) -> Result<(), commonplace_model::SchemaError>,
) {
    doc.transact_with(
        |_| automerge::transaction::CommitOptions::default().with_time(5),
        f,
    )
    .map_err(|f| f.error)
    .expect("transaction");
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        rng_seed: RngSeed::Fixed(0x5u64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_summary_derived_from_the_previous_row_equals_a_fresh_read(
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let cast = Cast::new();
        let people = [cast.ana.clone(), cast.ben.clone(), cast.carl.clone()];
        let community = CommunityId::from_bytes([9; 16]);
        let id = DocId::from_bytes([3; 16]);
        let mut doc = people[0].new_doc();
        let opened = 1_000_000;
        write(&mut doc, opened, |tx| {
            thread::init(
                tx,
                &community,
                ActivityKind::Request,
                "How do you run a retrospective?",
                "We tried three formats and none stuck.",
                &["meetings".to_owned()],
                Timestamp(opened),
            )
        });
        let mut used = std::collections::BTreeSet::new();
        for (step, op) in ops.into_iter().enumerate() {
            let before = thread::read(&doc, id).unwrap();
            match op {
                Op::Reply { by, at, id: idb, link } => {
                    // Distinct ids; the first byte decides ties in time.
                    let mut bytes = [0u8; 16];
                    bytes[0] = idb;
                    bytes[1..9].copy_from_slice(&(step as u64).to_be_bytes());
                    let post = PostId::from_bytes(bytes);
                    prop_assume!(used.insert(post));
                    let at = Timestamp(opened + at);
                    let body = if link {
                        format!("See {} for how we did it.", DocId::from_bytes([step as u8; 16]))
                    } else {
                        format!("reply {step}")
                    };
                    as_person(&mut doc, &people[by]);
                    write(&mut doc, at.0, |tx| thread::reply(tx, &post, &body, None, at));
                    let after = thread::read(&doc, id).unwrap();
                    let mut posts = before.activity();
                    let derived = before.summary().with_reply(
                        &mut posts,
                        PostRecord {
                            id: post,
                            author: Some(people[by].id),
                            at,
                            helped_by: Vec::new(),
                            links: links_in(&body),
                        },
                    );
                    prop_assert_eq!(derived, Some(after.summary()));
                    prop_assert_eq!(posts, after.activity());
                }
                Op::Helped { by, post } => {
                    let all: Vec<PostId> = std::iter::once(before.opening.id)
                        .chain(before.replies.iter().map(|r| r.id))
                        .collect();
                    let target = all[post % all.len()];
                    as_person(&mut doc, &people[by]);
                    let me = people[by].id;
                    edit(&mut doc, |tx| thread::mark_helped(tx, &target, &me));
                }
                Op::Resolve(yes) => {
                    as_person(&mut doc, &people[0]);
                    let answer = before.replies.first().map(|r| r.id);
                    if yes {
                        edit(&mut doc, |tx| thread::resolve(tx, answer.as_ref(), Timestamp(opened)));
                    } else if before.resolved {
                        edit(&mut doc, |tx| thread::reopen(tx));
                    }
                }
            }
        }
    }
}

#[test]
fn rows_that_do_not_fit_are_not_extended() {
    let cast = Cast::new();
    let community = CommunityId::from_bytes([9; 16]);
    let id = DocId::from_bytes([3; 16]);
    let mut doc = cast.ana.new_doc();
    write(&mut doc, 10, |tx| {
        thread::init(
            tx,
            &community,
            ActivityKind::Story,
            "A story",
            "Once",
            &[],
            Timestamp(10),
        )
    });
    let t = thread::read(&doc, id).unwrap();
    let reply = |n: u8| PostRecord {
        id: PostId::from_bytes([n; 16]),
        author: Some(cast.ben.id),
        at: Timestamp(20),
        helped_by: Vec::new(),
        links: Vec::new(),
    };
    // No records (a row from before the activity index), or records of another thread.
    assert_eq!(t.summary().with_reply(&mut Vec::new(), reply(1)), None);
    let mut other = t.activity();
    other[0].id = PostId::from_bytes([4; 16]);
    assert_eq!(t.summary().with_reply(&mut other, reply(1)), None);
    // A reply already there.
    let mut posts = t.activity();
    let s = t.summary().with_reply(&mut posts, reply(1)).unwrap();
    assert_eq!(s.with_reply(&mut posts, reply(1)), None);
}
