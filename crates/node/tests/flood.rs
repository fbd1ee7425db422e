//! A node on loopback faced with a flood keeps serving an honest member: 1,000 sync attempts
//! by non-members, and 10,000 gossip messages from a member (garbage, announcements of
//! documents that do not exist, announcements of what it already holds), during which its
//! memory stays bounded. Bounded in count and time (each attempt and the whole run time out).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{loopback, node};
use commonplace_base::{DocId, SecretKey, Timestamp};
use commonplace_model::{DocKind, Role};
use commonplace_net::{PeerTicket, topic_of};
use commonplace_node::{NewCommunity, NewThread, Online, ThreadFilter};
use commonplace_sync::{Announcement, Carried};
use n0_future::StreamExt;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

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

/// The process's resident memory in KiB (Linux; `None` elsewhere).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The heads of `doc` as `n` holds it (read from an export, as a peer would see them).
fn heads_of(
    n: &commonplace_node::Node,
    c: &commonplace_base::CommunityId,
    doc: &DocId,
) -> Vec<[u8; 32]> {
    let body = commonplace_model::bundle::decode(&n.export(c).unwrap())
        .unwrap()
        .body;
    let d = body.docs.iter().find(|d| d.id == *doc).unwrap();
    let mut am = automerge::Automerge::new();
    am.apply_changes(
        d.changes
            .iter()
            .map(|c| automerge::Change::from_bytes(c.bytes.clone()).unwrap()),
    )
    .unwrap();
    am.get_heads().into_iter().map(|h| h.0).collect()
}

/// Gossip messages the member sends.
const FLOOD: usize = 10_000;
/// Most the process's resident memory may grow while the flood is handled (and for 10 s
/// after). Ana's and Bea's nodes both live in this process (Bea's is Ana's gossip neighbour,
/// so it hears the flood too), and iroh-gossip keeps every message it passed on for 30 s:
/// about 45 MiB in all for this flood. Before pulls were bounded (`MAX_PULLS` in the node's
/// `live.rs`), every announcement of a document that does not exist started a pull of its
/// own, and the same flood grew the process by 160 MiB and more, growing on after the last
/// message as the pulls piled up.
const MAX_GROWTH_KIB: u64 = 96 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_gossip_messages_from_a_member_leave_an_honest_member_served() {
    let root = tempfile::tempdir().unwrap();
    let ana = node(root.path(), "ana");
    let bea = node(root.path(), "bea");
    let mal = SecretKey::from_seed([0x4d; 32]);
    let c = ana
        .create_community(&NewCommunity {
            name: "Engineers".into(),
            ..Default::default()
        })
        .unwrap();
    ana.add_member(&c, &bea.member_id(), "Bea", Role::Member)
        .unwrap();
    ana.add_member(&c, &mal.member_id(), "Mal", Role::Member)
        .unwrap();
    let t = ana
        .create_thread(
            &c,
            &NewThread {
                activity: commonplace_model::ActivityKind::Discussion,
                title: "Before the flood".into(),
                body: "Calm.".into(),
                tags: Vec::new(),
            },
        )
        .unwrap();
    let a = Online::start(ana.clone(), loopback()).await.unwrap();

    // Mal's node: a bare endpoint with gossip and Mal's (member's) key. It answers no sync,
    // so every pull Ana's node tries of it fails.
    let lookup = iroh::address_lookup::MemoryLookup::new();
    lookup.add_endpoint_info(a.addr());
    let endpoint = iroh::Endpoint::builder(iroh::endpoint::presets::Minimal)
        .secret_key(iroh::SecretKey::from_bytes(&mal.to_secret_bytes()))
        .relay_mode(iroh::RelayMode::Disabled)
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0".parse::<SocketAddr>().unwrap())
        .unwrap()
        .address_lookup(lookup)
        .bind()
        .await
        .unwrap();
    // Mal's gossip forgets what it sent at once (the default keeps it 30 s): the memory
    // measured below is then the honest nodes', not the attacker's.
    let gossip = iroh_gossip::Gossip::builder()
        .max_message_size(commonplace_net::GOSSIP_MAX_MESSAGE)
        .broadcast_config(iroh_gossip::proto::PlumtreeConfig {
            message_cache_retention: Duration::from_millis(100),
            message_id_retention: Duration::from_millis(200),
            ..Default::default()
        })
        .spawn(endpoint.clone());
    let router = iroh::protocol::Router::builder(endpoint.clone())
        .accept(iroh_gossip::ALPN, gossip.clone())
        .spawn();
    let ana_id = iroh::EndpointId::from_bytes(ana.member_id().as_bytes()).unwrap();
    let topic = gossip
        .subscribe(iroh_gossip::TopicId::from_bytes(topic_of(&c)), vec![ana_id])
        .await
        .unwrap();
    let (sender, mut receiver) = topic.split();
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(ev) = receiver.next().await {
            if let Ok(iroh_gossip::api::Event::NeighborUp(id)) = ev
                && id == ana_id
            {
                return;
            }
        }
    })
    .await
    .expect("Ana's node did not take Mal's as a gossip neighbour");
    // Keep reading, as a node does (a receiver left unread makes gossip drop the topic).
    let drain = tokio::spawn(async move { while receiver.next().await.is_some() {} });

    // Bea's node is up and has synced once before the flood, so the baseline holds both.
    let b = Online::start(bea.clone(), loopback()).await.unwrap();
    b.sync_with(a.addr(), c).await.unwrap();
    let before = rss_kib();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                if let Some(r) = rss_kib() {
                    peak.fetch_max(r, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let mal_id = mal.member_id();
    let mal_addr = PeerTicket(endpoint.addr()).to_bytes();
    let known_heads = heads_of(&ana, &c, &t);
    let flood = tokio::spawn(async move {
        let mut rng = StdRng::seed_from_u64(10_000);
        let mut sent = 0;
        for i in 0..FLOOD {
            let bytes = match i % 8 {
                // Bytes that are no announcement at all.
                0 => (0..3_500).map(|_| rng.random::<u8>()).collect(),
                // Signed announcements of documents nobody wrote: each names heads to pull.
                2.. => Announcement {
                    community: c,
                    doc: DocId::random(&mut rng),
                    kind: DocKind::Thread,
                    heads: vec![rng.random()],
                    from: mal.member_id(),
                    at: Timestamp::now(),
                    addr: mal_addr.clone(),
                    carried: Carried::default(),
                }
                .seal(&mal)
                .unwrap(),
                // Signed announcements of what the node already holds.
                1 => Announcement {
                    community: c,
                    doc: t,
                    kind: DocKind::Thread,
                    heads: known_heads.clone(),
                    from: mal.member_id(),
                    at: Timestamp::now(),
                    addr: mal_addr.clone(),
                    carried: Carried::default(),
                }
                .seal(&mal)
                .unwrap(),
            };
            if sender.broadcast(bytes.into()).await.is_ok() {
                sent += 1;
            }
        }
        (sent, sender)
    });

    // While it runs, Ana writes and the honest member syncs and gets it.
    ana.create_thread(
        &c,
        &NewThread {
            activity: commonplace_model::ActivityKind::Discussion,
            title: "During the flood".into(),
            body: "Still answering.".into(),
            tags: Vec::new(),
        },
    )
    .unwrap();
    let report = tokio::time::timeout(Duration::from_secs(60), b.sync_with(a.addr(), c))
        .await
        .expect("the member's sync did not finish under the flood")
        .unwrap();
    // (The new thread may have come live already: Bea's node is Ana's gossip neighbour.)
    assert_eq!(report.peer, ana.member_id());
    assert_eq!(bea.threads(&c, &ThreadFilter::default()).unwrap().len(), 2);

    let (sent, _sender) = tokio::time::timeout(Duration::from_secs(120), flood)
        .await
        .expect("the flood did not end")
        .unwrap();
    assert_eq!(sent, FLOOD, "gossip refused some of Mal's messages");
    // The node heard them: garbage is recorded against the neighbour that relayed it.
    let mut heard = false;
    for _ in 0..300 {
        heard = a.recent_syncs().iter().any(|r| r.peer == mal_id && !r.ok);
        if heard {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(heard, "Ana's node never heard the flood");
    // And it still answers once the flood is over: a second sync, with a new write.
    ana.reply(&t, "After the flood.", None).unwrap();
    let again = tokio::time::timeout(Duration::from_secs(60), b.sync_with(a.addr(), c))
        .await
        .expect("the member's sync after the flood did not finish")
        .unwrap();
    assert_eq!(again.peer, ana.member_id());
    assert_eq!(bea.thread(&t).unwrap().replies.len(), 1);
    // What the node keeps of it is bounded: its sync log holds the last 1,000 records.
    assert!(a.recent_syncs().len() <= 1_000);

    // What the node still works through after the last message arrived counts too.
    tokio::time::sleep(Duration::from_secs(10)).await;
    sampler.abort();
    if let (Some(before), peak) = (before, peak.load(std::sync::atomic::Ordering::Relaxed)) {
        let growth = peak.saturating_sub(before);
        eprintln!("resident memory: {before} KiB before, {peak} KiB at most ({growth} KiB more)");
        assert!(
            growth <= MAX_GROWTH_KIB,
            "the flood grew the process by {growth} KiB (bound {MAX_GROWTH_KIB} KiB)"
        );
    }
    drain.abort();
    router.shutdown().await.unwrap();
    for o in [a, b] {
        o.shutdown().await;
    }
}
