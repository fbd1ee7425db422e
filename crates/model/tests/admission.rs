//! Admission by any member's node (`admission`): a member adds the holder of a coordinator's
//! invitation to the roster, and every peer can tell a valid admission from a member who
//! writes the roster on their own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::transaction::Transactable;
use automerge::{Automerge, ROOT, ScalarValue};
use common::{CommunityFixture, Person, community_fixture, hash_of, signed};
use commonplace_base::Timestamp;
use commonplace_model::admission::{self, Admission};
use commonplace_model::invite::{Invitation, SignedInvitation};
use commonplace_model::verify::verify_and_apply;
use commonplace_model::{RejectReason, Role, Roster, SignedChange, community};

fn verify(fx: &CommunityFixture, incoming: &[SignedChange]) -> Result<Automerge, RejectReason> {
    let mut working = fx.doc.fork();
    verify_and_apply(
        &fx.doc_ref,
        &mut working,
        incoming,
        &Roster::default(),
        &fx.genesis.founder,
    )?;
    Ok(working)
}

fn invitation(fx: &CommunityFixture, issuer: &Person, role: Role, secret: u8) -> SignedInvitation {
    SignedInvitation::sign(
        Invitation {
            community: fx.id,
            community_name: "Crime Prevention Network".into(),
            issuer: issuer.id,
            role,
            expires_at: Timestamp(100_000),
            secret: [secret; 16],
            inviter_addr: vec![1, 2, 3],
        },
        &issuer.key,
    )
    .unwrap()
}

/// Ben (a member) admits `newcomer` with `inv`, at `time`.
fn admitted_by(
    fx: &CommunityFixture,
    by: &Person,
    inv: &SignedInvitation,
    newcomer: &Person,
    time: i64,
) -> SignedChange {
    let mut doc = by.fork(&fx.doc);
    let a = Admission {
        invitation: inv.clone(),
        member: newcomer.id,
    };
    signed(&fx.doc_ref, &by.key, &mut doc, time, |tx| {
        admission::admit(tx, &a, newcomer.name, Timestamp(time))
    })
}

fn not_theirs(fx: &CommunityFixture, c: &SignedChange, by: &Person, detail: &str) {
    match verify(fx, std::slice::from_ref(c)).unwrap_err() {
        RejectReason::NotTheirs {
            doc,
            hash,
            signer,
            detail: d,
        } => {
            assert_eq!(
                (doc, hash, signer),
                (fx.doc_ref.id, hash_of(c).to_string(), by.id)
            );
            assert!(d.contains(detail), "{d}");
        }
        other => panic!("expected NotTheirs({detail}), got {other:?}"),
    }
}

#[test]
fn a_member_admits_the_holder_of_a_coordinators_invitation() {
    let fx = community_fixture();
    let (ben, dana) = (&fx.cast.ben, Person::new("Dana Whyte", 9));
    let inv = invitation(&fx, &fx.cast.ana, Role::Member, 1);
    let c = admitted_by(&fx, ben, &inv, &dana, 10);
    let doc = verify(&fx, &[c]).unwrap();
    let roster = community::read(&doc).unwrap().roster;
    let d = &roster.members[&dana.id];
    assert_eq!(
        (d.role, d.name.as_str(), d.added_by),
        (Role::Member, "Dana Whyte", Some(ben.id))
    );
    assert!(admission::used(&doc, &inv.id()));
    // An invitation from a coordinator appointed later (Carl) works too, for any role it names.
    let carl_inv = invitation(&fx, &fx.cast.carl, Role::Coordinator, 2);
    let eve = Person::new("Eve Lund", 10);
    verify(&fx, &[admitted_by(&fx, ben, &carl_inv, &eve, 11)]).unwrap();
}

#[test]
fn the_invitation_decides_who_may_be_admitted_and_how() {
    let fx = community_fixture();
    let (ben, dana) = (&fx.cast.ben, Person::new("Dana Whyte", 9));
    // Signed by a member, not a coordinator.
    let by_ben = invitation(&fx, ben, Role::Member, 1);
    not_theirs(
        &fx,
        &admitted_by(&fx, ben, &by_ben, &dana, 10),
        ben,
        "issuer was not a coordinator",
    );
    // Forged: the role raised after signing.
    let mut forged = invitation(&fx, &fx.cast.ana, Role::Member, 2);
    forged.invitation.role = Role::Coordinator;
    not_theirs(
        &fx,
        &admitted_by(&fx, ben, &forged, &dana, 10),
        ben,
        "signature",
    );
    // Dated after the expiry.
    let inv = invitation(&fx, &fx.cast.ana, Role::Member, 3);
    not_theirs(
        &fx,
        &admitted_by(&fx, ben, &inv, &dana, 100_001),
        ben,
        "expired",
    );
    // For another community.
    let mut other = invitation(&fx, &fx.cast.ana, Role::Member, 4).invitation;
    other.community = commonplace_base::CommunityId::from_bytes([9; 16]);
    let other = SignedInvitation::sign(other, &fx.cast.ana.key).unwrap();
    not_theirs(
        &fx,
        &admitted_by(&fx, ben, &other, &dana, 10),
        ben,
        "another community",
    );
}

#[test]
fn an_admission_may_do_nothing_else() {
    let fx = community_fixture();
    let (ben, dana) = (&fx.cast.ben, Person::new("Dana Whyte", 9));
    let inv = invitation(&fx, &fx.cast.ana, Role::Member, 1);
    let record = |member: &Person| {
        ScalarValue::Bytes(
            postcard::to_stdvec(&Admission {
                invitation: inv.clone(),
                member: member.id,
            })
            .unwrap(),
        )
    };
    let key = format!("{}{}", admission::PREFIX, inv.id());
    let dana_in = Admission {
        invitation: inv.clone(),
        member: dana.id,
    };
    let admit_dana = |tx: &mut automerge::transaction::Transaction<'_>| {
        admission::admit(tx, &dana_in, dana.name, Timestamp(10))
    };
    let attempt = |f: &dyn Fn(
        &mut automerge::transaction::Transaction<'_>,
    ) -> Result<(), commonplace_model::SchemaError>| {
        let mut doc = ben.fork(&fx.doc);
        signed(&fx.doc_ref, &ben.key, &mut doc, 10, f)
    };
    // ...promote Ben himself on the way.
    let c = attempt(&|tx| {
        admit_dana(tx)?;
        community::set_role(tx, &ben.id, Role::Coordinator)
    });
    not_theirs(&fx, &c, ben, "roster entry of");
    // ...change the charter.
    let c = attempt(&|tx| {
        admit_dana(tx)?;
        let mut ch = common::charter();
        ch.name = "Ben's network".into();
        community::write_charter(tx, &ch)
    });
    not_theirs(&fx, &c, ben, "changes 'charter'");
    // ...give the newcomer another role than the invitation's.
    // A hand-made admission: `who` entered with `role`, Dana's record beside it.
    let by_hand = |who: &Person, role: Role| {
        attempt(&|tx| {
            community::put_member(tx, &who.id, who.name, role, None, None, Timestamp(10))?;
            tx.put(ROOT, key.as_str(), record(&dana))?;
            Ok(())
        })
    };
    let c = by_hand(&dana, Role::Coordinator);
    not_theirs(&fx, &c, ben, "role is not the invitation's");
    // ...admit one member and record another.
    let eve = Person::new("Eve Lund", 10);
    let c = by_hand(&eve, Role::Member);
    not_theirs(&fx, &c, ben, "another member");
    // ...admit two.
    let c = attempt(&|tx| {
        admit_dana(tx)?;
        community::put_member(
            tx,
            &eve.id,
            eve.name,
            Role::Member,
            None,
            None,
            Timestamp(10),
        )
    });
    not_theirs(&fx, &c, ben, "exactly one member");
    // A roster change with no admission record at all is a non-coordinator's change.
    let c = attempt(&|tx| {
        community::put_member(
            tx,
            &dana.id,
            dana.name,
            Role::Member,
            None,
            None,
            Timestamp(10),
        )
    });
    assert!(matches!(
        verify(&fx, &[c]).unwrap_err(),
        RejectReason::NotACoordinator { .. }
    ));
}

#[test]
fn observers_outsiders_and_removed_members_admit_nobody() {
    let fx = community_fixture();
    let dana = Person::new("Dana Whyte", 9);
    let inv = invitation(&fx, &fx.cast.ana, Role::Member, 1);
    for p in [&fx.cast.mallory, &fx.cast.rita] {
        let c = admitted_by(&fx, p, &inv, &dana, 10);
        assert!(
            matches!(verify(&fx, &[c]).unwrap_err(), RejectReason::NotACoordinator { signer, .. } if signer == p.id),
            "{}",
            p.name
        );
    }
    // An observer is in the roster (and may edit their own profile), but admits nobody.
    let olga = &fx.cast.olga;
    not_theirs(
        &fx,
        &admitted_by(&fx, olga, &inv, &dana, 10),
        olga,
        "may not admit",
    );
}

#[test]
fn an_invitation_is_used_once_and_a_member_is_admitted_once() {
    let fx = community_fixture();
    let (ben, dana, eve) = (
        &fx.cast.ben,
        Person::new("Dana Whyte", 9),
        Person::new("Eve Lund", 10),
    );
    let inv = invitation(&fx, &fx.cast.ana, Role::Member, 1);
    let first = admitted_by(&fx, ben, &inv, &dana, 10);
    let doc = verify(&fx, std::slice::from_ref(&first)).unwrap();
    // The writer refuses a second use...
    let mut again = ben.fork(&doc);
    let err = again
        .transact(|tx| {
            admission::admit(
                tx,
                &Admission {
                    invitation: inv.clone(),
                    member: eve.id,
                },
                eve.name,
                Timestamp(11),
            )
        })
        .map_err(|f| f.error)
        .unwrap_err();
    assert!(err.to_string().contains("already used"), "{err}");
    // ...and so does every verifier, for a change written against the later state.
    let mut bens = ben.fork(&doc);
    let reuse = signed(&fx.doc_ref, &ben.key, &mut bens, 11, |tx| {
        community::put_member(
            tx,
            &eve.id,
            eve.name,
            Role::Member,
            None,
            None,
            Timestamp(11),
        )?;
        tx.put(
            ROOT,
            format!("{}{}", admission::PREFIX, inv.id()).as_str(),
            ScalarValue::Bytes(
                postcard::to_stdvec(&Admission {
                    invitation: inv.clone(),
                    member: eve.id,
                })
                .unwrap(),
            ),
        )?;
        Ok(())
    });
    let mut working = doc.fork();
    let err = verify_and_apply(
        &fx.doc_ref,
        &mut working,
        &[reuse],
        &Roster::default(),
        &fx.genesis.founder,
    )
    .unwrap_err();
    // Rewriting a used record is no admission: a member writing the roster on their own.
    assert!(
        matches!(err, RejectReason::NotACoordinator { .. }),
        "{err:?}"
    );
}

#[test]
fn members_edit_their_own_name_region_and_organisation_and_nothing_else() {
    let fx = community_fixture();
    let (ben, olga) = (&fx.cast.ben, &fx.cast.olga);
    let edit = |by: &Person,
                f: &dyn Fn(
        &mut automerge::transaction::Transaction<'_>,
    ) -> Result<(), commonplace_model::SchemaError>| {
        let mut doc = by.fork(&fx.doc);
        signed(&fx.doc_ref, &by.key, &mut doc, 10, f)
    };
    // Ben renames himself and gives his region; Olga (an observer) gives her organisation.
    let c = edit(ben, &|tx| {
        community::edit_profile(tx, &ben.id, "Ben O.", Some("North"), None)
    });
    let o = edit(olga, &|tx| {
        community::edit_profile(tx, &olga.id, olga.name, None, Some("City Police"))
    });
    let doc = verify(&fx, &[c, o]).unwrap();
    let roster = community::read(&doc).unwrap().roster;
    let b = &roster.members[&ben.id];
    assert_eq!(
        (b.name.as_str(), b.region.as_deref(), b.role),
        ("Ben O.", Some("North"), Role::Member)
    );
    assert_eq!(
        roster.members[&olga.id].organisation.as_deref(),
        Some("City Police")
    );
    // Not someone else's entry, not his own role, not his name together with anything else.
    let refused = |c: SignedChange, by: &Person| {
        assert!(
            matches!(verify(&fx, &[c]).unwrap_err(), RejectReason::NotACoordinator { signer, .. } if signer == by.id)
        );
    };
    refused(
        edit(ben, &|tx| {
            community::edit_profile(tx, &olga.id, "Olga", None, None)
        }),
        ben,
    );
    refused(
        edit(ben, &|tx| {
            community::set_role(tx, &ben.id, Role::Coordinator)
        }),
        ben,
    );
    refused(
        edit(ben, &|tx| {
            community::edit_profile(tx, &ben.id, "Ben", None, None)?;
            tx.put(ROOT, "created_at", 5)?;
            Ok(())
        }),
        ben,
    );
    // A removed member edits nothing.
    let rita = &fx.cast.rita;
    refused(
        edit(rita, &|tx| {
            community::edit_profile(tx, &rita.id, "Rita", None, None)
        }),
        rita,
    );
}

#[test]
fn a_revoked_invitation_admits_nobody_on_any_peer() {
    let fx = community_fixture();
    let (ana, ben, dana) = (&fx.cast.ana, &fx.cast.ben, Person::new("Dana Whyte", 9));
    let inv = invitation(&fx, ana, Role::Member, 1);
    // Ana (a coordinator) revokes it; the record syncs to Ben.
    let mut anas = ana.fork(&fx.doc);
    let revocation = signed(&fx.doc_ref, &ana.key, &mut anas, 10, |tx| {
        admission::revoke(tx, &inv.id(), Timestamp(10))
    });
    let doc = verify(&fx, std::slice::from_ref(&revocation)).unwrap();
    assert!(admission::revoked(&doc, &inv.id()));
    // Ben's node refuses to write the admission...
    let mut bens = ben.fork(&doc);
    let a = Admission {
        invitation: inv.clone(),
        member: dana.id,
    };
    let err = bens
        .transact(|tx| admission::admit(tx, &a, dana.name, Timestamp(11)))
        .map_err(|f| f.error)
        .unwrap_err();
    assert!(err.to_string().contains("revoked"), "{err}");
    // ...and a node that writes it anyway, after the revocation, is refused by every peer.
    let mut bens = ben.fork(&doc);
    let late = signed(&fx.doc_ref, &ben.key, &mut bens, 11, |tx| {
        community::put_member(
            tx,
            &dana.id,
            dana.name,
            Role::Member,
            None,
            None,
            Timestamp(11),
        )?;
        tx.put(
            ROOT,
            format!("{}{}", admission::PREFIX, inv.id()).as_str(),
            ScalarValue::Bytes(postcard::to_stdvec(&a).unwrap()),
        )?;
        Ok(())
    });
    let mut working = doc.fork();
    let err = verify_and_apply(
        &fx.doc_ref,
        &mut working,
        &[late],
        &Roster::default(),
        &fx.genesis.founder,
    )
    .unwrap_err();
    assert!(
        matches!(&err, RejectReason::NotTheirs { detail, .. } if detail.contains("revoked")),
        "{err:?}"
    );
    // An admission made before the revocation reached the admitting node stands.
    let early = admitted_by(&fx, ben, &inv, &dana, 9);
    verify(&fx, &[revocation, early]).unwrap();
}
