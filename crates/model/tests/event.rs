//! Event documents through the verification gate: the organiser owns the details, each member
//! answers only for themself, the notes are everyone's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT, ReadDoc};
use common::{CommunityFixture, Person, community_fixture, signed};
use commonplace_base::{DocId, Timestamp};
use commonplace_model::event::{self, EventDetails};
use commonplace_model::verify::{Verified, verify_and_apply};
use commonplace_model::{
    DocKind, DocRef, EventKind, RejectReason, RsvpStatus, SignedChange, TextEdit,
};

fn details() -> EventDetails {
    EventDetails {
        kind: EventKind::Call,
        title: "Monthly practice call".into(),
        start: Timestamp(1_796_400_000_000),
        tz: "America/Toronto".into(),
        duration_min: 60,
        place: Some("https://meet.example/cpn".into()),
        agenda: "1. Round of news\n2. One case".into(),
        recur: Some("FREQ=MONTHLY;BYDAY=1TH".into()),
    }
}

fn event_ref(fx: &CommunityFixture) -> DocRef {
    DocRef {
        community: fx.id,
        kind: DocKind::Event,
        id: DocId::from_bytes([0xe0; 16]),
    }
}

fn verify(
    fx: &CommunityFixture,
    working: &mut Automerge,
    incoming: &[SignedChange],
) -> Result<Verified, RejectReason> {
    verify_and_apply(
        &event_ref(fx),
        working,
        incoming,
        &fx.roster(),
        &fx.genesis.founder,
    )
}

/// Ben (a member) organises the call: the document and its signed first change.
fn organised(fx: &CommunityFixture) -> (Automerge, SignedChange) {
    let mut doc = fx.cast.ben.new_doc();
    let community = fx.id;
    let c = signed(&event_ref(fx), &fx.cast.ben.key, &mut doc, 20, |tx| {
        event::init(tx, &community, &details(), Timestamp(20_000))
    });
    (doc, c)
}

/// A peer that already holds the event as organised.
fn peer_with(fx: &CommunityFixture, first: &SignedChange) -> Automerge {
    let mut working = fx.cast.ana.new_doc();
    verify(fx, &mut working, std::slice::from_ref(first)).unwrap();
    working
}

fn expect_not_theirs(r: Result<Verified, RejectReason>, signer: &Person) {
    match r {
        Err(RejectReason::NotTheirs { signer: s, .. }) => assert_eq!(s, signer.id),
        other => panic!("expected NotTheirs, got {other:?}"),
    }
}

#[test]
fn the_organiser_creates_and_reschedules_and_the_event_reads_back() {
    let fx = community_fixture();
    let (mut doc, first) = organised(&fx);
    let mut working = peer_with(&fx, &first);
    let mut later = details();
    later.start = Timestamp(later.start.0 + 3_600_000);
    let c = signed(&event_ref(&fx), &fx.cast.ben.key, &mut doc, 30, |tx| {
        event::update(tx, &later, Timestamp(30_000))
    });
    verify(&fx, &mut working, &[c]).unwrap();
    let read = event::read(&working, event_ref(&fx).id).unwrap();
    assert_eq!(read.organiser, Some(fx.cast.ben.id));
    assert_eq!(read.details, later);
    assert_eq!(read.updated_at, Timestamp(30_000));
}

#[test]
fn a_member_who_is_not_the_organiser_cannot_change_the_time() {
    let fx = community_fixture();
    let (doc, first) = organised(&fx);
    let mut working = peer_with(&fx, &first);
    // Carl is a coordinator, and still not the organiser.
    for who in [&fx.cast.carl, &fx.cast.ana] {
        let mut theirs = who.fork(&doc);
        let c = signed(&event_ref(&fx), &who.key, &mut theirs, 30, |tx| {
            tx.put(ROOT, "start", 0_i64)?;
            Ok(())
        });
        expect_not_theirs(verify(&fx, &mut working.clone(), &[c]), who);
    }
    // Nor cancel it, nor set a key this version does not know.
    let mut theirs = fx.cast.carl.fork(&doc);
    let c = signed(&event_ref(&fx), &fx.cast.carl.key, &mut theirs, 30, |tx| {
        event::set_cancelled(tx, true, Timestamp(30_000))
    });
    expect_not_theirs(verify(&fx, &mut working, &[c]), &fx.cast.carl);
}

#[test]
fn members_answer_for_themselves_only() {
    let fx = community_fixture();
    let (doc, first) = organised(&fx);
    let mut working = peer_with(&fx, &first);
    let occ = details().start;
    // Carl answers for himself: accepted.
    let mut carl = fx.cast.carl.fork(&doc);
    let own = signed(&event_ref(&fx), &fx.cast.carl.key, &mut carl, 30, |tx| {
        event::rsvp(tx, &fx.cast.carl.id, occ, RsvpStatus::Going)
    });
    verify(&fx, &mut working, &[own]).unwrap();
    // Carl answers for Ben: refused.
    let forged = signed(&event_ref(&fx), &fx.cast.carl.key, &mut carl, 31, |tx| {
        event::rsvp(tx, &fx.cast.ben.id, occ, RsvpStatus::No)
    });
    expect_not_theirs(verify(&fx, &mut working.clone(), &[forged]), &fx.cast.carl);
    let read = event::read(&working, event_ref(&fx).id).unwrap();
    assert_eq!(read.rsvps.len(), 1);
    assert_eq!(read.rsvps[0].member, fx.cast.carl.id);
    assert_eq!(read.rsvps[0].status, RsvpStatus::Going);
    assert_eq!(read.rsvps[0].occurrence, occ);
    // The organiser cannot answer for others either.
    let mut ben = fx.cast.ben.fork(&working);
    let forged = signed(&event_ref(&fx), &fx.cast.ben.key, &mut ben, 32, |tx| {
        event::rsvp(tx, &fx.cast.carl.id, occ, RsvpStatus::No)
    });
    expect_not_theirs(verify(&fx, &mut working, &[forged]), &fx.cast.ben);
}

#[test]
fn any_member_edits_the_notes_and_concurrent_edits_merge() {
    let fx = community_fixture();
    let (doc, first) = organised(&fx);
    let mut working = peer_with(&fx, &first);
    let mut carl = fx.cast.carl.fork(&doc);
    let mut ben = fx.cast.ben.fork(&doc);
    let a = signed(&event_ref(&fx), &fx.cast.carl.key, &mut carl, 30, |tx| {
        event::edit_notes(tx, &TextEdit::Append("Carl: lighting audit.\n".into()))
    });
    let b = signed(&event_ref(&fx), &fx.cast.ben.key, &mut ben, 30, |tx| {
        event::edit_notes(tx, &TextEdit::Append("Ben: bus shelters.\n".into()))
    });
    verify(&fx, &mut working, &[a, b]).unwrap();
    let notes = event::read(&working, event_ref(&fx).id).unwrap().notes;
    assert!(notes.contains("Carl: lighting audit."), "{notes}");
    assert!(notes.contains("Ben: bus shelters."), "{notes}");
}

#[test]
fn observers_outsiders_and_replaced_notes_are_refused() {
    let fx = community_fixture();
    let (doc, first) = organised(&fx);
    let working = peer_with(&fx, &first);
    let occ = details().start;
    // An observer may not answer.
    let mut olga = fx.cast.olga.fork(&doc);
    let c = signed(&event_ref(&fx), &fx.cast.olga.key, &mut olga, 30, |tx| {
        event::rsvp(tx, &fx.cast.olga.id, occ, RsvpStatus::Going)
    });
    assert!(matches!(
        verify(&fx, &mut working.clone(), &[c]),
        Err(RejectReason::ReadOnly { .. })
    ));
    // An outsider may not either.
    let mut mallory = fx.cast.mallory.fork(&doc);
    let c = signed(
        &event_ref(&fx),
        &fx.cast.mallory.key,
        &mut mallory,
        30,
        |tx| event::rsvp(tx, &fx.cast.mallory.id, occ, RsvpStatus::Going),
    );
    assert!(matches!(
        verify(&fx, &mut working.clone(), &[c]),
        Err(RejectReason::NotAMember { .. })
    ));
    // Nobody replaces the notes object (that would make them its organiser).
    let mut carl = fx.cast.carl.fork(&doc);
    let c = signed(&event_ref(&fx), &fx.cast.carl.key, &mut carl, 30, |tx| {
        tx.put_object(ROOT, "notes", ObjType::Text)?;
        Ok(())
    });
    expect_not_theirs(verify(&fx, &mut working.clone(), &[c]), &fx.cast.carl);
    assert_eq!(
        event::read(&working, event_ref(&fx).id).unwrap().organiser,
        Some(fx.cast.ben.id)
    );
    assert!(working.get(ROOT, "rsvp").unwrap().is_some());
}
