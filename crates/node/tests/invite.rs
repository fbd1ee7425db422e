//! Short invitation codes on real iroh endpoints (loopback, relays and mDNS off): resolving a
//! code at the inviting node, the pending list, revocation, expiry and wrong codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{loopback, node};
use commonplace_model::Role;
use commonplace_model::invite::{InviteError, ShortCode};
use commonplace_node::{InvitationState, NewCommunity, NodeError, Online};

const WEEK: i64 = 7 * 24 * 3600 * 1000;

fn invite_error(e: NodeError) -> InviteError {
    match e {
        NodeError::Invite(e) => e,
        other => panic!("expected an invitation error, got {other:?}"),
    }
}

/// Ana's community, her node and a newcomer's (Bea, not a member yet) online on loopback.
async fn ana_and_newcomer_online() -> (
    tempfile::TempDir,
    commonplace_node::Node,
    commonplace_node::Node,
    commonplace_base::CommunityId,
    Online,
    Online,
) {
    let root = tempfile::tempdir().unwrap();
    let (ana, bea) = (node(root.path(), "ana"), node(root.path(), "bea"));
    let c = ana
        .create_community(&NewCommunity {
            name: "Engineers".into(),
            ..Default::default()
        })
        .unwrap();
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    (root, ana, bea, c, a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_code_resolves_at_the_inviting_node_and_is_listed_until_used() {
    let (root, ana, bea, c, a, b) = ana_and_newcomer_online().await;
    let inv = a.invite(&c, Role::Member, WEEK).await.unwrap();
    assert_eq!(inv.short_code.len(), 19, "{}", inv.short_code);
    assert!(inv.code.starts_with("cpinvite1"));
    let listed = ana.pending_invitations(Some(&c)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].state,
            listed[0].short_code.as_str(),
            listed[0].role
        ),
        (
            InvitationState::Pending,
            inv.short_code.as_str(),
            Role::Member
        )
    );
    // Typed sloppily: lower case, spaces instead of dashes.
    let typed = inv.short_code.to_lowercase().replace('-', " ");
    let (joined, _) = b.join_via(&typed, &[a.ticket()]).await.unwrap();
    assert_eq!(joined, c);
    assert_eq!(
        bea.community(&c).unwrap().roster.role_of(&bea.member_id()),
        Some(Role::Member)
    );
    let listed = ana.pending_invitations(Some(&c)).unwrap();
    assert_eq!(listed[0].state, InvitationState::Used);
    assert_eq!(listed[0].used_by, Some(bea.member_id()));
    assert_eq!(listed[0].used_by_name.as_deref(), Some("bea"));
    assert!(listed[0].used_at.is_some());
    // A used code no longer resolves.
    let eve = node(root.path(), "eve");
    let e = Online::start(eve.clone(), loopback()).await.unwrap();
    let err = e
        .join_via(&inv.short_code, &[a.ticket()])
        .await
        .unwrap_err();
    assert_eq!(invite_error(err), InviteError::Used);
    for o in [a, b, e] {
        o.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_typo_expired_and_revoked_codes_are_refused_clearly() {
    let root = tempfile::tempdir().unwrap();
    let (ana, bea, eve) = (
        node(root.path(), "ana"),
        node(root.path(), "bea"),
        node(root.path(), "eve"),
    );
    let c = ana
        .create_community(&NewCommunity {
            name: "Engineers".into(),
            ..Default::default()
        })
        .unwrap();
    ana.add_member(&c, &bea.member_id(), "Bea", Role::Member)
        .unwrap();
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    let e = Online::start(eve.clone(), loopback()).await.unwrap();
    let via = [a.ticket()];

    // A typo is told at once, before any network wait.
    let inv = a.invite(&c, Role::Member, WEEK).await.unwrap();
    let mut typo = inv.short_code.clone().into_bytes();
    typo[0] = if typo[0] == b'A' { b'B' } else { b'A' };
    let typo = String::from_utf8(typo).unwrap();
    let started = std::time::Instant::now();
    let err = e.join_via(&typo, &via).await.unwrap_err();
    assert_eq!(invite_error(err), InviteError::Typo);
    assert!(started.elapsed() < std::time::Duration::from_millis(500));
    let err = e.join_via("K7QM-3XPA", &via).await.unwrap_err();
    assert_eq!(invite_error(err), InviteError::WrongLength { got: 8 });

    // A well-formed code nobody created.
    let stranger = ShortCode::from_random([42; 10]).to_string();
    let err = e.join_via(&stranger, &via).await.unwrap_err();
    assert_eq!(invite_error(err), InviteError::Unknown);

    // Expired.
    let old = ana
        .create_invite(&c, Role::Member, -1, a.ticket().to_bytes())
        .unwrap();
    let err = e.join_via(&old.short.to_string(), &via).await.unwrap_err();
    assert_eq!(invite_error(err), InviteError::Expired);

    // Revoked: the short code and the long code both stop working at the inviting node...
    let listed = a.revoke_invite(&inv.short_code).await.unwrap();
    assert_eq!(listed.state, InvitationState::Revoked);
    assert!(listed.revoked_at.is_some());
    let err = e.join_via(&inv.short_code, &via).await.unwrap_err();
    assert_eq!(invite_error(err), InviteError::Revoked);
    let err = e.join(&inv.code).await.unwrap_err().to_string();
    assert!(err.contains("revoked"), "{err}");
    // ...and at every member's node the revocation has reached.
    b.sync_with(a.addr(), c).await.unwrap();
    let err = e
        .join_via(&inv.code, &[b.ticket()])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("revoked"), "{err}");
    assert!(eve.communities().unwrap().is_empty());
    // Only coordinators revoke, and only codes they know.
    assert!(matches!(
        bea.revoke_invite(&inv.short_code),
        Err(NodeError::NotFound { .. })
    ));
    let listed = ana.pending_invitations(None).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .any(|p| p.state == InvitationState::Expired && p.short_code == old.short.to_string())
    );
    for o in [a, b, e] {
        o.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_code_alone_reaches_the_resolver_endpoint_by_its_derived_id() {
    let (_root, _ana, _bea, c, a, b) = ana_and_newcomer_online().await;
    let inv = a.invite(&c, Role::Member, WEEK).await.unwrap();
    let resolvers = a.network().resolver_addrs().await;
    assert_eq!(resolvers.len(), 1);
    let derived =
        iroh::SecretKey::from_bytes(&ShortCode::parse(&inv.short_code).unwrap().resolver_seed())
            .public();
    assert_eq!(resolvers[0].id, derived);
    // mDNS is off in tests: tell Bea's endpoint where that id is, as local discovery would.
    b.network().remember(resolvers[0].clone());
    let (joined, _) = b.join_via(&inv.short_code, &[]).await.unwrap();
    assert_eq!(joined, c);
    // Used: its resolver stops once the inviting node looks again.
    a.serve_short_codes().await.unwrap();
    assert!(a.network().resolver_addrs().await.is_empty());
    for o in [a, b] {
        o.shutdown().await;
    }
}
