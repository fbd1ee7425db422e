//! The relay path, exercised rather than assumed: two members' nodes that can reach each
//! other only through an `iroh-relay` server the test runs on loopback.
//!
//! Nothing direct can work between them: Ana's node is bound to IPv6 loopback only (`[::1]`),
//! Bea's to IPv4 loopback only (`127.0.0.1`), so neither UDP socket can send to the other's
//! address, and the addresses they hand each other carry the relay's URL alone (their direct
//! addresses are withheld). The relay speaks plain HTTP on `127.0.0.1` (no TLS, so no
//! certificate to trust; its traffic is the end-to-end encrypted QUIC of iroh either way), and
//! its own counters show that the bytes of the sessions went through it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use common::node;
use commonplace_model::{ActivityKind, Role};
use commonplace_node::{NetConfig, NewCommunity, NewThread, Online, RelayConfig, ThreadFilter};
use iroh::{EndpointAddr, RelayUrl};
use iroh_relay::server::{RelayConfig as RelayServerConfig, Server, ServerConfig};

/// An `iroh-relay` server on IPv4 loopback, plain HTTP, any free port, no QUIC address
/// discovery: the smallest relay a community could run.
async fn relay_server() -> (Server, RelayUrl) {
    let mut config = ServerConfig::default();
    config.relay = Some(RelayServerConfig::new((Ipv4Addr::LOCALHOST, 0)));
    let server = Server::spawn(config)
        .await
        .expect("the relay server starts");
    let addr = server.http_addr().expect("an HTTP address");
    let url: RelayUrl = format!("http://{addr}").parse().unwrap();
    (server, url)
}

/// Bound to `bind` only, relaying through `relay`, no local discovery.
fn through(bind: &str, relay: &RelayUrl) -> NetConfig {
    NetConfig {
        bind: Some(bind.parse::<SocketAddr>().unwrap()),
        relay: RelayConfig::Custom(relay.to_string()),
        ..NetConfig::default()
    }
}

/// Waits (bounded, 30 s) until `o` is connected to `relay` as its home relay, and returns the
/// address others may use: its id and that relay, nothing direct.
async fn relay_only_addr(o: &Online, relay: &RelayUrl) -> EndpointAddr {
    for _ in 0..300 {
        let addr = o.addr();
        if addr.relay_urls().any(|u| u == relay) {
            assert!(
                addr.ip_addrs().next().is_some(),
                "the node has direct addresses too (they are withheld below)"
            );
            return EndpointAddr::new(addr.id).with_relay_url(relay.clone());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the node did not take the test's relay as its home relay within 30 s");
}

/// Bytes the relay has passed on to its clients so far.
fn relayed(server: &Server) -> u64 {
    server.metrics().server.bytes_sent.get()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_who_can_only_reach_each_other_through_a_relay_sync() {
    let (server, url) = relay_server().await;
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
    let t = ana
        .create_thread(
            &c,
            &NewThread {
                activity: ActivityKind::Discussion,
                title: "Over the relay".into(),
                body: "Only the relay joins us.".into(),
                tags: Vec::new(),
            },
        )
        .unwrap();
    let a = Online::start(ana.clone(), through("[::1]:0", &url))
        .await
        .unwrap();
    let b = Online::start(bea.clone(), through("127.0.0.1:0", &url))
        .await
        .unwrap();

    // The premise: Ana's direct address is of no use to Bea's node.
    let direct = a.addr().ip_addrs().copied().collect::<Vec<_>>();
    assert!(direct.iter().all(SocketAddr::is_ipv6), "{direct:?}");
    let mut direct_only = EndpointAddr::new(a.addr().id);
    for d in &direct {
        direct_only = direct_only.with_ip_addr(*d);
    }
    let tried = tokio::time::timeout(Duration::from_secs(30), b.sync_with(direct_only, c)).await;
    assert!(
        matches!(tried, Err(_) | Ok(Err(_))),
        "Bea reached Ana's node without the relay: the test proves nothing"
    );

    let ana_addr = relay_only_addr(&a, &url).await;
    let bea_addr = relay_only_addr(&b, &url).await;
    let before = relayed(&server);
    let report = tokio::time::timeout(Duration::from_secs(60), b.sync_with(ana_addr, c))
        .await
        .expect("the sync over the relay did not finish")
        .expect("the sync over the relay");
    assert!(report.stats.changes_received > 0);
    assert_eq!(bea.threads(&c, &ThreadFilter::default()).unwrap().len(), 1);
    assert_eq!(bea.thread(&t).unwrap().title, "Over the relay");
    let after_first = relayed(&server);
    assert!(
        after_first >= before + report.bytes_received,
        "the relay passed on {} bytes, the session received {}",
        after_first - before,
        report.bytes_received
    );

    // The other way round: Bea replies, Ana's node dials Bea's (relay-only) address.
    bea.reply(&t, "Heard you, via the relay.", None).unwrap();
    // (The reply may have come live already, over the gossip link the sync opened; the
    // session then moves nothing, but it must still run through the relay.)
    tokio::time::timeout(Duration::from_secs(60), a.sync_with(bea_addr, c))
        .await
        .expect("the sync back over the relay did not finish")
        .expect("the sync back over the relay");
    assert!(has_reply(&ana, &t));
    assert!(relayed(&server) > after_first);

    a.shutdown().await;
    b.shutdown().await;
    server.shutdown().await.unwrap();
}

fn has_reply(n: &commonplace_node::Node, t: &commonplace_base::DocId) -> bool {
    n.thread(t)
        .map(|t| {
            t.replies
                .iter()
                .any(|r| r.body == "Heard you, via the relay.")
        })
        .unwrap_or(false)
}
