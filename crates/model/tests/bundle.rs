//! Bundle files with real content: a community, a thread and an entry, their changes signed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::Automerge;
use common::{CommunityFixture, community_fixture, signed};
use commonplace_base::{SecretKey, Timestamp};
use commonplace_model::bundle::{self, BundleBody, BundleDoc};
use commonplace_model::verify::verify_and_apply;
use commonplace_model::{
    BundleError, DocKind, DocRef, EntryKind, RejectReason, Roster, community, entry, thread,
};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

struct Exported {
    fx: CommunityFixture,
    body: BundleBody,
    thread: (DocRef, Automerge),
    entry: (DocRef, Automerge),
}

fn exported() -> Exported {
    let fx = community_fixture();
    let tref = fx.thread_ref(0x70);
    let (mut tdoc, t1) = fx.open_thread(&tref, &fx.cast.ben);
    let mut carls = fx.cast.carl.fork(&tdoc);
    let t2 = signed(&tref, &fx.cast.carl.key, &mut carls, 11, |tx| {
        thread::reply(
            tx,
            &commonplace_base::PostId::from_bytes([1; 16]),
            "Motion lights. ✨",
            None,
            Timestamp(11_000),
        )
    });
    tdoc.merge(&mut carls).unwrap();

    let eref = fx.entry_ref(0x71);
    let mut edoc = fx.cast.ana.new_doc();
    let community = fx.id;
    let e1 = signed(&eref, &fx.cast.ana.key, &mut edoc, 12, |tx| {
        entry::init(
            tx,
            &community,
            EntryKind::Lesson,
            "Lights beat cameras",
            "Motion lights stopped the damage.",
            &["lighting".to_owned()],
            None,
            Timestamp(12_000),
        )
    });
    let body = BundleBody {
        genesis: fx.genesis,
        created_at: Timestamp(1_700_000_000_000),
        docs: vec![
            BundleDoc {
                id: fx.doc_ref.id,
                kind: DocKind::Community,
                changes: fx.changes.clone(),
            },
            BundleDoc {
                id: tref.id,
                kind: DocKind::Thread,
                changes: vec![t1, t2],
            },
            BundleDoc {
                id: eref.id,
                kind: DocKind::Entry,
                changes: vec![e1],
            },
        ],
    };
    Exported {
        fx,
        body,
        thread: (tref, tdoc),
        entry: (eref, edoc),
    }
}

/// Verifies a decoded bundle's documents the way an importer does: the community document
/// first, then the rest against its roster.
fn import(body: &BundleBody) -> Result<Vec<(DocRef, Automerge)>, RejectReason> {
    let id = body.genesis.community_id();
    let mut out = Vec::new();
    let cref = DocRef::community(id);
    let cdoc_changes = &body.docs.iter().find(|d| d.id == cref.id).unwrap().changes;
    let mut cdoc = Automerge::new();
    verify_and_apply(
        &cref,
        &mut cdoc,
        cdoc_changes,
        &Roster::default(),
        &body.genesis.founder,
    )?;
    let roster = community::read(&cdoc).unwrap().roster;
    out.push((cref, cdoc));
    for d in body.docs.iter().filter(|d| d.id != cref.id) {
        let doc_ref = DocRef {
            community: id,
            kind: d.kind,
            id: d.id,
        };
        let mut doc = Automerge::new();
        verify_and_apply(
            &doc_ref,
            &mut doc,
            &d.changes,
            &roster,
            &body.genesis.founder,
        )?;
        out.push((doc_ref, doc));
    }
    Ok(out)
}

#[test]
fn a_real_bundle_round_trips_and_its_changes_verify() {
    let ex = exported();
    let key = &ex.fx.cast.ana.key;
    let bytes = bundle::encode(&ex.body, key).unwrap();
    assert_eq!(&bytes[..16], b"COMMONPLACE-BNDL");
    let back = bundle::decode(&bytes).unwrap();
    assert_eq!(back.exporter, ex.fx.cast.ana.id);
    assert_eq!(back.body, ex.body);
    // Encoding is deterministic.
    assert_eq!(bundle::encode(&back.body, key).unwrap(), bytes);

    let docs = import(&back.body).unwrap();
    assert_eq!(docs.len(), 3);
    assert_eq!(
        community::read(&docs[0].1).unwrap(),
        community::read(&ex.fx.doc).unwrap()
    );
    let (tref, tdoc) = &ex.thread;
    assert_eq!(docs[1].0, *tref);
    assert_eq!(
        thread::read(&docs[1].1, tref.id).unwrap(),
        thread::read(tdoc, tref.id).unwrap()
    );
    let (eref, edoc) = &ex.entry;
    assert_eq!(
        entry::read(&docs[2].1, eref.id).unwrap(),
        entry::read(edoc, eref.id).unwrap()
    );
}

#[test]
fn a_bundle_resealed_by_someone_else_still_carries_verifiable_changes() {
    // The outer signature names who exported the file; it proves nothing about the changes.
    let ex = exported();
    let ben = &ex.fx.cast.ben.key;
    let bytes = bundle::encode(&ex.body, ben).unwrap();
    let back = bundle::decode(&bytes).unwrap();
    assert_eq!(back.exporter, ex.fx.cast.ben.id);
    assert!(import(&back.body).is_ok());
}

#[test]
fn a_resealed_bundle_with_a_forged_change_decodes_but_does_not_verify() {
    let ex = exported();
    let mut body = ex.body.clone();
    body.docs[1].changes[1].signature.as_mut().unwrap().0[3] ^= 0x10;
    let bytes = bundle::encode(&body, &SecretKey::from_seed([0x99; 32])).unwrap();
    let back = bundle::decode(&bytes).unwrap();
    let err = import(&back.body).unwrap_err();
    assert!(
        matches!(err, RejectReason::BadSignature { signer, .. } if signer == ex.fx.cast.carl.id),
        "{err:?}"
    );
}

#[test]
fn header_damage_is_named() {
    let ex = exported();
    let bytes = bundle::encode(&ex.body, &ex.fx.cast.ana.key).unwrap();

    let mut magic = bytes.clone();
    magic[0] = b'X';
    assert_eq!(bundle::decode(&magic).unwrap_err(), BundleError::NotABundle);

    let mut version = bytes.clone();
    version[16..20].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(
        bundle::decode(&version).unwrap_err(),
        BundleError::Version(2)
    );

    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        bundle::decode(&longer).unwrap_err(),
        BundleError::Truncated(_)
    ));

    let mut body_byte = bytes.clone();
    let mid = 60 + (bytes.len() - 60 - 64) / 2;
    body_byte[mid] ^= 0x01;
    assert_eq!(
        bundle::decode(&body_byte).unwrap_err(),
        BundleError::BadSignature {
            exporter: ex.fx.cast.ana.id
        }
    );

    let mut huge = bytes.clone();
    huge[52..60].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        bundle::decode(&huge).unwrap_err(),
        BundleError::TooLarge(_)
    ));
}

#[test]
fn every_truncation_of_a_real_bundle_is_refused() {
    let ex = exported();
    let bytes = bundle::encode(&ex.body, &ex.fx.cast.ana.key).unwrap();
    for n in 0..bytes.len() {
        assert!(
            bundle::decode(&bytes[..n]).is_err(),
            "prefix of {n} bytes accepted"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x00b0_d1e5),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_flipped_bit_of_a_real_bundle_is_refused(at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let ex = exported();
        let mut bytes = bundle::encode(&ex.body, &ex.fx.cast.ana.key).unwrap();
        let at = at.index(bytes.len());
        bytes[at] ^= 1 << bit;
        prop_assert!(bundle::decode(&bytes).is_err(), "flip at {} of {} accepted", at, bytes.len());
    }
}
