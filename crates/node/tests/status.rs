//! The sync status tells the truth: "connected" means a connection open now, every "Sync now"
//! reports how each member went, the relays shown are the ones running, and a member whose
//! key was restored on a new computer gets their communities back from any member's node.
//! Real iroh endpoints on loopback, relays disabled.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{loopback, node};
use commonplace_model::Role;
use commonplace_node::{NetConfig, NewCommunity, Node, Online, RelayMode};

fn founded(ana: &Node, others: &[&Node]) -> commonplace_base::CommunityId {
    let c = ana
        .create_community(&NewCommunity {
            name: "Engineers".into(),
            ..Default::default()
        })
        .unwrap();
    for (i, n) in others.iter().enumerate() {
        ana.add_member(&c, &n.member_id(), &format!("member {i}"), Role::Member)
            .unwrap();
    }
    c
}

fn connected(online: &Online, peer: &Node) -> bool {
    online
        .sync_status()
        .unwrap()
        .peers
        .iter()
        .any(|p| p.member == peer.member_id() && p.connected)
}

/// Waits (bounded, `secs`) until `check` holds.
async fn within(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within {secs} s");
}

/// Ana and Bea online and synced (Bea dialled; with `ana_dials`, Ana too, so her connection
/// to Bea is kept for the next session); then Bea stops her node (Ctrl+C on `serve`): her
/// connections close, and within seconds, not after minutes, Ana's status says so.
async fn bea_stops(ana_dials: bool) {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let bea = node(root.path(), "bea");
    let c = founded(&ana, &[&bea]);
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    b.sync_with(a.addr(), c).await.unwrap();
    if ana_dials {
        a.sync_with(b.addr(), c).await.unwrap();
    }
    within(10, "Bea shown as connected", || connected(&a, &bea)).await;
    b.shutdown().await;
    within(5, "Bea shown as not connected", || !connected(&a, &bea)).await;
    let peer = a.sync_status().unwrap().peers;
    assert!(peer[0].last_ok.is_some(), "the last sync is still shown");
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_whose_node_stops_is_not_connected_a_moment_later() {
    bea_stops(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_we_dialled_whose_node_stops_is_not_connected_a_moment_later() {
    bea_stops(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_whose_node_falls_silent_is_not_connected_within_seconds() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let bea = node(root.path(), "bea");
    let c = founded(&ana, &[&bea]);
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    // Bea's node runs on a runtime of its own, which is then stopped dead: no goodbye is
    // sent (a crash, a laptop lid closed, a cable pulled).
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let addr = a.addr();
    let bea2 = bea.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let b = Online::start(bea2, loopback()).await.unwrap();
            b.sync_with(addr, c).await.unwrap();
            tx.send(()).unwrap();
            let _ = stopped.await;
            // Never shut down or dropped: the runtime goes away under it.
            std::mem::forget(b);
        });
        rt.shutdown_background();
    });
    rx.recv_timeout(Duration::from_secs(30)).unwrap();
    within(10, "Bea shown as connected", || connected(&a, &bea)).await;
    stop.send(()).unwrap();
    thread.join().unwrap();
    within(15, "a silent Bea shown as not connected", || {
        !connected(&a, &bea)
    })
    .await;
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_names_the_member_it_could_not_reach() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let bea = node(root.path(), "bea");
    let c = founded(&ana, &[&bea]);
    let quick = NetConfig {
        idle_timeout: Duration::from_secs(2),
        ..loopback()
    };
    let a = Online::start(ana.clone(), quick).await.unwrap();
    // Nobody known yet: an empty round, which the app words as "no one to sync with".
    assert!(a.sync_now().await.unwrap().tried.is_empty());
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    // Bea dials Ana; Ana, only ever dialled, learns where Bea's node is from the connection.
    b.sync_with(a.addr(), c).await.unwrap();
    within(10, "Ana knows Bea's address", || {
        ana.known_peers()
            .unwrap()
            .iter()
            .any(|(m, _)| *m == bea.member_id())
    })
    .await;
    let ok = a.sync_now().await.unwrap();
    assert_eq!(ok.tried.len(), 1);
    assert!(ok.tried[0].ok, "{:?}", ok.tried);
    assert_eq!(ok.tried[0].name, "member 0");
    b.shutdown().await;
    // Twice: the second "Sync now" must try again, not sit out a backoff silently.
    for _ in 0..2 {
        let r = a.sync_now().await.unwrap();
        assert_eq!(r.tried.len(), 1, "{r:?}");
        assert!(!r.tried[0].ok);
        let why = r.tried[0].error.as_deref().unwrap_or_default();
        assert!(why.contains("did not answer"), "{why}");
    }
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_names_the_relays_running_and_whether_anyone_else_has_joined() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let c = founded(&ana, &[]);
    // The profile says "default"; the network was started without relays (`--relay none`).
    assert_eq!(ana.relay_mode().unwrap(), RelayMode::Default);
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    let s = a.sync_status().unwrap();
    assert_eq!(s.relay, RelayMode::Off);
    assert_eq!(
        s.unshared[0].others, 0,
        "a lone founder has nobody to share with"
    );
    let bea = node(root.path(), "bea");
    ana.add_member(&c, &bea.member_id(), "Bea", Role::Member)
        .unwrap();
    assert_eq!(a.sync_status().unwrap().unshared[0].others, 1);
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_on_a_fresh_profile_gets_their_communities_back_from_any_members_node() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let bea = node(root.path(), "bea");
    let stranger = node(root.path(), "stranger");
    let c = founded(&ana, &[&bea]);
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    assert!(bea.community_ids().unwrap().is_empty());
    let names = b.recover_address(&a.ticket().to_string()).await.unwrap();
    assert_eq!(names, vec!["Engineers".to_owned()]);
    assert_eq!(bea.community_ids().unwrap(), vec![c]);
    // Asking again gets nothing new: a clear refusal, nothing duplicated.
    let again = b.recover_address(&a.ticket().to_string()).await;
    assert!(again.is_err());
    // A stranger is told nothing.
    let s = Online::start(stranger.clone(), loopback()).await.unwrap();
    let err = s
        .recover_address(&a.ticket().to_string())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("holds no community you are a member of"),
        "{err}"
    );
    assert!(stranger.community_ids().unwrap().is_empty());
    for o in [a, b, s] {
        o.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_came_and_went_between_two_looks_is_still_announced() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let bea = node(root.path(), "bea");
    let c = founded(&ana, &[&bea]);
    let a = Online::start(ana.clone(), loopback()).await.unwrap();
    let mut events = ana.subscribe();
    // A one-shot sync: Bea's node dials, syncs and goes away in well under a second. A front
    // end may have read the status while it was open, so it must hear that it closed.
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    b.sync_with(a.addr(), c).await.unwrap();
    b.shutdown().await;
    let heard = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(commonplace_node::NodeEvent::PeersChanged) = events.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(
        heard.is_ok(),
        "no PeersChanged after a connection opened and closed"
    );
    within(5, "Bea shown as not connected", || !connected(&a, &bea)).await;
    a.shutdown().await;
}
