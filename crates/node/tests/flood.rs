//! A node on loopback faced with a flood of non-members keeps serving an honest member.
//! Bounded in count (1,000 attempts) and time (each attempt and the whole run time out).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{loopback, node};
use commonplace_model::Role;
use commonplace_node::{NewCommunity, NewThread, Online, ThreadFilter};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_sync_attempts_by_strangers_leave_an_honest_member_served() {
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
    ana.create_thread(
        &c,
        &NewThread {
            activity: commonplace_model::ActivityKind::Discussion,
            title: "Still here".into(),
            body: "Under load.".into(),
            tags: Vec::new(),
        },
    )
    .unwrap();
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    // The refusal is Ana's node's, over the network (a stranger's own node would dial).
    let probe = Online::start(node(root.path(), "probe"), loopback())
        .await
        .unwrap();
    let why = probe.sync_with(a.addr(), c).await.unwrap_err().to_string();
    assert!(
        why.contains("refused") || why.contains("not a member"),
        "{why}"
    );
    probe.shutdown().await;
    // Ten strangers, a hundred attempts each, all at once.
    let mut strangers = Vec::new();
    for i in 0..10 {
        let s = node(root.path(), &format!("stranger{i}"));
        strangers.push(Online::start(s, loopback()).await.unwrap());
    }
    let flood = strangers.iter().cloned().map(|s| {
        let addr = a.addr();
        tokio::spawn(async move {
            let mut refused = 0;
            for _ in 0..100 {
                if let Ok(Err(_)) =
                    tokio::time::timeout(Duration::from_secs(10), s.sync_with(addr.clone(), c))
                        .await
                {
                    refused += 1;
                }
            }
            refused
        })
    });
    let flood: Vec<_> = flood.collect();
    // While it runs, the member syncs and gets the community.
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    let report = tokio::time::timeout(Duration::from_secs(60), b.sync_with(a.addr(), c))
        .await
        .expect("the member's sync did not finish under the flood")
        .unwrap();
    assert!(report.stats.changes_received > 0);
    assert_eq!(bea.threads(&c, &ThreadFilter::default()).unwrap().len(), 1);
    let mut refused = 0;
    for f in flood {
        refused += tokio::time::timeout(Duration::from_secs(120), f)
            .await
            .expect("the flood did not end")
            .unwrap();
    }
    assert_eq!(refused, 1000, "every stranger's attempt is refused");
    // Nothing of theirs stays: no stranger counts as connected, none is remembered.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let connected = a.connected_peers();
    assert!(
        strangers
            .iter()
            .all(|s| !connected.contains(&s.node().member_id())),
        "a stranger is still connected"
    );
    let known = ana.known_peers().unwrap();
    assert!(
        strangers
            .iter()
            .all(|s| known.iter().all(|(m, _)| *m != s.node().member_id())),
        "a stranger's address was remembered"
    );
    for o in strangers.into_iter().chain([a, b]) {
        o.shutdown().await;
    }
}
