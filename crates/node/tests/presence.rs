//! The network owner ([`Presence`]): it goes online and syncs every known member at once, it
//! restarts the network when reconfigured, it keeps trying when going online fails and says
//! why, and its shutdown takes the node off the network. Real iroh endpoints on loopback,
//! relays disabled.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::node;
use commonplace_model::{ActivityKind, Role};
use commonplace_net::NetError;
use commonplace_node::{
    Connectivity, NetPlan, NewCommunity, NewThread, NodeError, Presence, PresenceEvent, RelayMode,
    Trigger,
};

fn loopback_plan() -> NetPlan {
    NetPlan {
        bind: Some("127.0.0.1:0".parse().unwrap()),
        relay: Some(RelayMode::Off),
        mdns: false,
        interval: Duration::from_secs(3600),
    }
}

/// Waits (bounded) for the first event that `pick` accepts.
async fn next_event<T>(
    events: &mut tokio::sync::broadcast::Receiver<PresenceEvent>,
    what: &str,
    mut pick: impl FnMut(&PresenceEvent) -> Option<T>,
) -> T {
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let ev = events.recv().await.expect("the owner's events end");
            if let Some(t) = pick(&ev) {
                return t;
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("{what} did not happen within 20 s"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_goes_online_syncs_known_members_at_once_and_shuts_down() {
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
    // Bea holds the community (as after joining) and knows where Ana's node is.
    bea.import(&ana.export(&c).unwrap()).unwrap();
    let a = Presence::start(ana.clone(), loopback_plan());
    let a_online = a.settled().await.unwrap();
    bea.record_peer(&ana.member_id(), a_online.ticket().to_bytes())
        .unwrap();
    ana.create_thread(
        &c,
        &NewThread {
            activity: ActivityKind::Request,
            title: "Lighting audits".into(),
            body: "Who has run one?".into(),
            tags: vec![],
        },
    )
    .unwrap();

    // Bea's owner starts: the first round runs at once (not after the hour-long interval).
    let b = Presence::start(bea.clone(), loopback_plan());
    let mut events = b.subscribe();
    let b_online = b.settled().await.unwrap();
    let round = next_event(&mut events, "a first round", |ev| match ev {
        PresenceEvent::Round(r) => Some(r.clone()),
        _ => None,
    })
    .await;
    assert_eq!(round.trigger, Trigger::Started);
    let results = round.results.as_ref().unwrap();
    assert!(
        results
            .iter()
            .any(|(m, cc, r)| *m == ana.member_id() && *cc == c && r.is_ok()),
        "{results:?}"
    );
    assert_eq!(bea.threads(&c, &Default::default()).unwrap().len(), 1);
    assert!(matches!(b.state(), Connectivity::Online(_)));
    assert!(b.online().unwrap().same_as(&b_online));

    // Shutdown: the state says so, the events end, and calling it again does nothing.
    b.shutdown().await;
    assert!(matches!(b.state(), Connectivity::Stopped));
    assert!(b.online().is_none());
    next_event(&mut events, "the stop", |ev| {
        matches!(ev, PresenceEvent::Stopped).then_some(())
    })
    .await;
    b.shutdown().await;
    assert!(b.reconfigure(loopback_plan()).await.is_err());
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconfiguring_restarts_the_network_with_the_new_plan() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let p = Presence::start(ana.clone(), loopback_plan());
    let first = p.settled().await.unwrap();
    let mut events = p.subscribe();
    // Another address: the owner restarts on it, and says so.
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let free: SocketAddr = taken.local_addr().unwrap();
    drop(taken);
    p.reconfigure(NetPlan {
        bind: Some(free),
        ..loopback_plan()
    })
    .await
    .unwrap();
    let second = p.online().unwrap();
    assert!(!second.same_as(&first));
    assert_eq!(second.network().bound_sockets().first(), Some(&free));
    // (The first network's own "online" may come first: the state turns before the event.)
    let new_address = second.ticket();
    next_event(
        &mut events,
        "online again at the new address",
        |ev| match ev {
            PresenceEvent::Online { address } => (*address == new_address).then_some(()),
            _ => None,
        },
    )
    .await;
    assert_eq!(p.plan().bind, Some(free));
    // The bound address is remembered, so members find this node where they saw it last.
    assert_eq!(
        ana.net_setting("bind").unwrap().as_deref(),
        Some(free.to_string().as_str())
    );
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_in_use_keeps_it_offline_with_the_reason_and_it_retries() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    // Someone else holds the address the plan asks for.
    let holder = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let busy = holder.local_addr().unwrap();
    let p = Presence::start(
        ana.clone(),
        NetPlan {
            bind: Some(busy),
            ..loopback_plan()
        },
    );
    let mut events = p.subscribe();
    let err = p.settled().await.unwrap_err();
    assert!(
        matches!(
            *err,
            NodeError::Net(NetError::Bind(commonplace_net::BindError::Endpoint(_)))
        ),
        "the typed cause: {err:?}"
    );
    // iroh's own bind error is kept down the source chain, not flattened into the sentence.
    let mut chain = std::error::Error::source(&*err);
    let mut found = false;
    while let Some(e) = chain {
        found |= e.is::<iroh::endpoint::BindError>();
        chain = e.source();
    }
    assert!(found, "iroh's BindError in the chain: {err:?}");
    let Connectivity::Offline { retry_in, .. } = p.state() else {
        panic!("offline, with the reason and when it tries again");
    };
    assert_eq!(retry_in, Duration::from_secs(2));
    // It tries again by itself; once the address is free, it is online.
    drop(holder);
    next_event(&mut events, "online after the retry", |ev| {
        matches!(ev, PresenceEvent::Online { .. }).then_some(())
    })
    .await;
    assert_eq!(
        p.online().unwrap().network().bound_sockets().first(),
        Some(&busy)
    );
    p.shutdown().await;
    assert!(matches!(p.state(), Connectivity::Stopped));
}
