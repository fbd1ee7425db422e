//! The ingest gate: the three ways a peer's changes come in — a bundle (`Node::import`), a
//! sync session (`Node::sync_receive`) and the carried changes of a live announcement
//! (`Node::ingest_carried`, what the live-update actor calls) — give the same verdict on the
//! same hostile change, and a refused batch leaves the store as it was.
//!
//! Sync sessions run in process here: the hostile side is a correct `Session` over an
//! in-memory replica holding the bad change, its frames handed straight to the honest node.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::transaction::CommitOptions;
use automerge::{ActorId, Automerge, Change, ChangeHash, ReadDoc};
use common::node;
use commonplace_base::{CommunityId, DocId, MemberId, PostId, SecretKey, Timestamp, actor};
use commonplace_model::bundle::{self, BundleBody, BundleDoc};
use commonplace_model::verify::verify_and_apply;
use commonplace_model::{
    ActivityKind, DocKind, DocRef, RejectReason, Role, SignedChange, new_document, thread,
};
use commonplace_node::{NewCommunity, NewThread, Node, NodeError};
use commonplace_sync::memory::MemoryReplica;
use commonplace_sync::{Frame, Session, SessionError};
use commonplace_testkit::forge;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn mal_key() -> SecretKey {
    SecretKey::from_seed([0x4d; 32])
}
fn removed_key() -> SecretKey {
    SecretKey::from_seed([0x52; 32])
}
fn outsider_key() -> SecretKey {
    SecretKey::from_seed([0x0e; 32])
}

/// Ana founds a community with Bea and Mal as members (and Rem, added and removed again);
/// Bea holds it from Ana's bundle. Bea is the node every attack is aimed at.
struct World {
    _root: tempfile::TempDir,
    ana: Node,
    bea: Node,
    c: CommunityId,
}

fn world() -> World {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let bea = node(root.path(), "bea");
    let c = ana
        .create_community(&NewCommunity {
            name: "Engineers".into(),
            ..Default::default()
        })
        .unwrap();
    ana.add_member(&c, &bea.member_id(), "Bea", Role::Member)
        .unwrap();
    ana.add_member(&c, &mal_key().member_id(), "Mal", Role::Member)
        .unwrap();
    ana.add_member(&c, &removed_key().member_id(), "Rem", Role::Member)
        .unwrap();
    ana.remove_member(&c, &removed_key().member_id()).unwrap();
    ana.create_thread(
        &c,
        &NewThread {
            activity: ActivityKind::Problem,
            title: "Corrosion".into(),
            body: "Pipes fail early.".into(),
            tags: vec![],
        },
    )
    .unwrap();
    bea.import(&ana.export(&c).unwrap()).unwrap();
    World {
        _root: root,
        ana,
        bea,
        c,
    }
}

/// Every document of the community as the node stores it, with its changes.
fn stored(n: &Node, c: &CommunityId) -> Vec<(DocId, DocKind, Vec<Vec<u8>>)> {
    bundle::decode(&n.export(c).unwrap())
        .unwrap()
        .body
        .docs
        .into_iter()
        .map(|d| {
            (
                d.id,
                d.kind,
                d.changes.into_iter().map(|c| c.bytes).collect(),
            )
        })
        .collect()
}

/// A new thread whose change names `author` as its actor, is dated `time` and is signed by
/// `signer`.
fn thread_change(
    c: CommunityId,
    author: &MemberId,
    signer: &SecretKey,
    time: i64,
    seed: u64,
) -> (DocRef, SignedChange) {
    let mut rng = StdRng::seed_from_u64(seed);
    let doc = DocRef {
        community: c,
        kind: DocKind::Thread,
        id: DocId::random(&mut rng),
    };
    let mut am = new_document(&actor::new_actor(author, &mut rng));
    let hash = am
        .transact_with(
            |_| CommitOptions::default().with_time(time),
            |tx| {
                thread::init(
                    tx,
                    &c,
                    ActivityKind::Discussion,
                    "Buy cheap watches",
                    "spam",
                    &[],
                    Timestamp(time),
                )
            },
        )
        .unwrap()
        .hash
        .unwrap();
    let change = am.get_change_by_hash(&hash).unwrap();
    (
        doc,
        SignedChange {
            bytes: change.raw_bytes().to_vec(),
            signature: Some(doc.sign(signer, &hash)),
        },
    )
}

/// Mal's thread with one bit of its change flipped and re-signed by Mal, such that Automerge
/// applies it but would not reproduce it on saving: the first such flip found.
/// Returns the thread, the altered change and the genuine one.
fn unreproducible(w: &World) -> (DocRef, SignedChange, SignedChange) {
    let (doc, good) = thread_change(w.c, &mal_key().member_id(), &mal_key(), 1_000, 0x75);
    let c = w.ana.community(&w.c).unwrap();
    for at in 8..good.bytes.len() {
        for bit in [0x01u8, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80] {
            let mut bytes = good.bytes.clone();
            bytes[at] ^= bit;
            let Ok(change) = Change::from_bytes(bytes.clone()) else {
                continue;
            };
            let altered = SignedChange {
                bytes,
                signature: Some(doc.sign(&mal_key(), &change.hash())),
            };
            let verdict = verify_and_apply(
                &doc,
                &mut Automerge::new(),
                std::slice::from_ref(&altered),
                &c.roster,
                &c.genesis.founder,
            );
            if matches!(verdict, Err(RejectReason::NotReproducible { .. })) {
                return (doc, altered, good);
            }
        }
    }
    panic!("no flip of the thread's change is applied yet not reproduced");
}

/// The verdict of `Node::import` on Ana's bundle with `doc` added (and sealed by Mal).
fn by_import(w: &World, doc: &DocRef, changes: &[SignedChange]) -> Option<RejectReason> {
    let mut body: BundleBody = forge::open(&w.ana.export(&w.c).unwrap());
    body.docs.push(BundleDoc {
        id: doc.id,
        kind: doc.kind,
        changes: changes.to_vec(),
    });
    match w.bea.import(&forge::seal(&body, &mal_key())) {
        Ok(_) => None,
        Err(NodeError::Rejected(r)) => Some(r),
        Err(e) => panic!("import failed otherwise: {e}"),
    }
}

/// The verdict of the live path on the changes carried by an announcement of `doc`.
fn by_announcement(w: &World, doc: &DocRef, changes: &[SignedChange]) -> Option<RejectReason> {
    match w.bea.ingest_carried(doc, changes) {
        Ok(_) => None,
        Err(NodeError::Rejected(r)) => Some(r),
        Err(e) => panic!("the announcement failed otherwise: {e}"),
    }
}

/// The verdict of a sync session with Mal, whose replica holds Ana's documents and `doc`
/// (with `stand_in` changes: Automerge will not build a sync message for a document holding
/// a change it does not reproduce, so Mal's frames for `doc` carry `changes` instead): the
/// refusal that ended the session, or the one that left `doc` out of it.
fn by_sync(
    w: &World,
    doc: &DocRef,
    changes: &[SignedChange],
    stand_in: &[SignedChange],
) -> Option<RejectReason> {
    let mut r = MemoryReplica::default();
    for d in forge::open(&w.ana.export(&w.c).unwrap()).docs {
        let doc = DocRef {
            community: w.c,
            kind: d.kind,
            id: d.id,
        };
        insert(&mut r, &doc, &d.changes);
    }
    insert(&mut r, doc, stand_in);
    let mal = mal_key().member_id();
    let (mut ms, hello_m) = Session::start(w.c, w.bea.member_id(), &mut r).unwrap();
    let (mut bs, hello_b) = w.bea.start_sync(&w.c, &mal).unwrap();
    let (mut to_bea, mut to_mal): (Vec<Frame>, Vec<Frame>) = (vec![hello_m], vec![hello_b]);
    for _ in 0..200 {
        if to_bea.is_empty() && to_mal.is_empty() {
            break;
        }
        let mut next_mal = Vec::new();
        for f in to_bea.drain(..) {
            match w.bea.sync_receive(&mut bs, f) {
                Ok(out) => next_mal.extend(out),
                Err(SessionError::Rejected(reason)) => return Some(reason),
                Err(e) => panic!("the session failed otherwise: {e}"),
            }
        }
        let mut next_bea = Vec::new();
        for f in to_mal.drain(..) {
            next_bea.extend(ms.receive(f, &mut r).unwrap().into_iter().map(|f| match f {
                Frame::Sync {
                    doc: d,
                    kind,
                    message,
                    changes: carried,
                } if d == doc.id && !carried.is_empty() => Frame::Sync {
                    doc: d,
                    kind,
                    message,
                    changes: changes.to_vec(),
                },
                f => f,
            }));
        }
        to_bea = next_bea;
        to_mal = next_mal;
    }
    assert!(bs.is_done(), "the session did not finish");
    bs.refused_docs()
        .find(|(d, _)| **d == doc.id)
        .map(|(_, reason)| reason.clone())
}

/// Puts a document with its changes (and their signatures) into the in-memory replica,
/// without verifying them: this is the hostile side.
fn insert(r: &mut MemoryReplica, doc: &DocRef, changes: &[SignedChange]) {
    let mut am = new_document(&[0; 48]);
    let mut sigs = Vec::new();
    let mut decoded = Vec::new();
    for sc in changes {
        let ch = Change::from_bytes(sc.bytes.clone()).unwrap();
        if let Some(s) = sc.signature {
            sigs.push((ch.hash(), s));
        }
        decoded.push(ch);
    }
    am.apply_changes(decoded).unwrap();
    r.insert(doc, am, sigs);
}

/// Runs the three ways in on the same input; each must refuse it the same way and store
/// nothing. Returns the verdict.
fn same_verdict_everywhere(w: &World, doc: &DocRef, changes: &[SignedChange]) -> RejectReason {
    same_verdict_with_stand_in(w, doc, changes, changes)
}

/// [`same_verdict_everywhere`], with Mal's sync replica holding `stand_in` (see [`by_sync`]).
fn same_verdict_with_stand_in(
    w: &World,
    doc: &DocRef,
    changes: &[SignedChange],
    stand_in: &[SignedChange],
) -> RejectReason {
    let before = stored(&w.bea, &w.c);
    let verdicts = [
        ("import", by_import(w, doc, changes)),
        ("sync", by_sync(w, doc, changes, stand_in)),
        ("announcement", by_announcement(w, doc, changes)),
    ];
    let first = verdicts[0].1.clone().expect("import accepted it");
    for (way, v) in &verdicts {
        let v = v
            .as_ref()
            .unwrap_or_else(|| panic!("{way} accepted what import refused ({first})"));
        assert_eq!(
            std::mem::discriminant(v),
            std::mem::discriminant(&first),
            "{way} refused with {v}, import with {first}"
        );
        assert_eq!(stored(&w.bea, &w.c), before, "{way} stored something");
    }
    first
}

#[test]
fn a_forged_signature_is_refused_the_same_by_every_way_in() {
    let w = world();
    let (doc, mut change) = thread_change(w.c, &mal_key().member_id(), &mal_key(), 1_000, 1);
    change.signature.as_mut().unwrap().0[7] ^= 0x01;
    let v = same_verdict_everywhere(&w, &doc, &[change]);
    assert!(matches!(v, RejectReason::BadSignature { .. }), "{v}");
}

#[test]
fn a_non_members_change_is_refused_the_same_by_every_way_in() {
    let w = world();
    let outsider = outsider_key();
    let (doc, change) = thread_change(w.c, &outsider.member_id(), &outsider, 1_000, 2);
    let v = same_verdict_everywhere(&w, &doc, &[change]);
    assert!(matches!(v, RejectReason::NotAMember { .. }), "{v}");
}

#[test]
fn a_removed_members_change_after_removal_is_refused_the_same_by_every_way_in() {
    let w = world();
    let rem = removed_key();
    let after = Timestamp::now().0 + 60_000;
    let (doc, change) = thread_change(w.c, &rem.member_id(), &rem, after, 3);
    let v = same_verdict_everywhere(&w, &doc, &[change]);
    assert!(matches!(v, RejectReason::Removed { .. }), "{v}");
}

#[test]
fn an_unreproducible_change_is_refused_the_same_by_every_way_in() {
    let w = world();
    let (doc, change, good) = unreproducible(&w);
    let v = same_verdict_with_stand_in(&w, &doc, &[change], &[good]);
    assert!(matches!(v, RejectReason::NotReproducible { .. }), "{v}");
}

#[test]
fn an_honest_change_is_taken_by_every_way_in() {
    // The control: what the gate refuses above is refused for what it is, not for the way
    // the tests deliver it.
    let w = world();
    let mal = mal_key();
    let (doc, change) = thread_change(w.c, &mal.member_id(), &mal, 1_000, 4);
    assert_eq!(by_import(&w, &doc, std::slice::from_ref(&change)), None);
    let (doc, change) = thread_change(w.c, &mal.member_id(), &mal, 1_000, 5);
    let one = std::slice::from_ref(&change);
    assert_eq!(by_sync(&w, &doc, one, one), None);
    let (doc, change) = thread_change(w.c, &mal.member_id(), &mal, 1_000, 6);
    assert_eq!(
        by_announcement(&w, &doc, std::slice::from_ref(&change)),
        None
    );
    let ids: Vec<DocId> = stored(&w.bea, &w.c).into_iter().map(|d| d.0).collect();
    assert_eq!(
        ids.len(),
        2 + 3,
        "community, Ana's thread and the three new threads"
    );
}

#[test]
fn a_refused_bundle_stores_none_of_its_good_documents() {
    let w = world();
    let mal = mal_key();
    let outsider = outsider_key();
    let before = stored(&w.bea, &w.c);
    let mut body = forge::open(&w.ana.export(&w.c).unwrap());
    // A good thread by a member, and then a non-member's: the whole bundle is refused.
    for (key, seed) in [(&mal, 7), (&outsider, 8)] {
        let (doc, change) = thread_change(w.c, &key.member_id(), key, 1_000, seed);
        body.docs.push(BundleDoc {
            id: doc.id,
            kind: doc.kind,
            changes: vec![change],
        });
    }
    let err = w.bea.import(&forge::seal(&body, &mal)).unwrap_err();
    assert!(
        matches!(err, NodeError::Rejected(RejectReason::NotAMember { .. })),
        "{err}"
    );
    assert_eq!(stored(&w.bea, &w.c), before);
}

/// Stricter than before the gate: an import verified each copy of a document named twice
/// against the same stored state and stored both as separate writes, the second hiding the
/// first's heads. Now the batch is refused and nothing stored.
#[test]
fn a_bundle_naming_a_document_twice_is_refused() {
    let w = world();
    let mal = mal_key();
    let before = stored(&w.bea, &w.c);
    let (doc, change) = thread_change(w.c, &mal.member_id(), &mal, 1_000, 9);
    let mut body = forge::open(&w.ana.export(&w.c).unwrap());
    // The same thread twice, the second copy with a reply the first does not have.
    let mut am = new_document(&actor::new_actor(
        &mal.member_id(),
        &mut StdRng::seed_from_u64(10),
    ));
    am.apply_changes([Change::from_bytes(change.bytes.clone()).unwrap()])
        .unwrap();
    am.set_actor(ActorId::from(
        actor::new_actor(&mal.member_id(), &mut StdRng::seed_from_u64(11)).as_slice(),
    ));
    let reply: ChangeHash = am
        .transact_with(
            |_| CommitOptions::default().with_time(2_000),
            |tx| {
                let post = PostId::random(&mut StdRng::seed_from_u64(12));
                thread::reply(tx, &post, "Two copies", None, Timestamp(2_000))
            },
        )
        .unwrap()
        .hash
        .unwrap();
    let reply = SignedChange {
        bytes: am.get_change_by_hash(&reply).unwrap().raw_bytes().to_vec(),
        signature: Some(doc.sign(&mal, &reply)),
    };
    for changes in [vec![change.clone()], vec![change, reply]] {
        body.docs.push(BundleDoc {
            id: doc.id,
            kind: doc.kind,
            changes,
        });
    }
    let err = w.bea.import(&forge::seal(&body, &mal)).unwrap_err();
    assert!(
        matches!(err, NodeError::Rejected(RejectReason::Malformed { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("named twice"), "{err}");
    assert_eq!(stored(&w.bea, &w.c), before);
}

#[test]
fn a_misnamed_community_document_is_refused_by_every_way_in() {
    let w = world();
    let mal = mal_key();
    let (doc, change) = thread_change(w.c, &mal.member_id(), &mal, 1_000, 12);
    let before = stored(&w.bea, &w.c);
    // A thread sent as if it were a community document.
    let as_community = DocRef {
        kind: DocKind::Community,
        ..doc
    };
    let v = by_announcement(&w, &as_community, std::slice::from_ref(&change)).unwrap();
    assert!(matches!(v, RejectReason::KindMismatch { .. }), "{v}");
    let v = by_import(&w, &as_community, std::slice::from_ref(&change)).unwrap();
    assert!(matches!(v, RejectReason::KindMismatch { .. }), "{v}");
    assert_eq!(stored(&w.bea, &w.c), before);
}
