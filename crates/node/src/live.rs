//! Live updates: when a member writes, its node announces the document's new heads on the
//! community's gossip topic; a node that sees heads it lacks pulls them over a sync session
//! about that one document with the announcer. A node that pulled new heads announces them in
//! turn (its own write or not, a change is a change), so later pulls can go to any node that
//! has them. Announcements are signed and small (a document id and its heads, never
//! changes); everything they point to is verified by the sync session as usual.
//!
//! At most one pull per document runs at a time: announcements that arrive meanwhile are
//! remembered (the newest per document), and checked again when the pull ends.

use std::collections::{HashMap, HashSet};

use commonplace_base::{CommunityId, DocId, MemberId, Signature, SigningDomain, Timestamp};
use commonplace_model::DocKind;
use commonplace_net::{Announcer, LiveEvent, Network, PeerTicket};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tracing::{debug, warn};

use crate::{Node, NodeEvent};

/// "Document `doc` of `community` now has these heads", signed by `from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Announcement {
    community: CommunityId,
    doc: DocId,
    kind: DocKind,
    heads: Vec<[u8; 32]>,
    from: MemberId,
    at: Timestamp,
    /// Where to reach the announcer (a `PeerTicket`; empty if unknown): the node that pulls
    /// may not have met it yet. Used only for the announcer's own id.
    addr: Vec<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SignedAnnouncement {
    body: Vec<u8>,
    signature: Signature,
}

impl Node {
    fn announcement(&self, community: CommunityId, doc: DocId, addr: Vec<u8>) -> Option<Vec<u8>> {
        let rec = self.store().doc_record(&doc).ok()??;
        let a = Announcement {
            community,
            doc,
            kind: rec.kind,
            heads: rec.heads,
            from: self.member_id(),
            at: Timestamp::now(),
            addr,
        };
        let body = postcard::to_stdvec(&a).ok()?;
        let signature = self.secret_key().sign(SigningDomain::Announcement, &body);
        postcard::to_stdvec(&SignedAnnouncement { body, signature }).ok()
    }

    /// Checks an announcement and says whether it names heads we lack.
    fn wants(&self, bytes: &[u8]) -> Option<Announcement> {
        let s: SignedAnnouncement = postcard::from_bytes(bytes).ok()?;
        let a: Announcement = postcard::from_bytes(&s.body).ok()?;
        a.from
            .verify(SigningDomain::Announcement, &s.body, &s.signature)
            .ok()?;
        if a.from == self.member_id() || !self.may_sync(&a.community, &a.from).ok()? {
            return None;
        }
        let ours = self
            .store()
            .doc_record(&a.doc)
            .ok()?
            .map(|r| r.heads)
            .unwrap_or_default();
        let known: HashSet<[u8; 32]> = ours.into_iter().collect();
        if a.heads.iter().all(|h| known.contains(h)) {
            return None;
        }
        // Heads we do not hold as heads may still be older changes we have.
        let missing = self.lacks_changes(&a.doc, a.kind, &a.community, &a.heads);
        missing.then_some(a)
    }

    fn lacks_changes(
        &self,
        doc: &DocId,
        kind: DocKind,
        community: &CommunityId,
        heads: &[[u8; 32]],
    ) -> bool {
        let Ok(Some(rec)) = self.store().doc_record(doc) else {
            return true;
        };
        if rec.kind != kind || rec.community != *community {
            return false;
        }
        let mut cache = self.lock_docs();
        let Ok(d) = self.loaded(&mut cache, doc, &rec) else {
            return true;
        };
        heads.iter().any(|h| {
            d.get_change_meta_by_hash(&automerge::ChangeHash(*h))
                .is_none()
        })
    }
}

/// Most announcements remembered per document while it is being pulled.
const MAX_WAITING: usize = 16;

/// Handle on the live-update actor.
#[derive(Debug)]
pub(crate) struct Live {
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Tells the live actor that we synced with a member, so it joins them on the topic.
pub(crate) type MetSender = mpsc::UnboundedSender<(MemberId, CommunityId)>;

impl Live {
    pub(crate) fn start(
        node: Node,
        network: Network,
        met: mpsc::UnboundedReceiver<(MemberId, CommunityId)>,
    ) -> Live {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(node, network, stopped, met));
        Live {
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub(crate) async fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(mut t) = self.task.take() {
            // The actor stops at its next turn; one stuck in a network call is aborted.
            if tokio::time::timeout(std::time::Duration::from_secs(5), &mut t)
                .await
                .is_err()
            {
                t.abort();
            }
        }
    }
}

/// The actor: announces local changes, listens to every community's topic, pulls what it
/// lacks. Owns its subscriptions and sync tasks; all end when it stops.
async fn run(
    node: Node,
    network: Network,
    mut stopped: oneshot::Receiver<()>,
    mut met: mpsc::UnboundedReceiver<(MemberId, CommunityId)>,
) {
    let mut events = node.subscribe();
    let (inbox_tx, mut inbox) = mpsc::channel::<(CommunityId, LiveEvent)>(1024);
    let mut announcers: HashMap<CommunityId, Announcer> = HashMap::new();
    let mut listeners: JoinSet<()> = JoinSet::new();
    let mut syncs: JoinSet<(CommunityId, DocId)> = JoinSet::new();
    let mut syncing: HashSet<(CommunityId, DocId)> = HashSet::new();
    // Announcements that arrived while their document was being pulled (the newest of each
    // announcer, with the neighbour that relayed it): checked again when the pull ends.
    let mut again: HashMap<(CommunityId, DocId), Vec<(Announcement, MemberId)>> = HashMap::new();
    // Members already asked onto a community's topic.
    let mut joined: HashSet<(MemberId, CommunityId)> = HashSet::new();

    for c in node.community_ids().unwrap_or_default() {
        subscribe(
            &node,
            &network,
            c,
            &mut announcers,
            &mut listeners,
            &inbox_tx,
        )
        .await;
    }
    loop {
        tokio::select! {
            biased;
            _ = &mut stopped => break,
            ev = events.recv() => {
                let (community, doc) = match ev {
                    Ok(e) => match changed_doc(&e) {
                        Some(d) => d,
                        None => continue,
                    },
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => break,
                };
                if !announcers.contains_key(&community) {
                    subscribe(&node, &network, community, &mut announcers, &mut listeners, &inbox_tx).await;
                }
                let addr = PeerTicket(network.addr()).to_bytes();
                if let (Some(a), Some(bytes)) = (announcers.get(&community), node.announcement(community, doc, addr))
                    && let Err(e) = a.announce(bytes).await
                {
                    debug!("announcement not sent: {e}");
                }
            }
            Some((peer, community)) = met.recv() => {
                // Every session ends with word of it; join a member to the topic once. (Joining
                // again makes the swarm reshuffle its neighbours on every pull, and broadcasts
                // then wait on the gossip tree's repairs.)
                if !joined.insert((peer, community)) {
                    continue;
                }
                match announcers.get(&community) {
                    Some(a) => {
                        if let Err(e) = a.join(vec![peer]).await {
                            debug!("could not add a gossip peer: {e}");
                        }
                    }
                    None => subscribe(&node, &network, community, &mut announcers, &mut listeners, &inbox_tx).await,
                }
            }
            Some((community, ev)) = inbox.recv() => {
                let LiveEvent::Message { content, via } = ev else { continue };
                let n = node.clone();
                let wanted = tokio::task::spawn_blocking(move || n.wants(&content)).await.ok().flatten();
                let Some(a) = wanted else { continue };
                if a.community != community { continue; }
                // The announcer says where it is; believe it only about itself (the TLS
                // handshake checks the key anyway).
                if let Ok(t) = PeerTicket::from_bytes(&a.addr)
                    && t.0.id.as_bytes() == a.from.as_bytes()
                {
                    network.remember(t.0);
                }
                let key = (community, a.doc);
                if !syncing.insert(key) {
                    let waiting = again.entry(key).or_default();
                    waiting.retain(|(w, _)| w.from != a.from);
                    if waiting.len() < MAX_WAITING {
                        waiting.push((a, via));
                    }
                    continue;
                }
                spawn_pull(&mut syncs, network.clone(), a.from, via, community, a.doc);
            }
            Some(done) = syncs.join_next(), if !syncs.is_empty() => {
                let Ok(key) = done else { continue };
                syncing.remove(&key);
                let Some(waiting) = again.remove(&key) else { continue };
                // Still lacking what one of them named? Pull it from its announcer; the rest
                // wait for the end of that pull.
                let n = node.clone();
                let (next, rest) = tokio::task::spawn_blocking(move || {
                    let mut rest = waiting.into_iter();
                    let next = rest
                        .by_ref()
                        .find(|(a, _)| n.lacks_changes(&a.doc, a.kind, &a.community, &a.heads));
                    (next, rest.collect::<Vec<_>>())
                })
                .await
                .unwrap_or_default();
                if let Some((a, via)) = next {
                    syncing.insert(key);
                    if !rest.is_empty() {
                        again.insert(key, rest);
                    }
                    spawn_pull(&mut syncs, network.clone(), a.from, via, key.0, key.1);
                }
            }
        }
    }
    listeners.shutdown().await;
    syncs.shutdown().await;
}

async fn subscribe(
    node: &Node,
    network: &Network,
    community: CommunityId,
    announcers: &mut HashMap<CommunityId, Announcer>,
    listeners: &mut JoinSet<()>,
    inbox: &mpsc::Sender<(CommunityId, LiveEvent)>,
) {
    let peers: Vec<MemberId> = node
        .known_peers()
        .unwrap_or_default()
        .into_iter()
        .filter(|(m, _)| node.may_sync(&community, m).unwrap_or(false))
        .map(|(m, _)| m)
        .collect();
    match network.subscribe(&community, peers).await {
        Ok((announcer, mut listener)) => {
            announcers.insert(community, announcer);
            let inbox = inbox.clone();
            listeners.spawn(async move {
                while let Some(ev) = listener.next().await {
                    if inbox.send((community, ev)).await.is_err() {
                        break;
                    }
                }
            });
        }
        Err(e) => warn!(community = %community.short(), "live updates unavailable: {e}"),
    }
}

/// The document a node event is about, if it is one that peers should hear of.
fn changed_doc(e: &NodeEvent) -> Option<(CommunityId, DocId)> {
    if let NodeEvent::ThreadChanged { community, thread } = e {
        return Some((*community, *thread));
    }
    if let NodeEvent::EntryChanged { community, entry } = e {
        return Some((*community, *entry));
    }
    if let NodeEvent::EventChanged { community, event } = e {
        return Some((*community, *event));
    }
    if let NodeEvent::CommunityChanged { community } = e {
        return Some((*community, DocId::from_bytes(*community.as_bytes())));
    }
    None
}

/// Pulls one document: a session about it alone, with the node that announced it (or, if
/// that fails, the neighbour that relayed the announcement).
fn spawn_pull(
    syncs: &mut JoinSet<(CommunityId, DocId)>,
    network: Network,
    announcer: MemberId,
    via: MemberId,
    community: CommunityId,
    doc: DocId,
) {
    syncs.spawn(async move {
        let mut tried = None;
        for peer in [announcer, via] {
            if tried == Some(peer) {
                continue;
            }
            tried = Some(peer);
            let Ok(id) = iroh::EndpointId::from_bytes(peer.as_bytes()) else {
                continue;
            };
            match network
                .sync_scoped(iroh::EndpointAddr::new(id), community, Some(doc))
                .await
            {
                Ok(_) => break,
                Err(e) => debug!(peer = %peer.short(), "live pull failed: {e}"),
            }
        }
        (community, doc)
    });
}
