//! Hostile bundles. Each builder starts from a genuine bundle and produces one that a correct
//! verifier must refuse, re-signing the outer envelope so the refusal comes from the change
//! checks, not from the file's own signature.

use automerge::{Automerge, Change, ReadDoc, transaction::CommitOptions};
use commonplace_base::{DocId, SecretKey, Timestamp, actor};
use commonplace_model::bundle::{self, BundleBody, BundleDoc};
use commonplace_model::{
    ActivityKind, DocKind, DocRef, Role, SignedChange, community, new_document, thread,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Decodes a genuine bundle (panics if it is not one).
pub fn open(bytes: &[u8]) -> BundleBody {
    bundle::decode(bytes).expect("genuine bundle").body
}

/// Re-encodes a body, signed by `exporter`.
pub fn seal(body: &BundleBody, exporter: &SecretKey) -> Vec<u8> {
    bundle::encode(body, exporter).expect("encode")
}

fn rebuild(doc: &BundleDoc) -> Automerge {
    let mut d = Automerge::new();
    let changes: Vec<Change> = doc
        .changes
        .iter()
        .map(|c| Change::from_bytes(c.bytes.clone()).expect("genuine change"))
        .collect();
    d.apply_changes(changes).expect("apply");
    d
}

fn community_doc(body: &BundleBody) -> &BundleDoc {
    body.docs
        .iter()
        .find(|d| d.kind == DocKind::Community)
        .expect("community document")
}

/// A new thread written and signed by `signer` (who need not be a member), appended to the
/// bundle.
pub fn thread_by(body: &BundleBody, signer: &SecretKey, seed: u64) -> BundleBody {
    let mut rng = StdRng::seed_from_u64(seed);
    let community = body.genesis.community_id();
    let id = DocId::random(&mut rng);
    let doc_ref = DocRef {
        community,
        kind: DocKind::Thread,
        id,
    };
    let mut doc = new_document(&actor::new_actor(&signer.member_id(), &mut rng));
    let hash = doc
        .transact_with(
            |_| CommitOptions::default().with_time(1),
            |tx| {
                thread::init(
                    tx,
                    &community,
                    ActivityKind::Discussion,
                    "Buy cheap watches",
                    "spam",
                    &[],
                    Timestamp(1),
                )
            },
        )
        .expect("write")
        .hash
        .expect("a change");
    let change = doc.get_change_by_hash(&hash).expect("change");
    let mut out = body.clone();
    out.docs.push(BundleDoc {
        id,
        kind: DocKind::Thread,
        changes: vec![SignedChange {
            bytes: change.raw_bytes().to_vec(),
            signature: Some(doc_ref.sign(signer, &hash)),
        }],
    });
    out
}

/// A roster change by `signer` making `signer` a coordinator, signed by `signer`.
pub fn self_promotion(body: &BundleBody, signer: &SecretKey, seed: u64) -> BundleBody {
    let mut rng = StdRng::seed_from_u64(seed);
    let cdoc = community_doc(body);
    let community_id = body.genesis.community_id();
    let doc_ref = DocRef::community(community_id);
    let mut doc = rebuild(cdoc).with_actor(automerge::ActorId::from(
        actor::new_actor(&signer.member_id(), &mut rng).as_slice(),
    ));
    let me = signer.member_id();
    let hash = doc
        .transact_with(
            |_| CommitOptions::default().with_time(2),
            |tx| {
                community::put_member(
                    tx,
                    &me,
                    "Mallory",
                    Role::Coordinator,
                    None,
                    None,
                    Timestamp(2),
                )
            },
        )
        .expect("write")
        .hash
        .expect("a change");
    let change = doc.get_change_by_hash(&hash).expect("change");
    let mut out = body.clone();
    for d in &mut out.docs {
        if d.kind == DocKind::Community {
            d.changes.push(SignedChange {
                bytes: change.raw_bytes().to_vec(),
                signature: Some(doc_ref.sign(signer, &hash)),
            });
        }
    }
    out
}

/// The bundle with one signature byte of the first change of document `doc` flipped. (A
/// forged signature on a change the importer already holds changes nothing, so tests should
/// target a document the importer does not have yet.)
pub fn forged_signature(body: &BundleBody, doc: &DocId) -> BundleBody {
    let mut out = body.clone();
    let d = doc_mut(&mut out, doc);
    let sig = d.changes[0].signature.as_mut().expect("signed");
    sig.0[7] ^= 0x01;
    out
}

/// The bundle with one byte inside the first change of document `doc` flipped (the
/// signature kept).
pub fn tampered_change(body: &BundleBody, doc: &DocId) -> BundleBody {
    let mut out = body.clone();
    let d = doc_mut(&mut out, doc);
    let bytes = &mut d.changes[0].bytes;
    let at = bytes.len() - 3;
    bytes[at] ^= 0x20;
    out
}

fn doc_mut<'a>(body: &'a mut BundleBody, doc: &DocId) -> &'a mut BundleDoc {
    body.docs
        .iter_mut()
        .find(|d| d.id == *doc)
        .expect("document in the bundle")
}

/// A thread whose change's actor names `claimed` but which is signed by `signer`.
pub fn mismatched_actor(
    body: &BundleBody,
    claimed: &SecretKey,
    signer: &SecretKey,
    seed: u64,
) -> BundleBody {
    let mut out = thread_by(body, claimed, seed);
    let community = body.genesis.community_id();
    let d = out.docs.last_mut().expect("the forged thread");
    let doc_ref = DocRef {
        community,
        kind: DocKind::Thread,
        id: d.id,
    };
    let change = Change::from_bytes(d.changes[0].bytes.clone()).expect("change");
    d.changes[0].signature = Some(doc_ref.sign(signer, &change.hash()));
    out
}
