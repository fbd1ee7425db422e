//! Real iroh endpoints on loopback, relays disabled: members sync over QUIC.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{loopback, node};
use commonplace_model::invite::InviteError;
use commonplace_model::{ActivityKind, Role};
use commonplace_net::NetError;
use commonplace_node::{
    ErrorCode, NetConfig, NewCommunity, NewThread, Node, NodeError, Online, ThreadFilter,
};

/// Five nodes in temporary profiles and the community they share (the first founded it).
async fn five() -> (tempfile::TempDir, Vec<Node>, commonplace_base::CommunityId) {
    let root = tempfile::tempdir().unwrap();
    let nodes: Vec<Node> = (0..5)
        .map(|i| node(root.path(), &format!("n{i}")))
        .collect();
    let c = community(&nodes).await;
    (root, nodes, c)
}

/// A community founded by the first node with every other node as a member, with `posts`
/// replies by each member written while offline.
async fn community(nodes: &[Node]) -> commonplace_base::CommunityId {
    let c = nodes[0]
        .create_community(&NewCommunity {
            name: "Engineers".into(),
            ..Default::default()
        })
        .unwrap();
    for (i, n) in nodes.iter().enumerate().skip(1) {
        nodes[0]
            .add_member(&c, &n.member_id(), &format!("member {i}"), Role::Member)
            .unwrap();
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_peers_sync_over_quic() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let bea = node(root.path(), "bea");
    let c = community(&[ana.clone(), bea.clone()]).await;
    let t = ana
        .create_thread(
            &c,
            &NewThread {
                activity: ActivityKind::Problem,
                title: "Corrosion".into(),
                body: "Pipes fail early.".into(),
                tags: vec![],
            },
        )
        .unwrap();
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    // Bea knows nothing yet; she dials Ana and receives the community.
    let report = b.sync_with(a.addr(), c).await.unwrap();
    assert!(report.stats.changes_received >= 3, "{report:?}");
    assert_eq!(bea.thread(&t).unwrap().title, "Corrosion");
    // A shared repertoire entry, then both go offline.
    let entry = ana
        .create_entry(
            &c,
            &commonplace_node::NewEntry {
                kind: commonplace_model::EntryKind::Method,
                title: Some("Inspection".into()),
                body: Some("Check the joints.".into()),
                tags: vec![],
                from_thread: None,
            },
        )
        .unwrap();
    b.sync_with(a.addr(), c).await.unwrap();
    a.shutdown().await;
    b.shutdown().await;
    // Offline: hundreds of replies each, and both edit the same entry.
    for i in 0..200 {
        ana.reply(&t, &format!("ana {i}"), None).unwrap();
        bea.reply(&t, &format!("bea {i}"), None).unwrap();
    }
    ana.edit_entry(
        &entry,
        &commonplace_model::TextEdit::Insert {
            at: 0,
            text: "Step 1: ".into(),
        },
    )
    .unwrap();
    bea.edit_entry(
        &entry,
        &commonplace_model::TextEdit::Append(" Then the valves.".into()),
    )
    .unwrap();
    // Back online (new addresses), Bea dials Ana.
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    let report = b.sync_with(a.addr(), c).await.unwrap();
    // Coming online, Ana's node may start a catch-up session with Bea's at the same moment:
    // then one direction travels in that session, not in this one. Together they carry both.
    assert!(
        report.stats.changes_received + report.stats.changes_sent >= 200,
        "{report:?}"
    );
    // The other session, if there is one, finishes within moments.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while bea.thread(&t).unwrap().replies.len() < 400 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(ana.thread(&t).unwrap(), bea.thread(&t).unwrap());
    assert_eq!(ana.thread(&t).unwrap().replies.len(), 400);
    assert_eq!(
        ana.threads(&c, &ThreadFilter::default()).unwrap(),
        bea.threads(&c, &ThreadFilter::default()).unwrap()
    );
    let text = "Step 1: Check the joints. Then the valves.";
    assert_eq!(ana.entry(&entry).unwrap().body, text);
    assert_eq!(bea.entry(&entry).unwrap().body, text);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_peers_converge_after_writing_offline() {
    let (_root, nodes, c) = five().await;
    let online: Vec<Online> = {
        let mut v = Vec::new();
        for n in &nodes {
            v.push(Online::start(n.clone(), loopback()).await.unwrap());
        }
        v
    };
    // Everyone gets the community from the founder.
    for o in &online[1..] {
        o.sync_with(online[0].addr(), c).await.unwrap();
    }
    // Each writes its own threads and replies to a shared one, offline.
    let shared = nodes[0]
        .create_thread(
            &c,
            &NewThread {
                activity: ActivityKind::Discussion,
                title: "Shared".into(),
                body: "Everyone replies here.".into(),
                tags: vec![],
            },
        )
        .unwrap();
    for o in &online[1..] {
        online[0].sync_with(o.addr(), c).await.unwrap();
    }
    for (i, n) in nodes.iter().enumerate() {
        for j in 0..3 {
            n.create_thread(
                &c,
                &NewThread {
                    activity: ActivityKind::Story,
                    title: format!("story {i}.{j}"),
                    body: "…".into(),
                    tags: vec![],
                },
            )
            .unwrap();
        }
        for j in 0..40 {
            n.reply(&shared, &format!("{i} says {j}"), None).unwrap();
        }
    }
    // A ring then a pass back: every node hears from every other.
    for round in 0..2 {
        for i in 0..5 {
            let j = (i + 1) % 5;
            online[i]
                .sync_with(online[j].addr(), c)
                .await
                .unwrap_or_else(|e| panic!("round {round} {i}->{j}: {e}"));
        }
    }
    let expected = nodes[0].threads(&c, &ThreadFilter::default()).unwrap();
    assert_eq!(expected.len(), 16);
    let shared_thread = nodes[0].thread(&shared).unwrap();
    assert_eq!(shared_thread.replies.len(), 200);
    for n in &nodes[1..] {
        assert_eq!(n.threads(&c, &ThreadFilter::default()).unwrap(), expected);
        assert_eq!(n.thread(&shared).unwrap(), shared_thread);
    }
    for o in &online {
        o.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_member_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let eve = node(root.path(), "eve");
    let c = community(std::slice::from_ref(&ana)).await;
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    let e = Online::start(eve.clone(), loopback()).await.unwrap();
    let err = e.sync_with(a.addr(), c).await.unwrap_err().to_string();
    assert!(err.contains("not a member"), "{err}");
    assert!(eve.communities().unwrap().is_empty());
    a.shutdown().await;
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_and_join_then_single_use_and_expiry() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let bea = node(root.path(), "bea");
    let eve = node(root.path(), "eve");
    let c = community(std::slice::from_ref(&ana)).await;
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    let e = Online::start(eve.clone(), loopback()).await.unwrap();
    let code = ana
        .create_invite(
            &c,
            Role::Member,
            7 * 24 * 3600 * 1000,
            a.ticket().to_bytes(),
        )
        .unwrap()
        .signed
        .to_code()
        .unwrap();
    let (joined, report) = b.join(&code).await.unwrap();
    assert_eq!(joined, c);
    assert!(report.stats.changes_received >= 2);
    let roster = bea.community(&c).unwrap().roster;
    assert_eq!(roster.role_of(&bea.member_id()), Some(Role::Member));
    assert_eq!(roster.name_of(&bea.member_id()), "bea");
    // The same code again, by someone else: used.
    let err = e.join(&code).await.unwrap_err();
    // The refusal arrives as a kind, not a sentence to match.
    assert!(
        matches!(
            err,
            NodeError::Net(NetError::InviteRefused(InviteError::Used))
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), ErrorCode::NotAllowed);
    let err = err.to_string();
    assert!(err.contains("already used"), "{err}");
    assert!(eve.communities().unwrap().is_empty());
    // An expired invitation.
    let old = ana
        .create_invite(&c, Role::Member, -1, a.ticket().to_bytes())
        .unwrap()
        .signed
        .to_code()
        .unwrap();
    let err = e.join(&old).await.unwrap_err();
    assert!(
        matches!(
            err,
            NodeError::Net(NetError::InviteRefused(InviteError::Expired))
        ),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(err.contains("expired"), "{err}");
    // A tampered one (role raised): the signature no longer matches.
    let mut inv = commonplace_model::invite::SignedInvitation::from_code(&code).unwrap();
    inv.invitation.role = Role::Coordinator;
    let err = e
        .join(&inv.to_code().unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("forged"), "{err}");
    // Only coordinators invite.
    assert!(bea.create_invite(&c, Role::Member, 1000, vec![]).is_err());
    // Bea is now a known peer of Ana's and vice versa.
    assert!(
        bea.known_peers()
            .unwrap()
            .iter()
            .any(|(m, _)| *m == ana.member_id())
    );
    for o in [a, b, e] {
        o.shutdown().await;
    }
}

/// A node that does not hold the community says so as a kind of refusal (not a sentence the
/// joiner matches), and the joiner goes on to the next node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_goes_on_past_a_node_that_does_not_hold_the_community() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let cy = node(root.path(), "cy");
    let dan = node(root.path(), "dan");
    let c = community(std::slice::from_ref(&ana)).await;
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    let d = Online::start(dan.clone(), loopback()).await.unwrap();
    let code = a
        .invite(&c, Role::Member, 7 * 24 * 3600 * 1000)
        .await
        .unwrap()
        .code;
    let y = Online::start(cy.clone(), loopback()).await.unwrap();
    let (joined, _) = y.join_via(&code, &[d.ticket()]).await.unwrap();
    assert_eq!(joined, c);
    assert!(cy.community(&c).unwrap().roster.role_of(&cy.member_id()) == Some(Role::Member));
    for o in [a, d, y] {
        o.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_node_admits_the_holder_while_the_coordinator_is_away() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let bea = node(root.path(), "bea");
    let cy = node(root.path(), "cy");
    let dan = node(root.path(), "dan");
    let c = community(&[ana.clone(), bea.clone()]).await;
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    b.sync_with(a.addr(), c).await.unwrap();
    // Ana invites, then her node goes away.
    let code = a
        .invite(&c, Role::Member, 7 * 24 * 3600 * 1000)
        .await
        .unwrap()
        .code;
    a.shutdown().await;
    drop(a);
    // Cy joins through Bea's node (a member, not a coordinator): admitted, synced.
    let y = Online::start(cy.clone(), loopback()).await.unwrap();
    let (joined, report) = y.join_via(&code, &[b.ticket()]).await.unwrap();
    assert_eq!(joined, c);
    assert!(report.stats.changes_received >= 3);
    let roster = cy.community(&c).unwrap().roster;
    let me = &roster.members[&cy.member_id()];
    assert_eq!(
        (me.role, me.added_by),
        (Role::Member, Some(bea.member_id()))
    );
    // Cy may write at once, and Bea accepts it.
    cy.create_thread(
        &c,
        &NewThread {
            activity: ActivityKind::Story,
            title: "Hello from Cy".into(),
            body: "Admitted by Bea.".into(),
            tags: vec![],
        },
    )
    .unwrap();
    y.sync_with(b.addr(), c).await.unwrap();
    assert_eq!(bea.threads(&c, &ThreadFilter::default()).unwrap().len(), 1);
    // Ana comes back: her node verifies Bea's admission (a member's change to the roster,
    // resting on Ana's own invitation) and accepts it with Cy's thread.
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    a.sync_with(b.addr(), c).await.unwrap();
    assert_eq!(
        ana.community(&c).unwrap().roster.role_of(&cy.member_id()),
        Some(Role::Member)
    );
    assert_eq!(ana.threads(&c, &ThreadFilter::default()).unwrap().len(), 1);
    // The code is spent everywhere: Dan is refused by Ana's node (now at a new address),
    // which never admitted anyone with it, because the roster it synced records the use.
    let d = Online::start(dan.clone(), loopback()).await.unwrap();
    let err = d
        .join_via(&code, &[a.ticket()])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("already used"), "{err}");
    let err = d
        .join_via(&code, &[b.ticket()])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("already used"), "{err}");
    assert!(dan.communities().unwrap().is_empty());
    for o in [a, b, y, d] {
        o.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_founders_and_a_newcomers_region_and_organisation_reach_the_roster() {
    use commonplace_model::EntryKind;
    use commonplace_node::{NewEntry, Profile};
    let root = tempfile::tempdir().unwrap();
    let profile = |name: &str, region: &str, org: &str| {
        Node::init(
            Profile::at(root.path().join(name)),
            name,
            Some(region),
            Some(org),
        )
        .unwrap()
    };
    let ana = profile("Ana", "North", "St Mary");
    let bea = profile("Bea", "South", "City Clinic");
    let c = community(std::slice::from_ref(&ana)).await;
    let entry_of = |n: &Node, m: &commonplace_base::MemberId| {
        let e = n.community(&c).unwrap().roster.members[m].clone();
        (e.name, e.region, e.organisation)
    };
    let who = |name: &str, region: &str, org: &str| {
        (
            name.to_owned(),
            Some(region.to_owned()),
            Some(org.to_owned()),
        )
    };
    assert_eq!(
        entry_of(&ana, &ana.member_id()),
        who("Ana", "North", "St Mary")
    );
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    let code = a
        .invite(&c, Role::Member, 7 * 24 * 3600 * 1000)
        .await
        .unwrap()
        .code;
    b.join(&code).await.unwrap();
    // In the newcomer's roster and, once joined, in the admitting node's too.
    assert_eq!(
        entry_of(&bea, &bea.member_id()),
        who("Bea", "South", "City Clinic")
    );
    assert_eq!(
        entry_of(&ana, &bea.member_id()),
        who("Bea", "South", "City Clinic")
    );
    // So "you two should meet" finds them: both wrote on pumps, never in the same thread,
    // from different regions and organisations.
    for n in [&ana, &bea] {
        n.create_entry(
            &c,
            &NewEntry {
                kind: EntryKind::Lesson,
                title: Some(format!("Pumps, by {}", n.identity().unwrap().name)),
                body: Some("What we learned.".into()),
                tags: vec!["pumps".into()],
                from_thread: None,
            },
        )
        .unwrap();
    }
    b.sync_with(a.addr(), c).await.unwrap();
    let intro = ana.introductions(&c, 5).unwrap();
    assert_eq!(intro.len(), 1, "{intro:?}");
    assert_eq!(intro[0].topics, ["pumps"]);
    assert_eq!(intro[0].differ_in, ["region", "organisation"]);
    // A later profile change reaches the roster of the community too.
    bea.update_profile("Bea", Some("East"), None).unwrap();
    b.sync_with(a.addr(), c).await.unwrap();
    assert_eq!(
        entry_of(&ana, &bea.member_id()),
        ("Bea".to_owned(), Some("East".to_owned()), None)
    );
    for o in [a, b] {
        o.shutdown().await;
    }
}

/// Waits (bounded) until `check` holds. Generous: on a loaded two-core machine the gossip
/// mesh can take seconds to form after the first syncs.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..600 {
        if check() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 30 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_reaches_five_online_peers_without_a_manual_sync() {
    let (_root, nodes, c) = five().await;
    let mut online = Vec::new();
    for n in &nodes {
        online.push(Online::start(n.clone(), loopback()).await.unwrap());
    }
    // Everyone fetches the community once; from then on they are in its live topic.
    for o in &online[1..] {
        o.sync_with(online[0].addr(), c).await.unwrap();
    }
    // A member posts; every other node gets the thread with no sync call.
    let t = nodes[3]
        .create_thread(
            &c,
            &NewThread {
                activity: ActivityKind::Request,
                title: "Anyone at the conference?".into(),
                body: "Meet at the coffee stand.".into(),
                tags: vec![],
            },
        )
        .unwrap();
    for (i, n) in nodes.iter().enumerate() {
        eventually(&format!("the thread reaching node {i}"), || {
            n.thread(&t).is_ok()
        })
        .await;
    }
    // And a reply from the founder comes back the same way.
    nodes[0].reply(&t, "On my way.", None).unwrap();
    for (i, n) in nodes.iter().enumerate() {
        eventually(&format!("the reply reaching node {i}"), || {
            n.thread(&t).map(|t| t.replies.len() == 1).unwrap_or(false)
        })
        .await;
    }
    for o in &online {
        o.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_failed_waits_out_its_backoff_unless_failures_are_forgotten() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let bea = node(root.path(), "bea");
    let c = community(&[ana.clone(), bea.clone()]).await;
    // A dead address fails after the idle timeout: keep it short.
    let quick = NetConfig {
        idle_timeout: std::time::Duration::from_secs(2),
        ..loopback()
    };
    let a = Online::start(ana.clone(), quick).await.unwrap();
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    b.sync_with(a.addr(), c).await.unwrap();
    ana.record_peer(&bea.member_id(), b.ticket().to_bytes())
        .unwrap();
    // Bea's node goes away: the next round fails and puts her in backoff.
    b.shutdown().await;
    let first = a.sync_known_peers(None).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(first[0].2.is_err());
    // A regular round right after skips her...
    assert!(a.sync_known_peers(None).await.unwrap().is_empty());
    // ...but after a wake-up or a network change every peer is tried again.
    a.forget_failures();
    let again = a.sync_known_peers(None).await.unwrap();
    assert_eq!(again.len(), 1);
    // Bea comes back at a new address (as after a network change); once Ana has it, the
    // next round reaches her.
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    ana.record_peer(&bea.member_id(), b.ticket().to_bytes())
        .unwrap();
    a.forget_failures();
    let back = a.sync_known_peers(None).await.unwrap();
    assert!(back.iter().all(|(_, _, r)| r.is_ok()), "{back:?}");
    for o in [a, b] {
        o.shutdown().await;
    }
}

/// A change small enough to ride in its announcement reaches every node with no sync
/// session at all; garbage on the topic is refused and recorded, and live updates go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_carried_post_needs_no_pull_and_garbage_on_the_topic_is_recorded() {
    let (_root, nodes, c) = five().await;
    let t = nodes[0]
        .create_thread(
            &c,
            &NewThread {
                activity: ActivityKind::Request,
                title: "Anyone at the conference?".into(),
                body: "Meet at the coffee stand.".into(),
                tags: vec![],
            },
        )
        .unwrap();
    let mut online = Vec::new();
    for n in &nodes {
        online.push(Online::start(n.clone(), loopback()).await.unwrap());
    }
    for o in &online[1..] {
        o.sync_with(online[0].addr(), c).await.unwrap();
    }
    // Wait until a first post has reached everyone: the swarm has formed.
    nodes[2].reply(&t, "First.", None).unwrap();
    for (i, n) in nodes.iter().enumerate() {
        eventually(&format!("the first reply reaching node {i}"), || {
            n.thread(&t).map(|t| t.replies.len() == 1).unwrap_or(false)
        })
        .await;
    }
    let sessions: Vec<usize> = online.iter().map(|o| o.recent_syncs().len()).collect();
    nodes[3].reply(&t, "Second, carried.", None).unwrap();
    for (i, n) in nodes.iter().enumerate() {
        eventually(&format!("the second reply reaching node {i}"), || {
            n.thread(&t).map(|t| t.replies.len() == 2).unwrap_or(false)
        })
        .await;
    }
    let after: Vec<usize> = online.iter().map(|o| o.recent_syncs().len()).collect();
    assert_eq!(
        sessions, after,
        "no node pulled: the change came in the announcement"
    );

    // Node 4 puts garbage on the community's topic.
    let (announcer, _listener) = online[4]
        .network()
        .subscribe(&c, nodes.iter().map(Node::member_id).collect())
        .await
        .unwrap();
    announcer
        .announce(b"not an announcement".to_vec())
        .await
        .unwrap();
    for (i, o) in online.iter().enumerate().take(4) {
        eventually(&format!("node {i} recording the refusal"), || {
            o.recent_syncs().iter().any(|r| {
                !r.ok
                    && r.changes_received == 0
                    && r.error
                        .as_deref()
                        .is_some_and(|e| e.contains("relayed an announcement that does not decode"))
            })
        })
        .await;
    }
    // Live updates go on.
    nodes[1].reply(&t, "Third.", None).unwrap();
    for (i, n) in nodes.iter().enumerate() {
        eventually(&format!("the third reply reaching node {i}"), || {
            n.thread(&t).map(|t| t.replies.len() == 3).unwrap_or(false)
        })
        .await;
    }
    for o in &online {
        o.shutdown().await;
    }
}
