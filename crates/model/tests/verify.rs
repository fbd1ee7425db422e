//! `verify::verify_and_apply`, the gate every change from a peer or a file passes: real
//! Automerge changes, really signed, accepted or refused for the right reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, Change, ChangeHash, ROOT};
use common::{
    CommunityFixture, Person, charter, community_fixture, export, hash_of, signed, stored,
    unsigned, write,
};
use commonplace_base::{CommunityId, DocId, MemberId, PostId, Signature, Timestamp};
use commonplace_model::verify::{Verified, verify_and_apply};
use commonplace_model::{
    DocKind, DocRef, EntryKind, Genesis, RejectReason, Role, Roster, SignedChange, community,
    entry, thread,
};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

fn verify_community(
    fx: &CommunityFixture,
    working: &mut Automerge,
    incoming: &[SignedChange],
) -> Result<Verified, RejectReason> {
    // The roster argument is not used for the community document: pass an empty one so a test
    // would notice if it were.
    verify_and_apply(
        &fx.doc_ref,
        working,
        incoming,
        &Roster::default(),
        &fx.genesis.founder,
    )
}

fn verify_doc(
    fx: &CommunityFixture,
    doc_ref: &DocRef,
    working: &mut Automerge,
    incoming: &[SignedChange],
) -> Result<Verified, RejectReason> {
    verify_and_apply(
        doc_ref,
        working,
        incoming,
        &fx.roster(),
        &fx.genesis.founder,
    )
}

fn post(n: u8) -> PostId {
    PostId::from_bytes([n; 16])
}

fn hex(c: &SignedChange) -> String {
    hash_of(c).to_string()
}

/// Each change's dependencies are either in `known` or earlier in `changes`.
fn assert_dependencies_first(changes: &[SignedChange], known: &Automerge) {
    let mut seen: HashSet<ChangeHash> = HashSet::new();
    for c in changes {
        let change = Change::from_bytes(c.bytes.clone()).unwrap();
        for d in change.deps() {
            assert!(
                seen.contains(d) || known.get_change_meta_by_hash(d).is_some(),
                "change {} comes before its dependency {d}",
                change.hash()
            );
        }
        seen.insert(change.hash());
    }
}

/// A thread opened by Ben (signed), with a reply by Carl (signed).
fn ben_and_carl_thread(fx: &CommunityFixture) -> (DocRef, Automerge, Vec<SignedChange>) {
    let tref = fx.thread_ref(0x31);
    let (mut doc, c1) = fx.open_thread(&tref, &fx.cast.ben);
    let mut carls = fx.cast.carl.fork(&doc);
    let c2 = signed(&tref, &fx.cast.carl.key, &mut carls, 11, |tx| {
        thread::reply(tx, &post(1), "Motion lights.", None, Timestamp(11_000))
    });
    doc.merge(&mut carls).unwrap();
    (tref, doc, vec![c1, c2])
}

// ---------------------------------------------------------------------------------------------
// Accepting
// ---------------------------------------------------------------------------------------------

#[test]
fn a_valid_community_history_is_accepted_and_applied() {
    let fx = community_fixture();
    let mut working = Automerge::new();
    let v = verify_community(&fx, &mut working, &fx.changes).unwrap();
    assert_eq!(v.changes, fx.changes);
    assert_eq!(v.hashes, fx.changes.iter().map(hash_of).collect::<Vec<_>>());
    assert_eq!(v.signers, vec![fx.cast.ana.id]);
    assert_eq!(working.get_heads(), fx.doc.get_heads());
    assert_eq!(
        community::read(&working).unwrap(),
        community::read(&fx.doc).unwrap()
    );
}

#[test]
fn a_valid_thread_batch_is_accepted_and_applied() {
    let fx = community_fixture();
    let (tref, mut doc, mut changes) = ben_and_carl_thread(&fx);
    // Ana marks Carl's reply helpful.
    let mut anas = fx.cast.ana.fork(&doc);
    changes.push(signed(&tref, &fx.cast.ana.key, &mut anas, 12, |tx| {
        thread::mark_helped(tx, &post(1), &fx.cast.ana.id)
    }));
    doc.merge(&mut anas).unwrap();

    let mut working = Automerge::new();
    let v = verify_doc(&fx, &tref, &mut working, &changes).unwrap();
    assert_eq!(v.changes, changes);
    assert_eq!(
        v.signers,
        vec![fx.cast.ben.id, fx.cast.carl.id, fx.cast.ana.id]
    );
    assert_eq!(working.get_heads(), doc.get_heads());
    let t = thread::read(&working, tref.id).unwrap();
    assert_eq!(t, thread::read(&doc, tref.id).unwrap());
    assert_eq!(t.opening.author, Some(fx.cast.ben.id));
    assert_eq!(t.replies[0].author, Some(fx.cast.carl.id));
    assert_eq!(t.replies[0].helped_by, vec![fx.cast.ana.id]);
}

#[test]
fn a_valid_entry_batch_is_accepted() {
    let fx = community_fixture();
    let eref = fx.entry_ref(0x41);
    let mut doc = fx.cast.ben.new_doc();
    let community = fx.id;
    let c1 = signed(&eref, &fx.cast.ben.key, &mut doc, 1, |tx| {
        entry::init(
            tx,
            &community,
            EntryKind::Method,
            "Walk the route",
            "Walk the bus route at night with residents.",
            &[],
            None,
            Timestamp(1),
        )
    });
    let mut working = Automerge::new();
    let v = verify_doc(&fx, &eref, &mut working, &[c1]).unwrap();
    assert_eq!(v.signers, vec![fx.cast.ben.id]);
    assert_eq!(
        entry::read(&working, eref.id).unwrap().author,
        Some(fx.cast.ben.id)
    );
}

#[test]
fn an_unsigned_change_vouched_for_by_a_later_signed_change_of_its_actor_is_accepted() {
    let fx = community_fixture();
    let tref = fx.thread_ref(0x32);
    let ben = &fx.cast.ben;
    let mut doc = ben.new_doc();
    let community = fx.id;
    let c1 = unsigned(&mut doc, 10, |tx| {
        thread::init(
            tx,
            &community,
            commonplace_model::ActivityKind::Request,
            "Who has a template?",
            "For the council letter.",
            &[],
            Timestamp(10),
        )
    });
    let c2 = unsigned(&mut doc, 11, |tx| {
        thread::reply(tx, &post(1), "Found one.", None, Timestamp(11))
    });
    let c3 = signed(&tref, &ben.key, &mut doc, 12, |tx| {
        thread::resolve(tx, Some(&post(1)), Timestamp(12))
    });
    let mut working = Automerge::new();
    let v = verify_doc(&fx, &tref, &mut working, &[c1, c2, c3.clone()]).unwrap();
    assert_eq!(v.changes.len(), 3);
    assert_eq!(v.changes[0].signature, None, "kept as it came");
    assert_eq!(v.changes[1].signature, None);
    assert_eq!(v.changes[2].signature, c3.signature);
    assert!(thread::read(&working, tref.id).unwrap().resolved);
}

#[test]
fn changes_in_reverse_order_are_accepted_dependencies_first() {
    let fx = community_fixture();
    let mut reversed = fx.changes.clone();
    reversed.reverse();
    let mut working = Automerge::new();
    let v = verify_community(&fx, &mut working, &reversed).unwrap();
    assert_eq!(v.changes, fx.changes);
    assert_eq!(working.get_heads(), fx.doc.get_heads());

    // A thread with concurrent branches, also reversed.
    let (tref, mut doc, mut changes) = ben_and_carl_thread(&fx);
    let mut anas = fx.cast.ana.fork_at(&doc, &[hash_of(&changes[0])]);
    changes.push(signed(&tref, &fx.cast.ana.key, &mut anas, 12, |tx| {
        thread::reply(
            tx,
            &post(2),
            "Cameras did not help us.",
            None,
            Timestamp(12),
        )
    }));
    doc.merge(&mut anas).unwrap();
    let mut bens = fx.cast.ben.fork(&doc);
    changes.push(signed(&tref, &fx.cast.ben.key, &mut bens, 13, |tx| {
        thread::resolve(tx, Some(&post(1)), Timestamp(13))
    }));
    doc.merge(&mut bens).unwrap();
    changes.reverse();
    let mut working = Automerge::new();
    let v = verify_doc(&fx, &tref, &mut working, &changes).unwrap();
    assert_eq!(v.changes.len(), 4);
    assert_dependencies_first(&v.changes, &Automerge::new());
    assert_eq!(
        v.hashes,
        v.changes.iter().map(hash_of).collect::<Vec<_>>(),
        "hashes follow the order of changes"
    );
    assert_eq!(working.get_heads(), doc.get_heads());
    assert_eq!(
        thread::read(&working, tref.id).unwrap(),
        thread::read(&doc, tref.id).unwrap()
    );
}

#[test]
fn changes_already_in_the_working_document_are_skipped() {
    let fx = community_fixture();
    let mut working = Automerge::new();
    verify_community(&fx, &mut working, &fx.changes[..3]).unwrap();
    let v = verify_community(&fx, &mut working, &fx.changes).unwrap();
    assert_eq!(v.changes, fx.changes[3..].to_vec(), "only the new ones");
    assert_eq!(v.hashes.len(), 3);
    let heads = working.get_heads();
    let again = verify_community(&fx, &mut working, &fx.changes).unwrap();
    assert!(again.changes.is_empty());
    assert!(again.hashes.is_empty());
    assert!(again.signers.is_empty());
    assert_eq!(working.get_heads(), heads);

    // A batch that repeats a change is fine too.
    let mut doubled = fx.changes.clone();
    doubled.extend(fx.changes.iter().cloned());
    let mut fresh = Automerge::new();
    let v = verify_community(&fx, &mut fresh, &doubled).unwrap();
    assert_eq!(v.changes, fx.changes);
}

#[test]
fn a_coordinator_appointed_in_an_earlier_change_may_write_the_charter() {
    let fx = community_fixture();
    let carl = &fx.cast.carl;
    let mut carls = carl.fork(&fx.doc);
    let new_charter = commonplace_model::Charter {
        name: "Safer Towns Network".into(),
        ..charter()
    };
    let c = signed(&fx.doc_ref, &carl.key, &mut carls, 7, |tx| {
        community::write_charter(tx, &new_charter)
    });
    let mut batch = fx.changes.clone();
    batch.push(c.clone());
    let mut working = Automerge::new();
    let v = verify_community(&fx, &mut working, &batch).unwrap();
    assert_eq!(v.signers, vec![fx.cast.ana.id, carl.id]);
    assert_eq!(
        community::read(&working).unwrap().charter.name,
        "Safer Towns Network"
    );

    // The same change on top of a working document that already has the history.
    let mut working = Automerge::new();
    verify_community(&fx, &mut working, &fx.changes).unwrap();
    let v = verify_community(&fx, &mut working, &[c]).unwrap();
    assert_eq!(v.signers, vec![carl.id]);
}

#[test]
fn a_coordinator_may_appoint_and_remove_members() {
    let fx = community_fixture();
    let carl = &fx.cast.carl;
    let mallory = &fx.cast.mallory;
    let mut carls = carl.fork(&fx.doc);
    let c1 = signed(&fx.doc_ref, &carl.key, &mut carls, 7, |tx| {
        community::put_member(
            tx,
            &mallory.id,
            "Mallory",
            Role::Member,
            None,
            None,
            Timestamp(7),
        )
    });
    let c2 = signed(&fx.doc_ref, &carl.key, &mut carls, 8, |tx| {
        community::remove_member(tx, &fx.cast.ben.id, Timestamp(8))
    });
    let mut working = fx.doc.fork();
    verify_community(&fx, &mut working, &[c1, c2]).unwrap();
    let roster = community::read(&working).unwrap().roster;
    assert_eq!(roster.role_of(&mallory.id), Some(Role::Member));
    assert_eq!(roster.members[&mallory.id].added_by, Some(carl.id));
    assert_eq!(roster.role_of(&fx.cast.ben.id), None);
}

// ---------------------------------------------------------------------------------------------
// Refusing: integrity and authorship
// ---------------------------------------------------------------------------------------------

#[test]
fn a_flipped_signature_byte_is_a_bad_signature() {
    let fx = community_fixture();
    for (i, byte) in [(0usize, 0usize), (3, 31), (5, 63)] {
        let mut batch = fx.changes.clone();
        batch[i].signature.as_mut().unwrap().0[byte] ^= 0x01;
        let err = verify_community(&fx, &mut Automerge::new(), &batch).unwrap_err();
        assert_eq!(
            err,
            RejectReason::BadSignature {
                doc: fx.doc_ref.id,
                hash: hex(&fx.changes[i]),
                signer: fx.cast.ana.id,
            }
        );
    }
    // The same in a thread.
    let (tref, _, mut changes) = ben_and_carl_thread(&fx);
    changes[1].signature.as_mut().unwrap().0[40] ^= 0x80;
    assert_eq!(
        verify_doc(&fx, &tref, &mut Automerge::new(), &changes).unwrap_err(),
        RejectReason::BadSignature {
            doc: tref.id,
            hash: hex(&changes[1]),
            signer: fx.cast.carl.id,
        }
    );
}

#[test]
fn tampered_change_bytes_are_refused() {
    let fx = community_fixture();
    let (tref, _, changes) = ben_and_carl_thread(&fx);
    let mut bad = changes.clone();
    let at = bad[1].bytes.len() - 3;
    bad[1].bytes[at] ^= 0x20;
    let err = verify_doc(&fx, &tref, &mut Automerge::new(), &bad).unwrap_err();
    assert!(
        matches!(
            err,
            RejectReason::Malformed { .. } | RejectReason::BadSignature { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn every_single_bit_flip_in_a_signed_change_is_refused_or_harmless() {
    // Automerge change chunks start with a 4-byte magic and a 4-byte checksum. The change hash
    // (and so the signature) covers everything after the checksum, and `Change::from_bytes` does
    // not check the checksum, so a flip there yields the very same change. Every other flip must
    // be refused.
    let fx = community_fixture();
    let (tref, doc, changes) = ben_and_carl_thread(&fx);
    let original = hash_of(&changes[1]);
    let mut harmless = BTreeSet::new();
    for at in 0..changes[1].bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = changes.clone();
            bad[1].bytes[at] ^= bit;
            let mut working = Automerge::new();
            match verify_doc(&fx, &tref, &mut working, &bad) {
                Err(_) => {}
                Ok(v) => {
                    assert!(
                        v.hashes.contains(&original),
                        "flip {bit:#x} at {at} accepted a different change"
                    );
                    assert_eq!(working.get_heads(), doc.get_heads());
                    harmless.insert(at);
                }
            }
        }
    }
    assert!(
        harmless.iter().all(|at| (4..8).contains(at)),
        "flips accepted outside the checksum: {harmless:?}"
    );
}

/// A member can sign whatever bytes they like: damaged changes that still parse reach the
/// structural check, which decodes their ops. None of them may panic the verifier.
#[test]
fn every_bit_flip_re_signed_by_a_member_is_judged_without_panicking() {
    let fx = community_fixture();
    let (tref, _, changes) = ben_and_carl_thread(&fx);
    let mut judged = 0;
    for at in 0..changes[1].bytes.len() {
        for bit in [0x01u8, 0x10, 0x80] {
            let mut bytes = changes[1].bytes.clone();
            bytes[at] ^= bit;
            let Ok(change) = Change::from_bytes(bytes.clone()) else {
                continue;
            };
            let resigned = SignedChange {
                bytes,
                signature: Some(tref.sign(&fx.cast.carl.key, &change.hash())),
            };
            let batch = [changes[0].clone(), resigned];
            let _verdict = verify_doc(&fx, &tref, &mut Automerge::new(), &batch);
            judged += 1;
        }
    }
    assert!(judged > 100, "only {judged} flips parsed");
}

#[test]
fn an_unsigned_newest_change_is_refused() {
    let fx = community_fixture();
    let tref = fx.thread_ref(0x33);
    let (mut doc, c1) = fx.open_thread(&tref, &fx.cast.ben);
    let c2 = unsigned(&mut doc, 11, |tx| {
        thread::reply(tx, &post(1), "Unsigned", None, Timestamp(11))
    });
    let err = verify_doc(&fx, &tref, &mut Automerge::new(), &[c1.clone(), c2.clone()]).unwrap_err();
    assert_eq!(
        err,
        RejectReason::Unsigned {
            doc: tref.id,
            hash: hex(&c2)
        }
    );
    // Also when it is the only change of the batch.
    let mut working = Automerge::new();
    verify_doc(&fx, &tref, &mut working, &[c1]).unwrap();
    let err = verify_doc(&fx, &tref, &mut working, std::slice::from_ref(&c2)).unwrap_err();
    assert_eq!(
        err,
        RejectReason::Unsigned {
            doc: tref.id,
            hash: hex(&c2)
        }
    );
}

#[test]
fn an_unsigned_change_is_not_vouched_for_by_another_actors_signature() {
    let fx = community_fixture();
    let tref = fx.thread_ref(0x34);
    let (mut bens, c1) = fx.open_thread(&tref, &fx.cast.ben);
    // Ben's reply travels unsigned; Carl, who has seen it, replies and signs.
    let x = unsigned(&mut bens, 11, |tx| {
        thread::reply(tx, &post(1), "Ben, unsigned", None, Timestamp(11))
    });
    let mut carls = fx.cast.carl.fork(&bens);
    let y = signed(&tref, &fx.cast.carl.key, &mut carls, 12, |tx| {
        thread::reply(tx, &post(2), "Carl, signed", Some(&post(1)), Timestamp(12))
    });
    assert!(
        Change::from_bytes(y.bytes.clone())
            .unwrap()
            .deps()
            .contains(&hash_of(&x)),
        "Carl's change descends from Ben's"
    );
    let err = verify_doc(
        &fx,
        &tref,
        &mut Automerge::new(),
        &[c1.clone(), x.clone(), y.clone()],
    )
    .unwrap_err();
    assert_eq!(
        err,
        RejectReason::Unsigned {
            doc: tref.id,
            hash: hex(&x)
        }
    );
    // Not even when Carl's walk back from his own signed change passes through it on the way
    // to an unsigned change of his that it does vouch for.
    let mut carls = fx.cast.carl.fork(&bens);
    let z = unsigned(&mut carls, 13, |tx| {
        thread::reply(tx, &post(3), "Carl, unsigned", None, Timestamp(13))
    });
    let y2 = signed(&tref, &fx.cast.carl.key, &mut carls, 14, |tx| {
        thread::reply(tx, &post(4), "Carl, signed", None, Timestamp(14))
    });
    let err = verify_doc(
        &fx,
        &tref,
        &mut Automerge::new(),
        &[c1.clone(), x.clone(), z.clone(), y2.clone()],
    )
    .unwrap_err();
    assert_eq!(
        err,
        RejectReason::Unsigned {
            doc: tref.id,
            hash: hex(&x)
        }
    );
    // With Ben's change signed, Carl's unsigned one is vouched for by his signed one.
    let mut x_signed = x.clone();
    x_signed.signature = Some(tref.sign(&fx.cast.ben.key, &hash_of(&x)));
    verify_doc(
        &fx,
        &tref,
        &mut Automerge::new(),
        &[c1.clone(), x_signed, z, y2],
    )
    .unwrap();
    // Nor by a signed change of its own actor that does not descend from it.
    let err = verify_doc(&fx, &tref, &mut Automerge::new(), &[x.clone(), c1]).unwrap_err();
    assert_eq!(
        err,
        RejectReason::Unsigned {
            doc: tref.id,
            hash: hex(&x)
        }
    );
}

#[test]
fn an_actor_that_does_not_name_the_signer_is_a_bad_signature() {
    let fx = community_fixture();
    let tref = fx.thread_ref(0x35);
    // Ben's actor id, but signed with Carl's key: Carl may not speak as Ben.
    let (doc, mut c1) = fx.open_thread(&tref, &fx.cast.ben);
    c1.signature = Some(tref.sign(&fx.cast.carl.key, &hash_of(&c1)));
    let err = verify_doc(&fx, &tref, &mut Automerge::new(), std::slice::from_ref(&c1)).unwrap_err();
    assert_eq!(
        err,
        RejectReason::BadSignature {
            doc: tref.id,
            hash: hex(&c1),
            signer: fx.cast.ben.id,
        }
    );
    // Mallory signing a reply made under Ana's actor.
    let mut anas = fx.cast.ana.fork(&doc);
    let hash = write(&mut anas, 1, |tx| {
        thread::reply(tx, &post(1), "x", None, Timestamp(1))
    });
    let forged = stored(&anas, &hash, Some(tref.sign(&fx.cast.mallory.key, &hash)));
    let mut working = Automerge::new();
    let mut genuine = c1.clone();
    genuine.signature = Some(tref.sign(&fx.cast.ben.key, &hash_of(&c1)));
    let err = verify_doc(&fx, &tref, &mut working, &[genuine, forged]).unwrap_err();
    assert!(
        matches!(err, RejectReason::BadSignature { signer, .. } if signer == fx.cast.ana.id),
        "{err:?}"
    );
}

#[test]
fn an_actor_id_without_a_signer_is_refused() {
    let fx = community_fixture();
    let tref = fx.thread_ref(0x36);
    let mut doc = commonplace_model::new_document(&[7u8; 16]);
    let community = fx.id;
    let c = signed(&tref, &fx.cast.ben.key, &mut doc, 1, |tx| {
        thread::init(
            tx,
            &community,
            commonplace_model::ActivityKind::Story,
            "t",
            "b",
            &[],
            Timestamp(1),
        )
    });
    assert_eq!(
        verify_doc(&fx, &tref, &mut Automerge::new(), std::slice::from_ref(&c)).unwrap_err(),
        RejectReason::BadActor {
            doc: tref.id,
            hash: hex(&c)
        }
    );
}

#[test]
fn a_change_signed_for_another_document_is_a_bad_signature() {
    let fx = community_fixture();
    let tref = fx.thread_ref(0x37);
    let (_, genuine) = fx.open_thread(&tref, &fx.cast.ben);
    let hash = hash_of(&genuine);
    let others = [
        DocRef {
            id: DocId::from_bytes([0x38; 16]),
            ..tref
        },
        DocRef {
            community: CommunityId::from_bytes([9; 16]),
            ..tref
        },
        DocRef {
            kind: DocKind::Entry,
            ..tref
        },
        DocRef::community(fx.id),
    ];
    for other in others {
        let replayed = SignedChange {
            bytes: genuine.bytes.clone(),
            signature: Some(other.sign(&fx.cast.ben.key, &hash)),
        };
        assert_eq!(
            verify_doc(&fx, &tref, &mut Automerge::new(), &[replayed]).unwrap_err(),
            RejectReason::BadSignature {
                doc: tref.id,
                hash: hash.to_string(),
                signer: fx.cast.ben.id,
            },
            "signed for {other:?}"
        );
    }
    // And the genuine one is fine.
    verify_doc(&fx, &tref, &mut Automerge::new(), &[genuine]).unwrap();
}

#[test]
fn garbage_bytes_are_malformed() {
    let fx = community_fixture();
    let tref = fx.thread_ref(0x39);
    for bytes in [vec![], vec![0u8; 40], b"not an automerge change".to_vec()] {
        let err = verify_doc(
            &fx,
            &tref,
            &mut Automerge::new(),
            &[SignedChange {
                bytes,
                signature: None,
            }],
        )
        .unwrap_err();
        assert!(matches!(err, RejectReason::Malformed { doc, .. } if doc == tref.id));
    }
}

#[test]
fn a_missing_dependency_is_named() {
    let fx = community_fixture();
    let (tref, _, changes) = ben_and_carl_thread(&fx);
    assert_eq!(
        verify_doc(&fx, &tref, &mut Automerge::new(), &changes[1..]).unwrap_err(),
        RejectReason::MissingDependency {
            doc: tref.id,
            hash: hex(&changes[1]),
            missing: hex(&changes[0]),
        }
    );
    // The community document likewise.
    assert_eq!(
        verify_community(&fx, &mut Automerge::new(), &fx.changes[1..]).unwrap_err(),
        RejectReason::MissingDependency {
            doc: fx.doc_ref.id,
            hash: hex(&fx.changes[1]),
            missing: hex(&fx.changes[0]),
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Refusing: authority
// ---------------------------------------------------------------------------------------------

#[test]
fn threads_and_entries_need_an_active_member_who_may_write() {
    let fx = community_fixture();
    let c = &fx.cast;
    // Written after Rita's removal (at 6,000 ms).
    for (who, expected) in [
        (&c.mallory, "not a member"),
        (&c.rita, "removed"),
        (&c.olga, "read only"),
    ] {
        for kind in [DocKind::Thread, DocKind::Entry] {
            let doc_ref = DocRef {
                community: fx.id,
                kind,
                id: DocId::from_bytes([0x50; 16]),
            };
            let mut doc = who.new_doc();
            let community = fx.id;
            let change = signed(&doc_ref, &who.key, &mut doc, 7_000, |tx| match kind {
                DocKind::Thread => thread::init(
                    tx,
                    &community,
                    commonplace_model::ActivityKind::Discussion,
                    "Hello",
                    "World",
                    &[],
                    Timestamp(1),
                ),
                _ => entry::init(
                    tx,
                    &community,
                    EntryKind::Tool,
                    "Hello",
                    "World",
                    &[],
                    None,
                    Timestamp(1),
                ),
            });
            let err = verify_doc(
                &fx,
                &doc_ref,
                &mut Automerge::new(),
                std::slice::from_ref(&change),
            )
            .unwrap_err();
            let want = match expected {
                "read only" => RejectReason::ReadOnly {
                    doc: doc_ref.id,
                    hash: hex(&change),
                    signer: who.id,
                },
                "removed" => RejectReason::Removed {
                    doc: doc_ref.id,
                    hash: hex(&change),
                    signer: who.id,
                },
                _ => RejectReason::NotAMember {
                    doc: doc_ref.id,
                    hash: hex(&change),
                    signer: who.id,
                },
            };
            assert_eq!(err, want, "{} writing a {kind}", who.name);
        }
    }
}

#[test]
fn one_outsider_change_refuses_the_whole_batch() {
    let fx = community_fixture();
    let (tref, doc, mut changes) = ben_and_carl_thread(&fx);
    let mut mallorys = fx.cast.mallory.fork(&doc);
    let m = signed(&tref, &fx.cast.mallory.key, &mut mallorys, 20, |tx| {
        thread::reply(tx, &post(9), "Buy watches", None, Timestamp(20))
    });
    changes.push(m.clone());
    assert_eq!(
        verify_doc(&fx, &tref, &mut Automerge::new(), &changes).unwrap_err(),
        RejectReason::NotAMember {
            doc: tref.id,
            hash: hex(&m),
            signer: fx.cast.mallory.id,
        }
    );
}

#[test]
fn the_roster_passed_in_decides_for_threads() {
    let fx = community_fixture();
    let (tref, _, changes) = ben_and_carl_thread(&fx);
    // With an older roster (before Carl was appointed) Carl's reply is refused.
    let old = community::roster_at(&fx.doc, &fx.heads[2]).unwrap();
    let err = verify_and_apply(
        &tref,
        &mut Automerge::new(),
        &changes,
        &old,
        &fx.genesis.founder,
    )
    .unwrap_err();
    assert!(
        matches!(err, RejectReason::NotAMember { signer, .. } if signer == fx.cast.carl.id),
        "{err:?}"
    );
}

#[test]
fn a_member_who_is_not_a_coordinator_may_not_write_the_community_document() {
    let fx = community_fixture();
    let ben = &fx.cast.ben;
    let mut bens = ben.fork(&fx.doc);
    let c = signed(&fx.doc_ref, &ben.key, &mut bens, 7, |tx| {
        community::set_role(tx, &ben.id, Role::Coordinator)
    });
    let mut batch = fx.changes.clone();
    batch.push(c.clone());
    let want = RejectReason::NotACoordinator {
        doc: fx.doc_ref.id,
        hash: hex(&c),
        signer: ben.id,
    };
    assert_eq!(
        verify_community(&fx, &mut Automerge::new(), &batch).unwrap_err(),
        want
    );
    let mut working = fx.doc.fork();
    assert_eq!(
        verify_community(&fx, &mut working, &[c]).unwrap_err(),
        want.clone()
    );
    // An outsider and an observer are refused the same way.
    for p in [&fx.cast.mallory, &fx.cast.olga] {
        let mut theirs = p.fork(&fx.doc);
        let c = signed(&fx.doc_ref, &p.key, &mut theirs, 8, |tx| {
            community::put_member(
                tx,
                &p.id,
                p.name,
                Role::Coordinator,
                None,
                None,
                Timestamp(8),
            )
        });
        assert_eq!(
            verify_community(&fx, &mut fx.doc.fork(), std::slice::from_ref(&c)).unwrap_err(),
            RejectReason::NotACoordinator {
                doc: fx.doc_ref.id,
                hash: hex(&c),
                signer: p.id,
            }
        );
    }
}

#[test]
fn a_coordinator_is_judged_by_the_roster_at_the_changes_own_dependencies() {
    let fx = community_fixture();
    let carl = &fx.cast.carl;
    // Carl writes on top of heads[2], before his appointment (heads[3]). The appointment is in
    // the same batch, but it is not among this change's dependencies.
    let mut early = carl.fork_at(&fx.doc, &fx.heads[2]);
    let c = signed(&fx.doc_ref, &carl.key, &mut early, 7, |tx| {
        community::put_member(
            tx,
            &fx.cast.mallory.id,
            "Mallory",
            Role::Coordinator,
            None,
            None,
            Timestamp(7),
        )
    });
    let mut batch = fx.changes.clone();
    batch.push(c.clone());
    assert_eq!(
        verify_community(&fx, &mut Automerge::new(), &batch).unwrap_err(),
        RejectReason::NotACoordinator {
            doc: fx.doc_ref.id,
            hash: hex(&c),
            signer: carl.id,
        }
    );
}

#[test]
fn a_demoted_or_removed_coordinator_may_no_longer_write() {
    let fx = community_fixture();
    let ana = &fx.cast.ana;
    let carl = &fx.cast.carl;
    for demote in [true, false] {
        let mut anas = fx.doc.fork().with_actor(ana.actor.clone());
        let a = signed(&fx.doc_ref, &ana.key, &mut anas, 7, |tx| {
            if demote {
                community::set_role(tx, &carl.id, Role::Member)
            } else {
                community::remove_member(tx, &carl.id, Timestamp(7))
            }
        });
        let mut carls = carl.fork(&anas);
        let c = signed(&fx.doc_ref, &carl.key, &mut carls, 8, |tx| {
            community::write_charter(
                tx,
                &commonplace_model::Charter {
                    name: "Carl's club".into(),
                    ..charter()
                },
            )
        });
        let mut batch = fx.changes.clone();
        batch.extend([a, c.clone()]);
        assert_eq!(
            verify_community(&fx, &mut Automerge::new(), &batch).unwrap_err(),
            RejectReason::NotACoordinator {
                doc: fx.doc_ref.id,
                hash: hex(&c),
                signer: carl.id,
            },
            "demote: {demote}"
        );
    }
}

#[test]
fn the_first_community_change_must_come_from_the_founder() {
    let fx = community_fixture();
    let mallory = &fx.cast.mallory;
    // Mallory writes a founding change naming Ana as founder (so the ids match), signed by
    // herself.
    let mut doc = mallory.new_doc();
    let c = signed(&fx.doc_ref, &mallory.key, &mut doc, 1, |tx| {
        community::init(tx, &fx.genesis, &charter(), "Ana Silva", Timestamp(1))
    });
    assert_eq!(
        verify_community(&fx, &mut Automerge::new(), std::slice::from_ref(&c)).unwrap_err(),
        RejectReason::NotACoordinator {
            doc: fx.doc_ref.id,
            hash: hex(&c),
            signer: mallory.id,
        }
    );
    // A second root change, beside Ana's genuine history, is refused the same way — even when
    // the signer is a coordinator (Carl): only the founder writes without dependencies.
    let carl = &fx.cast.carl;
    let mut root = carl.new_doc();
    let c = signed(&fx.doc_ref, &carl.key, &mut root, 2, |tx| {
        tx.put(ROOT, "note", "hi")?;
        Ok(())
    });
    let mut batch = fx.changes.clone();
    batch.push(c.clone());
    assert_eq!(
        verify_community(&fx, &mut Automerge::new(), &batch).unwrap_err(),
        RejectReason::NotACoordinator {
            doc: fx.doc_ref.id,
            hash: hex(&c),
            signer: carl.id,
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Refusing: schema
// ---------------------------------------------------------------------------------------------

#[test]
fn a_community_document_of_another_community_is_refused() {
    let fx = community_fixture();
    let ana = &fx.cast.ana;
    // Ana founds a second community and tries to pass its founding change off as the first's.
    let other = Genesis {
        founder: ana.id,
        nonce: [0x43; 16],
    };
    let mut doc = ana.new_doc();
    let c = signed(&fx.doc_ref, &ana.key, &mut doc, 1, |tx| {
        community::init(tx, &other, &charter(), "Ana", Timestamp(1))
    });
    let err = verify_community(&fx, &mut Automerge::new(), &[c]).unwrap_err();
    assert!(
        matches!(err, RejectReason::Schema { doc, .. } if doc == fx.doc_ref.id),
        "{err:?}"
    );
}

#[test]
fn a_thread_of_another_community_or_not_a_thread_is_refused() {
    let fx = community_fixture();
    let tref = fx.thread_ref(0x3a);
    let ben = &fx.cast.ben;
    let mut doc = ben.new_doc();
    let elsewhere = CommunityId::from_bytes([0x77; 16]);
    let c = signed(&tref, &ben.key, &mut doc, 1, |tx| {
        thread::init(
            tx,
            &elsewhere,
            commonplace_model::ActivityKind::Story,
            "t",
            "b",
            &[],
            Timestamp(1),
        )
    });
    let err = verify_doc(&fx, &tref, &mut Automerge::new(), &[c]).unwrap_err();
    assert!(matches!(err, RejectReason::Schema { .. }), "{err:?}");

    let mut doc = ben.new_doc();
    let c = signed(&tref, &ben.key, &mut doc, 1, |tx| {
        tx.put(ROOT, "hello", "world")?;
        Ok(())
    });
    let err = verify_doc(&fx, &tref, &mut Automerge::new(), &[c]).unwrap_err();
    assert!(matches!(err, RejectReason::Schema { .. }), "{err:?}");

    // A genuine entry sent as a thread.
    let eref = DocRef {
        kind: DocKind::Entry,
        ..tref
    };
    let mut doc = ben.new_doc();
    let community = fx.id;
    let hash = write(&mut doc, 1, |tx| {
        entry::init(
            tx,
            &community,
            EntryKind::Case,
            "t",
            "b",
            &[],
            None,
            Timestamp(1),
        )
    });
    let as_thread = stored(&doc, &hash, Some(tref.sign(&ben.key, &hash)));
    let err = verify_doc(&fx, &tref, &mut Automerge::new(), &[as_thread]).unwrap_err();
    assert!(matches!(err, RejectReason::Schema { .. }), "{err:?}");
    let as_entry = stored(&doc, &hash, Some(eref.sign(&ben.key, &hash)));
    verify_doc(&fx, &eref, &mut Automerge::new(), &[as_entry]).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Property: any history of a thread by honest members verifies into the same document
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Reply {
        by: usize,
        to: Option<prop::sample::Index>,
    },
    Helped {
        by: usize,
        post: prop::sample::Index,
    },
    Resolve {
        by: usize,
        answer: Option<prop::sample::Index>,
    },
    Reopen {
        by: usize,
    },
    Sync {
        from: usize,
        to: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let by = 0usize..3;
    prop_oneof![
        4 => (by.clone(), proptest::option::of(any::<prop::sample::Index>()))
            .prop_map(|(by, to)| Op::Reply { by, to }),
        2 => (by.clone(), any::<prop::sample::Index>()).prop_map(|(by, post)| Op::Helped { by, post }),
        1 => (by.clone(), proptest::option::of(any::<prop::sample::Index>()))
            .prop_map(|(by, answer)| Op::Resolve { by, answer }),
        1 => by.clone().prop_map(|by| Op::Reopen { by }),
        3 => (by.clone(), by).prop_map(|(from, to)| Op::Sync { from, to }),
    ]
}

struct Sim {
    fx: CommunityFixture,
    tref: DocRef,
    people: Vec<Person>,
    docs: Vec<Automerge>,
    sigs: HashMap<ChangeHash, Signature>,
    replies: Vec<PostId>,
    helped: BTreeSet<(PostId, MemberId)>,
}

impl Sim {
    fn new(members: usize) -> Sim {
        let fx = community_fixture();
        let tref = fx.thread_ref(0x60);
        let people: Vec<Person> = [&fx.cast.ana, &fx.cast.ben, &fx.cast.carl]
            .into_iter()
            .take(members)
            .cloned()
            .collect();
        let (doc, c) = fx.open_thread(&tref, &people[0]);
        let mut sigs = HashMap::new();
        sigs.insert(hash_of(&c), c.signature.unwrap());
        let docs = people.iter().map(|p| p.fork(&doc)).collect();
        Sim {
            fx,
            tref,
            people,
            docs,
            sigs,
            replies: Vec::new(),
            helped: BTreeSet::new(),
        }
    }

    fn visible_posts(&self, i: usize) -> Vec<PostId> {
        let t = thread::read(&self.docs[i], self.tref.id).unwrap();
        std::iter::once(t.opening.id)
            .chain(t.replies.iter().map(|r| r.id))
            .collect()
    }

    fn write(
        &mut self,
        i: usize,
        time: i64,
        f: impl FnOnce(
            &mut automerge::transaction::Transaction<'_>,
        ) -> Result<(), commonplace_model::SchemaError>,
    ) {
        let hash = self.docs[i]
            .transact_with(
                |_| automerge::transaction::CommitOptions::default().with_time(time),
                f,
            )
            .map_err(|f| f.error)
            .unwrap()
            .hash;
        if let Some(h) = hash {
            self.sigs.insert(h, self.tref.sign(&self.people[i].key, &h));
        }
    }

    fn run(&mut self, step: usize, op: &Op) {
        let n = self.people.len();
        let t = 20_000 + step as i64 * 1_000;
        match op {
            Op::Reply { by, to } => {
                let i = by % n;
                let visible = self.visible_posts(i);
                let to = to.as_ref().map(|ix| *ix.get(&visible));
                let id = PostId::from_bytes(
                    u128::try_from(self.replies.len() + 1)
                        .unwrap()
                        .to_be_bytes(),
                );
                self.replies.push(id);
                let body = format!("reply {} by {}", self.replies.len(), self.people[i].name);
                self.write(i, t, |tx| {
                    thread::reply(tx, &id, &body, to.as_ref(), Timestamp(t))
                });
            }
            Op::Helped { by, post } => {
                let i = by % n;
                let visible = self.visible_posts(i);
                let p = *post.get(&visible);
                let me = self.people[i].id;
                // A mark on one's own post counts for nothing (the sim's times are from
                // before the gate refuses them).
                let t_read = thread::read(&self.docs[i], self.tref.id).unwrap();
                let author = std::iter::once(&t_read.opening)
                    .chain(&t_read.replies)
                    .find(|x| x.id == p)
                    .and_then(|x| x.author);
                if author != Some(me) {
                    self.helped.insert((p, me));
                }
                self.write(i, t, |tx| thread::mark_helped(tx, &p, &me));
            }
            Op::Resolve { by, answer } => {
                let i = by % n;
                if !self.may_moderate(i) {
                    return;
                }
                let visible = self.visible_posts(i);
                let answer = answer
                    .as_ref()
                    .filter(|_| visible.len() > 1)
                    .map(|ix| *ix.get(&visible[1..]));
                self.write(i, t, |tx| {
                    thread::resolve(tx, answer.as_ref(), Timestamp(t))
                });
            }
            Op::Reopen { by } => {
                let i = by % n;
                if !self.may_moderate(i) {
                    return;
                }
                self.write(i, t, |tx| thread::reopen(tx));
            }
            Op::Sync { from, to } => {
                let (from, to) = (from % n, to % n);
                if from != to {
                    let mut other = self.docs[from].clone();
                    self.docs[to].merge(&mut other).unwrap();
                }
            }
        }
    }

    /// Whether person `i` may resolve or reopen the thread, as the node decides it: its author
    /// (people[0]) or a coordinator.
    fn may_moderate(&self, i: usize) -> bool {
        i == 0 || self.fx.roster().role_of(&self.people[i].id) == Some(Role::Coordinator)
    }

    /// Everyone's changes in one document.
    fn merged(&self) -> Automerge {
        let mut all = self.docs[0].clone();
        for d in &self.docs[1..] {
            all.merge(&mut d.clone()).unwrap();
        }
        all
    }
}

/// The exported changes with the signatures of `unsigned_mask` dropped, except on each actor's
/// newest change, which vouches for the actor's earlier ones.
fn export_sparsely(
    doc: &Automerge,
    sigs: &HashMap<ChangeHash, Signature>,
    mask: &[bool],
) -> Vec<SignedChange> {
    let mut newest: HashMap<ActorId, u64> = HashMap::new();
    for c in doc.get_changes(&[]) {
        let e = newest.entry(c.actor_id().clone()).or_default();
        *e = (*e).max(c.seq());
    }
    let mut out = export(doc, sigs);
    for (i, (sc, c)) in out.iter_mut().zip(doc.get_changes(&[])).enumerate() {
        if mask.get(i).copied().unwrap_or(false) && newest[c.actor_id()] != c.seq() {
            sc.signature = None;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        rng_seed: RngSeed::Fixed(0x00c0_ffee),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn honest_thread_histories_verify_into_the_same_thread(
        members in 2usize..=3,
        ops in proptest::collection::vec(op(), 1..24),
        mask in proptest::collection::vec(any::<bool>(), 64),
        order in proptest::collection::vec(any::<u32>(), 64),
    ) {
        let mut sim = Sim::new(members);
        for (step, op) in ops.iter().enumerate() {
            sim.run(step, op);
        }
        let merged = sim.merged();
        let mut exported = export_sparsely(&merged, &sim.sigs, &mask);
        prop_assert_eq!(exported.len(), sim.sigs.len());

        // In stored order.
        let mut working = Automerge::new();
        let v = verify_and_apply(&sim.tref, &mut working, &exported, &sim.fx.roster(), &sim.fx.genesis.founder);
        let v = match v {
            Ok(v) => v,
            Err(e) => return Err(TestCaseError::fail(format!("refused: {e}"))),
        };
        prop_assert_eq!(v.changes.len(), exported.len());
        let mut want_heads = merged.get_heads();
        want_heads.sort();
        let mut got_heads = working.get_heads();
        got_heads.sort();
        prop_assert_eq!(&got_heads, &want_heads);
        let want = thread::read(&merged, sim.tref.id).unwrap();
        let got = thread::read(&working, sim.tref.id).unwrap();
        prop_assert_eq!(&got, &want);
        for s in &v.signers {
            prop_assert!(sim.people.iter().any(|p| p.id == *s));
        }

        // Every reply is counted once, and every genuine "helped" mark once.
        let summary = got.summary();
        prop_assert_eq!(summary.replies as usize, sim.replies.len());
        let ids: BTreeSet<PostId> = got.replies.iter().map(|r| r.id).collect();
        prop_assert_eq!(ids, sim.replies.iter().copied().collect::<BTreeSet<_>>());
        prop_assert_eq!(summary.helped as usize, sim.helped.len());
        prop_assert_eq!(summary.author, Some(sim.people[0].id));

        // In a scrambled order: the same verdict and the same document.
        let mut keyed: Vec<(u32, usize, SignedChange)> = exported
            .drain(..)
            .enumerate()
            .map(|(i, c)| (order[i % order.len()], i, c))
            .collect();
        keyed.sort_by_key(|(k, i, _)| (*k, *i));
        let scrambled: Vec<SignedChange> = keyed.into_iter().map(|(_, _, c)| c).collect();
        let mut working2 = Automerge::new();
        let v2 = verify_and_apply(&sim.tref, &mut working2, &scrambled, &sim.fx.roster(), &sim.fx.genesis.founder);
        let v2 = match v2 {
            Ok(v) => v,
            Err(e) => return Err(TestCaseError::fail(format!("refused when scrambled: {e}"))),
        };
        assert_dependencies_first(&v2.changes, &Automerge::new());
        let mut heads2 = working2.get_heads();
        heads2.sort();
        prop_assert_eq!(&heads2, &want_heads);
        prop_assert_eq!(&thread::read(&working2, sim.tref.id).unwrap(), &want);
    }
}

// ---------------------------------------------------------------------------------------------
// Authorship can not be rewritten by another member
// ---------------------------------------------------------------------------------------------

/// Verifies `changes` into a new working document, then `attempt` on a copy of it: returns the
/// document as it was before the attempt and the attempt's verdict. (A refused batch may leave
/// part of itself in its working document, which the caller discards — so does this.)
fn attempt(
    fx: &CommunityFixture,
    doc_ref: &DocRef,
    changes: &[SignedChange],
    attempt: &[SignedChange],
) -> (Automerge, Result<Verified, RejectReason>) {
    let mut working = Automerge::new();
    verify_doc(fx, doc_ref, &mut working, changes).unwrap();
    let mut copy = working.fork();
    let verdict = verify_doc(fx, doc_ref, &mut copy, attempt);
    (working, verdict)
}

/// Asserts that `verdict` refuses `change` by `signer` as touching another member's part, with
/// a detail that mentions `about`.
fn assert_not_theirs(
    verdict: Result<Verified, RejectReason>,
    doc_ref: &DocRef,
    change: &SignedChange,
    signer: MemberId,
    about: &str,
) {
    match verdict {
        Err(RejectReason::NotTheirs {
            doc,
            hash,
            signer: s,
            detail,
        }) => {
            assert_eq!((doc, hash, s), (doc_ref.id, hex(change), signer));
            assert!(detail.contains(about), "detail {detail:?} lacks {about:?}");
        }
        other => panic!("expected NotTheirs about {about:?}, got {other:?}"),
    }
}

/// Whatever another member writes, the opening post and each reply keep the author who signed
/// them: either the gate refuses the change, or the read still names the original author.
#[test]
fn a_member_cannot_take_over_a_thread_by_recreating_its_posts_map() {
    let fx = community_fixture();
    let (tref, doc, changes) = ben_and_carl_thread(&fx);
    let carl = &fx.cast.carl;
    let mut carls = carl.fork(&doc);
    let takeover = signed(&tref, &carl.key, &mut carls, 30, |tx| {
        tx.put_object(ROOT, "posts", automerge::ObjType::Map)?;
        Ok(())
    });
    let mut working = Automerge::new();
    verify_doc(&fx, &tref, &mut working, &changes).unwrap();
    let verdict = verify_doc(&fx, &tref, &mut working, std::slice::from_ref(&takeover));
    if verdict.is_ok() {
        let t = thread::read(&working, tref.id).unwrap();
        assert_eq!(
            t.opening.author,
            Some(fx.cast.ben.id),
            "Carl became the author of Ben's thread"
        );
        assert_eq!(t.replies.len(), 1, "Carl's reply vanished");
    }
    assert_not_theirs(verdict, &tref, &takeover, carl.id, "'posts'");
    // Not even Ben may re-create his own posts map (it would drop every reply).
    let mut bens = fx.cast.ben.fork(&doc);
    let again = signed(&tref, &fx.cast.ben.key, &mut bens, 31, |tx| {
        tx.put_object(ROOT, "posts", automerge::ObjType::Map)?;
        Ok(())
    });
    let (_, verdict) = attempt(&fx, &tref, &changes, std::slice::from_ref(&again));
    assert_not_theirs(verdict, &tref, &again, fx.cast.ben.id, "only once");
}

#[test]
fn a_member_cannot_take_over_a_reply_by_recreating_it() {
    let fx = community_fixture();
    let (tref, doc, changes) = ben_and_carl_thread(&fx);
    // `thread::reply` refuses a post id that exists ...
    let ben = &fx.cast.ben;
    let mut bens = ben.fork(&doc);
    let err = bens
        .transact(|tx| thread::reply(tx, &post(1), "Mine now.", None, Timestamp(30)))
        .map_err(|f| f.error)
        .unwrap_err();
    assert!(
        matches!(
            err,
            commonplace_model::SchemaError::Input { field: "post", .. }
        ),
        "{err:?}"
    );
    // ... so Ben rewrites Carl's reply (post 1) as his own by hand.
    let takeover = signed(&tref, &ben.key, &mut bens, 30, |tx| {
        let obj = tx.put_object(
            thread_posts(tx),
            post(1).to_string().as_str(),
            automerge::ObjType::Map,
        )?;
        tx.put(&obj, "body", "Motion lights (my idea).")?;
        tx.put(&obj, "created_at", 11_000)?;
        Ok(())
    });
    let mut working = Automerge::new();
    verify_doc(&fx, &tref, &mut working, &changes).unwrap();
    let verdict = verify_doc(&fx, &tref, &mut working, std::slice::from_ref(&takeover));
    if verdict.is_ok() {
        let t = thread::read(&working, tref.id).unwrap();
        assert_eq!(
            t.post(&post(1)).unwrap().author,
            Some(fx.cast.carl.id),
            "Ben became the author of Carl's reply"
        );
    }
    let id = post(1).to_string();
    assert_not_theirs(verdict, &tref, &takeover, ben.id, &format!("post {id}"));

    // The same from a copy of the thread that has not seen Carl's reply: no `pred`, so the
    // change alone does not show the overwrite; the document it lands on does.
    let mut early = ben.fork_at(&doc, &[hash_of(&changes[0])]);
    let concurrent = signed(&tref, &ben.key, &mut early, 31, |tx| {
        thread::reply(
            tx,
            &post(1),
            "Motion lights (my idea).",
            None,
            Timestamp(11_000),
        )
    });
    let (_, verdict) = attempt(&fx, &tref, &changes, std::slice::from_ref(&concurrent));
    assert_not_theirs(verdict, &tref, &concurrent, ben.id, "already");
    // And within one batch, whichever comes second is refused.
    let mut working = Automerge::new();
    let err = verify_doc(
        &fx,
        &tref,
        &mut working,
        &[changes[0].clone(), changes[1].clone(), concurrent.clone()],
    )
    .unwrap_err();
    assert!(
        matches!(&err, RejectReason::NotTheirs { hash, .. } if *hash == hex(&concurrent)),
        "{err:?}"
    );
}

/// The `posts` map of a thread document (inside a transaction).
fn thread_posts(tx: &automerge::transaction::Transaction<'_>) -> automerge::ObjId {
    use automerge::ReadDoc;
    match tx.get(ROOT, "posts").unwrap() {
        Some((automerge::Value::Object(_), id)) => id,
        other => panic!("no posts map: {other:?}"),
    }
}

#[test]
fn a_member_cannot_take_over_an_entry_by_recreating_its_body() {
    let fx = community_fixture();
    let eref = fx.entry_ref(0x42);
    let ben = &fx.cast.ben;
    let mut doc = ben.new_doc();
    let community = fx.id;
    let c1 = signed(&eref, &ben.key, &mut doc, 1, |tx| {
        entry::init(
            tx,
            &community,
            EntryKind::Story,
            "The night bus",
            "Ben's story.",
            &[],
            None,
            Timestamp(1),
        )
    });
    let carl = &fx.cast.carl;
    let mut carls = carl.fork(&doc);
    let takeover = signed(&eref, &carl.key, &mut carls, 2, |tx| {
        let text = tx.put_object(ROOT, "body", automerge::ObjType::Text)?;
        tx.splice_text(&text, 0, 0, "Carl's story.")?;
        Ok(())
    });
    let mut working = Automerge::new();
    verify_doc(&fx, &eref, &mut working, &[c1]).unwrap();
    let verdict = verify_doc(&fx, &eref, &mut working, std::slice::from_ref(&takeover));
    if verdict.is_ok() {
        assert_eq!(
            entry::read(&working, eref.id).unwrap().author,
            Some(ben.id),
            "Carl became the author of Ben's entry"
        );
    }
    assert_not_theirs(verdict, &eref, &takeover, carl.id, "'body'");
}

#[test]
fn members_may_only_write_their_own_parts_of_a_thread() {
    let fx = community_fixture();
    let (tref, doc, changes) = ben_and_carl_thread(&fx);
    let ben = &fx.cast.ben;
    let carl = &fx.cast.carl;
    let ana = &fx.cast.ana;
    let reply_of_carl = |tx: &automerge::transaction::Transaction<'_>| {
        use automerge::ReadDoc;
        match tx
            .get(thread_posts(tx), post(1).to_string().as_str())
            .unwrap()
        {
            Some((_, id)) => id,
            None => panic!("no reply"),
        }
    };
    // Ben (the thread's author) edits Carl's reply.
    let mut bens = ben.fork(&doc);
    let edit = signed(&tref, &ben.key, &mut bens, 30, |tx| {
        let obj = reply_of_carl(tx);
        tx.put(&obj, "body", "Motion lights, Ben says.")?;
        Ok(())
    });
    let (_, verdict) = attempt(&fx, &tref, &changes, std::slice::from_ref(&edit));
    assert_not_theirs(verdict, &tref, &edit, ben.id, "created by");
    // Ben deletes Carl's reply.
    let mut bens = ben.fork(&doc);
    let delete = signed(&tref, &ben.key, &mut bens, 30, |tx| {
        let posts = thread_posts(tx);
        tx.delete(&posts, post(1).to_string().as_str())?;
        Ok(())
    });
    let (_, verdict) = attempt(&fx, &tref, &changes, std::slice::from_ref(&delete));
    assert_not_theirs(verdict, &tref, &delete, ben.id, "replaces or deletes post");
    // Carl retitles Ben's thread, rewrites its opening post, or its community.
    for (key, value) in [
        ("title", "Carl's thread"),
        ("body", "Carl's words"),
        ("community", "elsewhere"),
    ] {
        let mut carls = carl.fork(&doc);
        let c = signed(&tref, &carl.key, &mut carls, 31, |tx| {
            tx.put(ROOT, key, value)?;
            Ok(())
        });
        let (_, verdict) = attempt(&fx, &tref, &changes, std::slice::from_ref(&c));
        assert_not_theirs(verdict, &tref, &c, carl.id, &format!("'{key}'"));
    }
    // Carl marks Carl's reply helpful in Ana's name.
    let mut carls = carl.fork(&doc);
    let forged = signed(&tref, &carl.key, &mut carls, 32, |tx| {
        thread::mark_helped(tx, &post(1), &ana.id)
    });
    let (_, verdict) = attempt(&fx, &tref, &changes, std::slice::from_ref(&forged));
    assert_not_theirs(verdict, &tref, &forged, carl.id, "helped");
    // Nor may anyone put a plain value where a reply goes.
    let mut carls = carl.fork(&doc);
    let scalar = signed(&tref, &carl.key, &mut carls, 32, |tx| {
        let posts = thread_posts(tx);
        tx.put(&posts, post(7).to_string().as_str(), "not a post")?;
        Ok(())
    });
    let (_, verdict) = attempt(&fx, &tref, &changes, std::slice::from_ref(&scalar));
    assert_not_theirs(verdict, &tref, &scalar, carl.id, "other than a post");
    // Ben's own edit of his title is fine, and so is Carl marking Ben's post for himself.
    let mut bens = ben.fork(&doc);
    let own = signed(&tref, &ben.key, &mut bens, 33, |tx| {
        tx.put(ROOT, "title", "Vandalism at the bus stop (solved?)")?;
        Ok(())
    });
    let mut carls = carl.fork(&doc);
    let helped = signed(&tref, &carl.key, &mut carls, 34, |tx| {
        thread::mark_helped(tx, &PostId::from_bytes(*tref.id.as_bytes()), &carl.id)
    });
    let (_, verdict) = attempt(&fx, &tref, &changes, &[own, helped]);
    verdict.unwrap();
}

#[test]
fn helped_marks_are_never_on_ones_own_post_and_only_ones_own_mark_is_withdrawn() {
    use commonplace_model::verify::OWN_POST_MARKS_REFUSED_FROM;
    let fx = community_fixture();
    // Ben's thread with Carl's reply post(1).
    let (tref, doc, changes) = ben_and_carl_thread(&fx);
    let (ana, ben, carl) = (&fx.cast.ana, &fx.cast.ben, &fx.cast.carl);
    let opening = PostId::from_bytes(*tref.id.as_bytes());
    let now = OWN_POST_MARKS_REFUSED_FROM.0 + 60_000;
    let mark = |who: &common::Person, on: &Automerge, p: PostId, t: i64| {
        let mut theirs = who.fork(on);
        let c = signed(&tref, &who.key, &mut theirs, t, |tx| {
            thread::mark_helped(tx, &p, &who.id)
        });
        (theirs, c)
    };
    // Carl marks his own reply; Ben marks his own opening post: refused on every peer.
    let (_, own_reply) = mark(carl, &doc, post(1), now);
    let (_, verdict) = attempt(&fx, &tref, &changes, std::slice::from_ref(&own_reply));
    assert_not_theirs(verdict, &tref, &own_reply, carl.id, "own post");
    let (_, own_opening) = mark(ben, &doc, opening, now);
    let (_, verdict) = attempt(&fx, &tref, &changes, std::slice::from_ref(&own_opening));
    assert_not_theirs(verdict, &tref, &own_opening, ben.id, "own post");
    // A mark on a post the change does not rest on cannot be judged the same everywhere.
    let (_, unknown) = mark(ana, &doc, post(9), now);
    let (_, verdict) = attempt(&fx, &tref, &changes, std::slice::from_ref(&unknown));
    assert_not_theirs(
        verdict,
        &tref,
        &unknown,
        ana.id,
        "not in the change's history",
    );
    // Ben marks Carl's reply, and Ana marks Ben's opening post: accepted.
    let (bens, bens_mark) = mark(ben, &doc, post(1), now);
    let (anas, anas_mark) = mark(ana, &bens, opening, now + 1);
    let mut working = Automerge::new();
    verify_doc(&fx, &tref, &mut working, &changes).unwrap();
    verify_doc(&fx, &tref, &mut working, &[bens_mark, anas_mark]).unwrap();
    let t = thread::read(&working, tref.id).unwrap();
    assert_eq!(t.replies[0].helped_by, vec![ben.id]);
    assert_eq!(t.opening.helped_by, vec![ana.id]);
    // Carl, forging, deletes Ben's mark: refused. Ben withdraws his own: accepted.
    let mut carls = carl.fork(&anas);
    let erase = signed(&tref, &carl.key, &mut carls, now + 2, |tx| {
        thread::unmark_helped(tx, &post(1), &ben.id)
    });
    let mut copy = working.fork();
    let verdict = verify_doc(&fx, &tref, &mut copy, std::slice::from_ref(&erase));
    assert_not_theirs(verdict, &tref, &erase, carl.id, "not its signer's own");
    let mut bens = ben.fork(&anas);
    let withdraw = signed(&tref, &ben.key, &mut bens, now + 3, |tx| {
        thread::unmark_helped(tx, &post(1), &ben.id)
    });
    verify_doc(&fx, &tref, &mut working, &[withdraw]).unwrap();
    let t = thread::read(&working, tref.id).unwrap();
    assert!(t.replies[0].helped_by.is_empty());
    assert_eq!(t.opening.helped_by, vec![ana.id]);
    // A self-mark from before the rule (earlier versions allowed it) still syncs, and counts
    // for nothing.
    let (_, old) = mark(carl, &doc, post(1), OWN_POST_MARKS_REFUSED_FROM.0 - 1);
    let (_, verdict) = attempt(&fx, &tref, &changes, std::slice::from_ref(&old));
    verdict.unwrap();
    let mut working = Automerge::new();
    verify_doc(&fx, &tref, &mut working, &changes).unwrap();
    verify_doc(&fx, &tref, &mut working, &[old]).unwrap();
    assert!(
        thread::read(&working, tref.id).unwrap().replies[0]
            .helped_by
            .is_empty()
    );
}

#[test]
fn a_thread_is_resolved_by_its_author_or_a_coordinator() {
    let fx = community_fixture();
    // Carl (a coordinator) opens a thread; Ben replies.
    let tref = fx.thread_ref(0x3c);
    let (doc, c1) = fx.open_thread(&tref, &fx.cast.carl);
    let mut bens = fx.cast.ben.fork(&doc);
    let c2 = signed(&tref, &fx.cast.ben.key, &mut bens, 11, |tx| {
        thread::reply(tx, &post(1), "Murals.", None, Timestamp(11))
    });
    let changes = vec![c1, c2];
    let mut base = doc.fork();
    base.merge(&mut bens).unwrap();
    // The author resolves, Ana (a coordinator) reopens, the author resolves again.
    let mut carls = fx.cast.carl.fork(&base);
    let r1 = signed(&tref, &fx.cast.carl.key, &mut carls, 12, |tx| {
        thread::resolve(tx, Some(&post(1)), Timestamp(12))
    });
    let mut anas = fx.cast.ana.fork(&carls);
    let r2 = signed(&tref, &fx.cast.ana.key, &mut anas, 13, |tx| {
        thread::reopen(tx)
    });
    let mut carls = fx.cast.carl.fork(&anas);
    let r3 = signed(&tref, &fx.cast.carl.key, &mut carls, 14, |tx| {
        thread::resolve(tx, None, Timestamp(14))
    });
    // Ben, neither the author nor a coordinator, may do neither.
    let mut bens = fx.cast.ben.fork(&base);
    let resolve = signed(&tref, &fx.cast.ben.key, &mut bens, 15, |tx| {
        thread::resolve(tx, Some(&post(1)), Timestamp(15))
    });
    let (_, verdict) = attempt(&fx, &tref, &changes, std::slice::from_ref(&resolve));
    assert_not_theirs(
        verdict,
        &tref,
        &resolve,
        fx.cast.ben.id,
        "or a coordinator may",
    );
    let mut bens = fx.cast.ben.fork(&carls);
    let reopen = signed(&tref, &fx.cast.ben.key, &mut bens, 15, |tx| {
        thread::reopen(tx)
    });
    let mut with_resolved = changes.clone();
    with_resolved.extend([r1.clone(), r2.clone(), r3.clone()]);
    let (_, verdict) = attempt(&fx, &tref, &with_resolved, std::slice::from_ref(&reopen));
    assert_not_theirs(
        verdict,
        &tref,
        &reopen,
        fx.cast.ben.id,
        "or a coordinator may",
    );
    let (_, verdict) = attempt(&fx, &tref, &changes, &[r1, r2, r3]);
    verdict.unwrap();
}

#[test]
fn members_share_an_entrys_text_title_and_tags_but_not_the_rest() {
    let fx = community_fixture();
    let eref = fx.entry_ref(0x43);
    let ben = &fx.cast.ben;
    let carl = &fx.cast.carl;
    let community = fx.id;
    let source = commonplace_model::Source {
        thread: DocId::from_bytes([0x31; 16]),
        heads: vec!["00".repeat(32)],
        posts: vec![post(1)],
        contributors: vec![carl.id],
    };
    let mut doc = ben.new_doc();
    let c1 = signed(&eref, &ben.key, &mut doc, 1, |tx| {
        entry::init(
            tx,
            &community,
            EntryKind::Lesson,
            "Lights first",
            "Light the stop before anything else.",
            &["#youth".to_owned()],
            Some(&source),
            Timestamp(1),
        )
    });
    // Carl edits the text, retitles it and changes its tags (a new tags list each time), and
    // Ben edits the text and tags after him: all shared.
    let mut carls = carl.fork(&doc);
    let c2 = signed(&eref, &carl.key, &mut carls, 2, |tx| {
        entry::edit(
            tx,
            &commonplace_model::TextEdit::Append(" Then talk.".into()),
            Timestamp(2),
        )
    });
    let tags = ["lighting".to_owned(), "youth".to_owned()];
    let c3 = signed(&eref, &carl.key, &mut carls, 3, |tx| {
        entry::retitle(
            tx,
            Some("Light first, then talk"),
            Some(&tags),
            Timestamp(3),
        )
    });
    let mut bens = ben.fork(&carls);
    let c4 = signed(&eref, &ben.key, &mut bens, 4, |tx| {
        entry::edit(
            tx,
            &commonplace_model::TextEdit::Replace("Light the stop first. Then talk.".into()),
            Timestamp(4),
        )?;
        entry::retitle(tx, None, Some(&["lighting".to_owned()]), Timestamp(4))
    });
    let changes = vec![c1, c2, c3, c4];
    let mut working = Automerge::new();
    verify_doc(&fx, &eref, &mut working, &changes).unwrap();
    let e = entry::read(&working, eref.id).unwrap();
    assert_eq!(e.author, Some(ben.id));
    assert_eq!(e.title, "Light first, then talk");
    assert_eq!(e.body, "Light the stop first. Then talk.");
    assert_eq!(e.tags, vec!["lighting".to_owned()]);

    // But Carl may not change what the entry is, nor where it came from.
    let write = |f: &dyn Fn(
        &mut automerge::transaction::Transaction<'_>,
    ) -> Result<(), commonplace_model::SchemaError>| {
        let mut carls = carl.fork(&bens);
        signed(&eref, &carl.key, &mut carls, 5, f)
    };
    let kind = write(&|tx| {
        tx.put(ROOT, "entry_kind", "tool")?;
        Ok(())
    });
    let (_, verdict) = attempt(&fx, &eref, &changes, std::slice::from_ref(&kind));
    assert_not_theirs(verdict, &eref, &kind, carl.id, "'entry_kind'");
    let new_source = write(&|tx| {
        tx.put_object(ROOT, "source", automerge::ObjType::Map)?;
        Ok(())
    });
    let (_, verdict) = attempt(&fx, &eref, &changes, std::slice::from_ref(&new_source));
    assert_not_theirs(verdict, &eref, &new_source, carl.id, "'source'");
    let inside_source = write(&|tx| {
        use automerge::ReadDoc;
        let Some((_, obj)) = tx.get(ROOT, "source")? else {
            panic!("no source")
        };
        tx.put(&obj, "thread", DocId::from_bytes([0x99; 16]).to_string())?;
        Ok(())
    });
    let (_, verdict) = attempt(&fx, &eref, &changes, std::slice::from_ref(&inside_source));
    assert_not_theirs(verdict, &eref, &inside_source, carl.id, "created by");
    // Nor write into the tags list Ben made (rather than replacing it).
    let inside_tags = write(&|tx| {
        use automerge::ReadDoc;
        let Some((_, list)) = tx.get(ROOT, "tags")? else {
            panic!("no tags")
        };
        tx.insert(&list, 0, "carls-tag")?;
        Ok(())
    });
    let (_, verdict) = attempt(&fx, &eref, &changes, std::slice::from_ref(&inside_tags));
    assert_not_theirs(verdict, &eref, &inside_tags, carl.id, "created by");
}

/// A member who writes a change beside the thread's first one (no dependencies), so that it
/// arrives first in a batch, still may not set the thread's fields.
#[test]
fn a_concurrent_root_change_does_not_make_its_writer_the_creator() {
    let fx = community_fixture();
    let tref = fx.thread_ref(0x3d);
    let (_, c1) = fx.open_thread(&tref, &fx.cast.ben);
    let carl = &fx.cast.carl;
    let mut carls = carl.new_doc();
    let early = signed(&tref, &carl.key, &mut carls, 5, |tx| {
        tx.put(ROOT, "title", "Carl's title")?;
        Ok(())
    });
    let err = verify_doc(&fx, &tref, &mut Automerge::new(), &[early.clone(), c1]).unwrap_err();
    assert!(
        matches!(&err, RejectReason::NotTheirs { hash, signer, .. }
            if *hash == hex(&early) && *signer == carl.id),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Removed members' past contributions
// ---------------------------------------------------------------------------------------------

/// `community::remove_member` promises "their past contributions stay; new ones are refused".
/// A peer that meets a thread for the first time after a member was removed must still be
/// able to take in the replies the member wrote while in the community.
#[test]
fn a_removed_members_earlier_reply_still_verifies_on_a_new_peer() {
    let fx = community_fixture();
    let tref = fx.thread_ref(0x3b);
    let (doc, c1) = fx.open_thread(&tref, &fx.cast.ben);
    // Rita replies while she is a member (roster at heads[4]) ...
    let rita = &fx.cast.rita;
    let mut ritas = rita.fork(&doc);
    let c2 = signed(&tref, &rita.key, &mut ritas, 5, |tx| {
        thread::reply(tx, &post(1), "Try murals.", None, Timestamp(5_500))
    });
    let batch = [c1, c2];
    let while_member = community::roster_at(&fx.doc, &fx.heads[4]).unwrap();
    verify_and_apply(
        &tref,
        &mut Automerge::new(),
        &batch,
        &while_member,
        &fx.genesis.founder,
    )
    .unwrap();
    // ... and is removed afterwards (heads[5]). A new peer now meets the thread.
    let v = verify_doc(&fx, &tref, &mut Automerge::new(), &batch);
    assert!(v.is_ok(), "{v:?}");
}

/// A change signed at or after the member's removal is refused, by every peer that knows of
/// the removal, whenever it arrives.
#[test]
fn a_removed_members_later_change_is_refused() {
    let fx = community_fixture();
    let rita = &fx.cast.rita;
    let removed_at = fx.roster().members[&rita.id].removed_at.unwrap().0;
    assert_eq!(removed_at, 6_000);
    let tref = fx.thread_ref(0x3e);
    let (doc, c1) = fx.open_thread(&tref, &fx.cast.ben);
    for (time, allowed) in [
        (removed_at - 1, true),
        (removed_at, false),
        (removed_at + 1, false),
    ] {
        let mut ritas = rita.fork(&doc);
        let c = signed(&tref, &rita.key, &mut ritas, time, |tx| {
            thread::reply(tx, &post(2), "Still here.", None, Timestamp(time))
        });
        let verdict = verify_doc(&fx, &tref, &mut Automerge::new(), &[c1.clone(), c.clone()]);
        if allowed {
            verdict.unwrap();
        } else {
            let err = verdict.unwrap_err();
            assert_eq!(
                err,
                RejectReason::Removed {
                    doc: tref.id,
                    hash: hex(&c),
                    signer: rita.id,
                },
                "signed at {time}"
            );
            assert!(
                err.to_string().contains(&format!(
                    "signed by {} after {} was removed",
                    rita.id, rita.id
                )),
                "{err}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Every accepted change leaves its document loadable
// ---------------------------------------------------------------------------------------------

/// The document saves and loads back to the same heads (what a snapshot needs), and replays
/// from its changes alone to the same heads (what a change log needs); both read as a thread.
fn assert_loadable(doc: &Automerge, tref: &DocRef, what: &str) {
    let mut want = doc.get_heads();
    want.sort();
    let reloaded = commonplace_model::load_document(&doc.save(), &[7; 16])
        .unwrap_or_else(|e| panic!("{what}: the snapshot does not load: {e}"));
    let mut heads = reloaded.get_heads();
    heads.sort();
    assert_eq!(heads, want, "{what}: the snapshot loads with other heads");
    let mut replayed = commonplace_model::new_document(&[7; 16]);
    replayed.apply_changes(doc.get_changes(&[])).unwrap();
    let mut heads = replayed.get_heads();
    heads.sort();
    assert_eq!(heads, want, "{what}: the change log replays to other heads");
    for d in [&reloaded, &replayed] {
        thread::read(d, tref.id).unwrap_or_else(|e| panic!("{what}: unreadable: {e}"));
    }
}

/// Carl's reply with `alterations` applied to its bytes (position, xor mask) and re-signed by
/// Carl, if it still parses as a change.
fn altered_by_carl(
    fx: &CommunityFixture,
    tref: &DocRef,
    reply: &SignedChange,
    alterations: &[(usize, u8)],
) -> Option<SignedChange> {
    let mut bytes = reply.bytes.clone();
    // Past the magic bytes and checksum: the hash covers the rest.
    for (at, mask) in alterations {
        let at = 8 + at % (bytes.len() - 8);
        bytes[at] ^= (*mask).max(1);
    }
    let change = Change::from_bytes(bytes.clone()).ok()?;
    Some(SignedChange {
        bytes,
        signature: Some(tref.sign(&fx.cast.carl.key, &change.hash())),
    })
}

/// The hostile test's poisoned document: a member-signed change that Automerge applies but
/// re-encodes differently when the document is saved. Each accepted variant, judged by a
/// peer that has nothing yet and by one that holds the thread from a snapshot, must leave the
/// document loadable from its snapshot and from its log on both.
fn judge_altered(fx: &CommunityFixture, alterations: &[(usize, u8)]) -> bool {
    let (tref, _, changes) = ben_and_carl_thread(fx);
    let Some(altered) = altered_by_carl(fx, &tref, &changes[1], alterations) else {
        return false;
    };
    // A peer with nothing: the thread and the altered reply in one batch.
    let mut fresh = Automerge::new();
    let first = verify_doc(
        fx,
        &tref,
        &mut fresh,
        &[changes[0].clone(), altered.clone()],
    );
    if first.is_ok() {
        assert_loadable(&fresh, &tref, "new peer");
    }
    // A peer that holds the opening post, loaded from its snapshot.
    let mut holder = Automerge::new();
    verify_doc(fx, &tref, &mut holder, &changes[..1]).unwrap();
    let mut holder = commonplace_model::load_document(&holder.save(), &[8; 16]).unwrap();
    let second = verify_doc(fx, &tref, &mut holder, std::slice::from_ref(&altered));
    assert_eq!(first.is_ok(), second.is_ok(), "the two peers disagree");
    if second.is_ok() {
        assert_loadable(&holder, &tref, "holder");
    }
    first.is_ok()
}

#[test]
fn every_re_signed_bit_flip_that_is_accepted_leaves_the_thread_loadable() {
    let fx = community_fixture();
    let (_, _, changes) = ben_and_carl_thread(&fx);
    let len = changes[1].bytes.len();
    let (mut judged, mut accepted) = (0, 0);
    for at in 8..len {
        for bit in [0x01u8, 0x02, 0x10, 0x80] {
            let mut bytes = changes[1].bytes.clone();
            bytes[at] ^= bit;
            if Change::from_bytes(bytes).is_err() {
                continue;
            }
            judged += 1;
            if judge_altered(&fx, &[(at - 8, bit)]) {
                accepted += 1;
            }
        }
    }
    assert!(judged > 100, "only {judged} flips parsed");
    eprintln!("{judged} re-signed flips judged, {accepted} accepted, every accepted one loadable");
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 400,
        rng_seed: RngSeed::Fixed(0x0bad_c0de),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_alterations_re_signed_by_a_member_never_make_a_document_unloadable(
        alterations in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
    ) {
        let fx = community_fixture();
        judge_altered(&fx, &alterations);
    }
}

/// The hostile test's "whole bundle refused" after a demotion: making a member who has
/// written an observer must not make what they wrote before unverifiable for newcomers.
/// What they write after the change of role is refused; an observer from the start gains
/// nothing by backdating.
#[test]
fn a_member_made_observer_keeps_what_they_wrote_before() {
    let fx = community_fixture();
    let (ana, ben, olga) = (&fx.cast.ana, &fx.cast.ben, &fx.cast.olga);
    let mut anas = fx.doc.fork().with_actor(ana.actor.clone());
    let _ = signed(&fx.doc_ref, &ana.key, &mut anas, 30_000, |tx| {
        community::set_role(tx, &ben.id, Role::Observer)
    });
    let roster = community::read(&anas).unwrap().roster;
    assert_eq!(
        roster.members[&ben.id].read_only_since,
        Some(Timestamp(30_000))
    );
    let judge = |who: &Person, time: i64, seed: u8| {
        let tref = fx.thread_ref(seed);
        let mut doc = who.new_doc();
        let community = fx.id;
        let c = signed(&tref, &who.key, &mut doc, time, |tx| {
            thread::init(
                tx,
                &community,
                commonplace_model::ActivityKind::Story,
                "The night shift",
                "What we learned.",
                &[],
                Timestamp(time),
            )
        });
        verify_and_apply(
            &tref,
            &mut Automerge::new(),
            &[c],
            &roster,
            &fx.genesis.founder,
        )
    };
    judge(ben, 20_000, 0x61).expect("written before the change of role");
    let err = judge(ben, 40_000, 0x62).unwrap_err();
    assert!(
        err.to_string().contains("read only") || matches!(err, RejectReason::ReadOnly { .. }),
        "{err}"
    );
    for time in [1, 2_500, 20_000] {
        assert!(
            matches!(judge(olga, time, 0x63), Err(RejectReason::ReadOnly { .. })),
            "an observer from the start wrote at {time}"
        );
    }
}

/// Found by the `frame` fuzz target (docs/fuzzing.md): change chunks whose column data ends
/// inside a number made Automerge 0.12's `Change::from_bytes` panic (an `unwrap` in its
/// RLE decoder), so a peer's sync frame or a bundle could crash the node that verified it.
#[test]
fn change_bytes_that_make_automerge_panic_are_refused() {
    let fx = community_fixture();
    let tref = fx.thread_ref(9);
    for hex in [
        // Column data cut inside a LEB128 number.
        "856f4a83020202a2031000000001230255010000000150505050505050505050505050505c505050505050505050505050203020627120630101",
        // A run its RLE decoder cannot read (an `Option::unwrap` on `None`).
        "856f4a83020202a20310000000020102230101000001060d04360144025603550b74027b02613001010101b601696b6779203020666920610101",
    ] {
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let batch = [SignedChange {
            bytes,
            signature: None,
        }];
        let err = verify_doc(&fx, &tref, &mut Automerge::new(), &batch).unwrap_err();
        assert!(matches!(err, RejectReason::Malformed { .. }), "{err:?}");
    }
}

/// Found by the `frame` fuzz target (docs/fuzzing.md): a change of a few dozen bytes whose
/// run-length encoded columns claim millions of rows. Automerge 0.12 walks every claimed row
/// before it judges the change (seconds of CPU and gigabytes of memory for one change), so the
/// gate reads the claims first and refuses such a change before Automerge sees it.
#[test]
fn a_change_claiming_millions_of_operations_is_refused_before_automerge_reads_it() {
    use commonplace_model::chunk::{MAX_BATCH_OPS, MAX_CHANGE_OPS};
    let fx = community_fixture();
    let tref = fx.thread_ref(9);
    let rows = MAX_CHANGE_OPS + 1;
    let forged = forged_puts(rows);
    assert!(forged.len() < 128, "{} bytes", forged.len());
    let batch = [SignedChange {
        bytes: forged,
        signature: None,
    }];
    let err = verify_doc(&fx, &tref, &mut Automerge::new(), &batch).unwrap_err();
    match &err {
        RejectReason::Malformed { detail, .. } => {
            assert!(detail.contains("operations"), "{detail}")
        }
        other => panic!("expected a refusal of the claim, got {other:?}"),
    }
    // Changes within the limit for one change, but too many of them for one batch.
    let each = MAX_CHANGE_OPS;
    let batch: Vec<SignedChange> = (0..=MAX_BATCH_OPS / each)
        .map(|_| SignedChange {
            bytes: forged_puts(each),
            signature: None,
        })
        .collect();
    match verify_doc(&fx, &tref, &mut Automerge::new(), &batch).unwrap_err() {
        RejectReason::Malformed { detail, .. } => assert!(detail.contains("in all"), "{detail}"),
        other => panic!("expected a refusal of the batch's claims, got {other:?}"),
    }
}

/// A change chunk whose every column is one run of `rows` rows: `rows` puts of null on the
/// root map's key "k", as a hostile member could sign it, with a correct checksum.
fn forged_puts(rows: u64) -> Vec<u8> {
    use sha2::Digest;
    fn uleb(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    let run = |value: &[u8]| {
        let mut out = Vec::new();
        uleb(&mut out, rows); // a positive count below 2^62 reads the same as sLEB
        out.extend(value);
        out
    };
    let nulls = {
        let mut out = vec![0];
        uleb(&mut out, rows);
        out
    };
    let falses = {
        let mut out = vec![];
        uleb(&mut out, rows);
        out
    };
    let columns: Vec<(u64, Vec<u8>)> = vec![
        (0x01, nulls.clone()),   // object actor
        (0x02, nulls.clone()),   // object counter
        (0x11, nulls.clone()),   // key actor
        (0x13, nulls.clone()),   // key counter
        (0x15, run(&[1, b'k'])), // key string
        (0x34, falses),          // insert
        (0x42, run(&[1])),       // action: set
        (0x56, run(&[0])),       // value metadata: null
        (0x70, run(&[0])),       // predecessors: none
    ];
    let mut body = vec![0u8, 32];
    body.extend([9u8; 32]);
    body.extend([1, 1, 0, 0, 0]);
    body.push(columns.len() as u8);
    for (spec, data) in &columns {
        uleb(&mut body, *spec);
        uleb(&mut body, data.len() as u64);
    }
    for (_, data) in &columns {
        body.extend(data);
    }
    let mut hashed = vec![1u8];
    uleb(&mut hashed, body.len() as u64);
    hashed.extend(&body);
    let hash = sha2::Sha256::digest(&hashed);
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83];
    chunk.extend(&hash[..4]);
    chunk.extend(hashed);
    chunk
}
