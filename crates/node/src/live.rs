//! Live updates: when a member writes, its node announces the document's new heads on the
//! community's gossip topic, and carries the changes at those heads in the announcement when
//! they fit (they usually do: one post is a few hundred bytes). A node that receives it
//! verifies the carried changes exactly as a sync session would (signature, membership, right
//! to write) and applies them: no round trip at all. Only when it lacks their dependencies, or
//! nothing was carried, does it pull the document over a sync session about that one document
//! with the announcer. Gossip relays the announcement through the swarm; a node that applied
//! a carried change does not announce it again. A node that had to pull new heads announces
//! them in turn, so later pulls can go to any node that has them.
//!
//! At most one pull per document runs at a time: announcements that arrive meanwhile are
//! remembered (the newest per document and announcer), and checked again when the pull ends.
//! An announcement that fails a check (bad encoding, signature, or a carried change that
//! verification refuses) is dropped and recorded in the sync log against the peer that
//! signed it (or, unsigned, the neighbour that relayed it).

use std::collections::{HashMap, HashSet};

use automerge::{ChangeHash, ReadDoc};
use commonplace_base::{CommunityId, DocId, MemberId, Timestamp};
use commonplace_model::{DocKind, DocRef, RejectReason, SignedChange};
use commonplace_net::{Announcer, LiveEvent, MAX_ANNOUNCEMENT, Network, PeerTicket};
use commonplace_sync::{AnnounceError, Announcement, Carried, MAX_CARRIED_CHANGES};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tracing::{debug, warn};

use crate::{Node, NodeEvent, SyncRecord};

/// What a received announcement leads to.
#[derive(Debug)]
enum Heard {
    /// Nothing new, not for us, or from ourselves.
    Nothing,
    /// Its carried changes were verified and stored; the document now has `heads`.
    Applied { doc: DocId, heads: Vec<[u8; 32]> },
    /// It names heads we lack and carried none we could use: pull them.
    Pull(Announcement),
    /// It failed a check: `peer` is who signed it (or relayed it, if its signature failed).
    Refused {
        peer: MemberId,
        community: CommunityId,
        reason: String,
    },
}

impl Node {
    /// The signed announcement of `doc`'s current heads, carrying the changes at those heads
    /// when the whole stays under [`MAX_ANNOUNCEMENT`].
    fn announcement(&self, community: CommunityId, doc: DocId, addr: Vec<u8>) -> Option<Vec<u8>> {
        let rec = self.store().doc_record(&doc).ok()??;
        let mut a = Announcement {
            community,
            doc,
            kind: rec.kind,
            heads: rec.heads.clone(),
            from: self.member_id(),
            at: Timestamp::now(),
            addr,
            carried: Carried::default(),
        };
        let changes = self.head_changes(&doc, &rec, &a.heads).unwrap_or_default();
        if !changes.is_empty()
            && let Some(carried) = Carried::pack(&changes)
        {
            a.carried = carried;
            if let Some(full) = self.sign_announcement(&a)
                && full.len() <= MAX_ANNOUNCEMENT
            {
                return Some(full);
            }
            // Too large to carry: announce the heads alone, receivers pull.
            a.carried = Carried::default();
        }
        self.sign_announcement(&a)
    }

    fn sign_announcement(&self, a: &Announcement) -> Option<Vec<u8>> {
        a.seal(self.secret_key()).ok()
    }

    /// The changes at `heads` with their stored signatures; none if any head lacks one (the
    /// receiver then pulls, as without carried changes).
    fn head_changes(
        &self,
        doc: &DocId,
        rec: &commonplace_store::DocRecord,
        heads: &[[u8; 32]],
    ) -> Option<Vec<SignedChange>> {
        if heads.len() > MAX_CARRIED_CHANGES {
            return None;
        }
        let signatures = self.store().signatures(doc, heads).ok()?;
        self.read_doc(doc, rec, |d| {
            heads
                .iter()
                .zip(signatures)
                .map(|(h, s)| {
                    Some(SignedChange {
                        bytes: d.get_change_by_hash(&ChangeHash(*h))?.raw_bytes().to_vec(),
                        signature: Some(s?),
                    })
                })
                .collect()
        })
        .ok()?
    }

    /// Checks an announcement relayed by `via`; applies the changes it carries if they are
    /// new and pass verification, or says to pull what it names.
    fn hear(&self, bytes: &[u8], via: MemberId, topic: CommunityId) -> Heard {
        // Gossip passes messages on before anyone checks them, so `via` may be an honest
        // relay: the record says so rather than accusing it.
        let relayed = |reason: String| Heard::Refused {
            peer: via,
            community: topic,
            reason: format!("relayed an announcement that {reason} (its author is unknown)"),
        };
        let a = match Announcement::open(bytes) {
            Ok(a) => a,
            Err(e @ AnnounceError::BadSignature { .. }) => return relayed(e.to_string()),
            Err(_) => return relayed("does not decode".into()),
        };
        if a.community != topic || a.from == self.member_id() {
            return Heard::Nothing;
        }
        if !self.may_sync(&a.community, &a.from).unwrap_or(false) {
            return Heard::Nothing;
        }
        if !self.lacks_changes(&a.doc, a.kind, &a.community, &a.heads) {
            return Heard::Nothing;
        }
        let refused = |reason: String| Heard::Refused {
            peer: a.from,
            community: a.community,
            reason,
        };
        let changes = match a.carried.unpack() {
            Ok(c) => c,
            Err(e) => return refused(format!("announcement refused: {e}")),
        };
        if changes.is_empty() {
            return Heard::Pull(a);
        }
        match self.apply_carried(&a, &changes) {
            Ok(Some(heads)) => Heard::Applied { doc: a.doc, heads },
            Ok(None) => Heard::Nothing,
            Err(RejectReason::MissingDependency { .. }) => Heard::Pull(a),
            Err(e) => refused(format!("announcement refused: {e}")),
        }
    }

    /// Verifies carried changes of the announced document and stores them through the
    /// ingest gate (see `ingest.rs`), as every other way in does. Returns the new heads, or
    /// `None` if the changes were known (or the document is not one of ours to take).
    ///
    /// Not durable yet: the actor flushes within `FLUSH_AFTER`, and a crash before that
    /// loses only what the next sync brings again. One flush for a burst of announcements
    /// instead of a disk sync for each keeps the disk off every change's path.
    fn apply_carried(
        &self,
        a: &Announcement,
        changes: &[SignedChange],
    ) -> Result<Option<Vec<[u8; 32]>>, RejectReason> {
        let doc = DocRef {
            community: a.community,
            kind: a.kind,
            id: a.doc,
        };
        match self.ingest_carried(&doc, changes) {
            Ok(heads) => Ok(heads),
            Err(crate::NodeError::Rejected(r)) => Err(r),
            Err(e) => Err(RejectReason::Malformed {
                doc: a.doc,
                detail: format!("could not store it here: {e}"),
            }),
        }
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
        if heads.iter().all(|h| rec.heads.contains(h)) {
            return false;
        }
        // Heads we do not hold as heads may still be older changes we have.
        self.read_doc(doc, &rec, |d| {
            heads
                .iter()
                .any(|h| d.get_change_meta_by_hash(&ChangeHash(*h)).is_none())
        })
        .unwrap_or(true)
    }
}

/// How long changes applied from announcements may stay in the store without a disk sync.
const FLUSH_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Most announcements remembered per document while it is being pulled.
const MAX_WAITING: usize = 16;

/// Most pulls running at once. A member who announces heads of many documents that do not
/// exist (or that it never sends) would otherwise make this node start a pull, with its
/// connection attempt, for every announcement, faster than they end: 10,000 such
/// announcements grew the node by hundreds of MiB (`tests/flood.rs`). Beyond this an
/// announcement that needs a pull is dropped; the next full sync brings what it named.
const MAX_PULLS: usize = 64;

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
        log: crate::peers::SyncLog,
    ) -> Live {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(node, network, stopped, met, log));
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
    log: crate::peers::SyncLog,
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
    // Documents whose newest heads came carried in an announcement: gossip has already
    // spread that announcement, so the change they bring is not announced again.
    let mut heard: HashMap<DocId, Vec<[u8; 32]>> = HashMap::new();
    // When the changes applied from announcements since the last flush must be on disk.
    let mut flush_at: Option<tokio::time::Instant> = None;
    // Catch-up sessions with new neighbours, one per neighbour and community at a time.
    let mut catchups: JoinSet<(MemberId, CommunityId)> = JoinSet::new();
    let mut catching_up: HashSet<(MemberId, CommunityId)> = HashSet::new();

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
                    Ok(e) => {
                        // A roster changed: whoever was removed is dropped as a gossip
                        // neighbour before anything new is announced.
                        if matches!(e, NodeEvent::CommunityChanged { .. }) {
                            network.recheck_gossip_links().await;
                        }
                        match changed_doc(&e) {
                            Some(d) => d,
                            None => continue,
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        // A missed event may have been a removal.
                        network.recheck_gossip_links().await;
                        continue;
                    }
                    Err(_) => break,
                };
                if let Some(heads) = heard.remove(&doc)
                    && node.store().doc_record(&doc).ok().flatten().is_some_and(|r| r.heads == heads)
                {
                    continue;
                }
                if !announcers.contains_key(&community) {
                    subscribe(&node, &network, community, &mut announcers, &mut listeners, &inbox_tx).await;
                }
                // With no neighbour on the topic an announcement reaches nobody (gossip keeps
                // no history; a neighbour that arrives later gets a catch-up session), so it
                // is not built: after a sync that changed many documents, that was a few
                // percent of the node's CPU.
                let Some(a) = announcers.get(&community).filter(|a| a.has_neighbours()) else {
                    continue;
                };
                let addr = PeerTicket(network.addr()).to_bytes();
                if let Some(bytes) = node.announcement(community, doc, addr)
                    && let Err(e) = a.announce(bytes).await
                {
                    debug!("announcement not sent: {e}");
                }
            }
            () = sleep_until(flush_at), if flush_at.is_some() => {
                flush_at = None;
                flush(&node).await;
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
            Some(done) = catchups.join_next(), if !catchups.is_empty() => {
                if let Ok(key) = done {
                    catching_up.remove(&key);
                }
            }
            Some((community, ev)) = inbox.recv() => {
                // A new link in the swarm: announcements sent before it existed did not cross
                // it (gossip keeps no history), so the two ends run one session over the
                // community — the one with the smaller id starts it, so there is one, and a
                // session between equal nodes is two short hellos.
                if let LiveEvent::NeighborUp(peer) = ev {
                    if node.member_id() < peer && catching_up.insert((peer, community)) {
                        let network = network.clone();
                        catchups.spawn(async move {
                            if let Ok(id) = iroh::EndpointId::from_bytes(peer.as_bytes())
                                && let Err(e) = network
                                    .sync_scoped(iroh::EndpointAddr::new(id), community, None)
                                    .await
                            {
                                debug!(peer = %peer.short(), "catch-up with a new neighbour failed: {e}");
                            }
                            (peer, community)
                        });
                    }
                    continue;
                }
                let LiveEvent::Message { content, via } = ev else { continue };
                let n = node.clone();
                let outcome = tokio::task::spawn_blocking(move || n.hear(&content, via, community))
                    .await
                    .unwrap_or(Heard::Nothing);
                let a = match outcome {
                    Heard::Nothing => continue,
                    Heard::Applied { doc, heads } => {
                        heard.insert(doc, heads);
                        flush_at.get_or_insert_with(|| tokio::time::Instant::now() + FLUSH_AFTER);
                        continue;
                    }
                    Heard::Refused { peer, community, reason } => {
                        warn!(peer = %peer.short(), "{reason}");
                        let n = node.clone();
                        let log = log.clone();
                        let _ = tokio::task::spawn_blocking(move || {
                            crate::peers::record(&n, &log, SyncRecord {
                                peer,
                                community,
                                at: Timestamp::now(),
                                ok: false,
                                changes_received: 0,
                                changes_sent: 0,
                                error: Some(reason),
                            });
                        })
                        .await;
                        continue;
                    }
                    Heard::Pull(a) => a,
                };
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
                if syncs.len() >= MAX_PULLS {
                    syncing.remove(&key);
                    debug!(peer = %a.from.short(), "too many pulls at once: announcement dropped");
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
    if flush_at.is_some() {
        flush(&node).await;
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Makes what announcements brought durable.
async fn flush(node: &Node) {
    let n = node.clone();
    match tokio::task::spawn_blocking(move || n.store().flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => warn!("could not flush changes received live: {e}"),
        Err(e) => warn!("could not flush changes received live: {e}"),
    }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use automerge::transaction::Transactable;
    use commonplace_base::{SecretKey, SigningDomain};
    use commonplace_model::{ActivityKind, Role};
    use commonplace_sync::SignedAnnouncement;
    use serde::Serialize;

    use super::*;
    use crate::{NewCommunity, NewThread, Profile};

    /// Ana founds a community with Bea and Mal as members; Bea and Mal hold it (from a
    /// bundle, no network); Ana opened a thread that both hold too.
    struct World {
        ana: Node,
        bea: Node,
        mal: Node,
        community: CommunityId,
        thread: DocId,
        _dir: tempfile::TempDir,
    }

    fn world() -> World {
        let dir = tempfile::tempdir().unwrap();
        let node =
            |name: &str| Node::init(Profile::at(dir.path().join(name)), name, None, None).unwrap();
        let (ana, bea, mal) = (node("ana"), node("bea"), node("mal"));
        let community = ana
            .create_community(&NewCommunity {
                name: "Engineers".into(),
                ..Default::default()
            })
            .unwrap();
        for (n, name) in [(&bea, "Bea"), (&mal, "Mal")] {
            ana.add_member(&community, &n.member_id(), name, Role::Member)
                .unwrap();
        }
        let thread = ana
            .create_thread(
                &community,
                &NewThread {
                    activity: ActivityKind::Request,
                    title: "Anyone at the conference?".into(),
                    body: "Meet at the coffee stand.".into(),
                    tags: vec![],
                },
            )
            .unwrap();
        let bundle = ana.export(&community).unwrap();
        bea.import(&bundle).unwrap();
        mal.import(&bundle).unwrap();
        World {
            ana,
            bea,
            mal,
            community,
            thread,
            _dir: dir,
        }
    }

    fn decode(bytes: &[u8]) -> Announcement {
        Announcement::decode_body(&SignedAnnouncement::decode(bytes).unwrap().body).unwrap()
    }

    /// Signs `a` as the holder of `key` would.
    fn seal(a: &Announcement, key: &SecretKey) -> Vec<u8> {
        a.seal(key).unwrap()
    }

    fn replies(n: &Node, t: &DocId) -> usize {
        n.thread(t).unwrap().replies.len()
    }

    #[test]
    fn a_carried_change_is_applied_without_a_pull() {
        let w = world();
        let mut events = w.bea.subscribe();
        w.ana.reply(&w.thread, "On my way.", None).unwrap();
        let bytes = w
            .ana
            .announcement(w.community, w.thread, Vec::new())
            .unwrap();
        assert!(bytes.len() <= MAX_ANNOUNCEMENT);
        let a = decode(&bytes);
        assert_eq!(
            a.carried.unpack().unwrap().len(),
            1,
            "the new reply rides along"
        );

        // Bea has no network at all: what she gets, she gets from the announcement.
        match w.bea.hear(&bytes, w.mal.member_id(), w.community) {
            Heard::Applied { doc, heads } => {
                assert_eq!(doc, w.thread);
                assert_eq!(heads, a.heads);
            }
            other => panic!("expected the change to be applied, got {other:?}"),
        }
        assert_eq!(replies(&w.bea, &w.thread), 1);
        assert!(matches!(
            events.try_recv(),
            Ok(NodeEvent::ThreadChanged { thread, .. }) if thread == w.thread
        ));
        // Hearing it again changes nothing.
        assert!(matches!(
            w.bea.hear(&bytes, w.mal.member_id(), w.community),
            Heard::Nothing
        ));
        // Flushed, it is still there after reopening the profile.
        w.bea.store().flush().unwrap();
        let World {
            bea, thread, _dir, ..
        } = w;
        let profile = bea.profile().clone();
        drop(bea);
        let bea = Node::open(profile).unwrap();
        assert_eq!(replies(&bea, &thread), 1);
    }

    #[test]
    fn a_new_thread_is_carried_and_a_gap_falls_back_to_a_pull() {
        let w = world();
        let t = w
            .ana
            .create_thread(
                &w.community,
                &NewThread {
                    activity: ActivityKind::Story,
                    title: "What happened at the workshop".into(),
                    body: "A long story.".into(),
                    tags: vec![],
                },
            )
            .unwrap();
        let first = w.ana.announcement(w.community, t, Vec::new()).unwrap();
        w.ana.reply(&t, "And then some.", None).unwrap();
        let second = w.ana.announcement(w.community, t, Vec::new()).unwrap();
        // The reply alone depends on the thread's creation, which Bea lacks: pull.
        assert!(matches!(
            w.bea.hear(&second, w.ana.member_id(), w.community),
            Heard::Pull(a) if a.doc == t
        ));
        assert!(w.bea.thread(&t).is_err());
        // In order, both apply.
        assert!(matches!(
            w.bea.hear(&first, w.ana.member_id(), w.community),
            Heard::Applied { .. }
        ));
        assert!(matches!(
            w.bea.hear(&second, w.ana.member_id(), w.community),
            Heard::Applied { .. }
        ));
        assert_eq!(replies(&w.bea, &t), 1);
    }

    #[test]
    fn a_forged_carried_change_is_refused_and_nothing_is_stored() {
        let w = world();
        w.ana.reply(&w.thread, "On my way.", None).unwrap();
        let honest = decode(
            &w.ana
                .announcement(w.community, w.thread, Vec::new())
                .unwrap(),
        );
        let mut changes = honest.carried.unpack().unwrap();
        assert_eq!(changes.len(), 1);
        let before = w.bea.store().doc_record(&w.thread).unwrap().unwrap().heads;

        // Mal, a member, passes Ana's change on with a signature of his own making, in an
        // announcement he signs himself.
        let mal_key = w.mal.secret_key().clone();
        let doc_ref = DocRef {
            community: w.community,
            kind: DocKind::Thread,
            id: w.thread,
        };
        let hash = automerge::Change::from_bytes(changes[0].bytes.clone())
            .unwrap()
            .hash();
        changes[0].signature = Some(doc_ref.sign(&mal_key, &hash));
        let mut forged = honest.clone();
        forged.from = w.mal.member_id();
        forged.carried = Carried::pack(&changes).unwrap();
        match w
            .bea
            .hear(&seal(&forged, &mal_key), w.ana.member_id(), w.community)
        {
            Heard::Refused { peer, reason, .. } => {
                assert_eq!(peer, w.mal.member_id(), "the signer is blamed");
                assert!(reason.contains("forged or damaged signature"), "{reason}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(
            w.bea.store().doc_record(&w.thread).unwrap().unwrap().heads,
            before
        );
        assert_eq!(replies(&w.bea, &w.thread), 0);

        // The change's bytes altered under Ana's own signature: refused too.
        let mut changes = honest.carried.unpack().unwrap();
        let last = changes[0].bytes.len() - 1;
        changes[0].bytes[last] ^= 1;
        let mut tampered = honest.clone();
        tampered.from = w.mal.member_id();
        tampered.carried = Carried::pack(&changes).unwrap();
        assert!(matches!(
            w.bea.hear(&seal(&tampered, &mal_key), w.ana.member_id(), w.community),
            Heard::Refused { peer, .. } if peer == w.mal.member_id()
        ));
        assert_eq!(replies(&w.bea, &w.thread), 0);

        // An announcement whose own signature is forged: refused, blamed on the relay.
        let mut claimed = honest.clone();
        claimed.heads = vec![[7; 32]];
        let bad = seal(&claimed, &mal_key); // says it is from Ana, signed by Mal
        assert!(matches!(
            w.bea.hear(&bad, w.mal.member_id(), w.community),
            Heard::Refused { peer, .. } if peer == w.mal.member_id()
        ));
        // Garbage: refused, blamed on the relay.
        assert!(matches!(
            w.bea
                .hear(b"\x01\x02garbage", w.mal.member_id(), w.community),
            Heard::Refused { .. }
        ));
        assert_eq!(replies(&w.bea, &w.thread), 0);

        // And the honest announcement still applies afterwards.
        let bytes = w
            .ana
            .announcement(w.community, w.thread, Vec::new())
            .unwrap();
        assert!(matches!(
            w.bea.hear(&bytes, w.mal.member_id(), w.community),
            Heard::Applied { .. }
        ));
        assert_eq!(replies(&w.bea, &w.thread), 1);
    }

    #[test]
    fn a_member_may_not_carry_a_change_to_what_is_not_theirs() {
        let w = world();
        // Mal edits Ana's thread title in his own copy (the local write path does not stop
        // him from writing into his own store by hand) and announces it.
        let doc_ref = DocRef {
            community: w.community,
            kind: DocKind::Thread,
            id: w.thread,
        };
        let mut doc = {
            let rec = w.mal.store().doc_record(&w.thread).unwrap().unwrap();
            w.mal.copy_of(&w.thread, &rec).unwrap()
        };
        let mut tx = doc.transaction();
        tx.put(automerge::ROOT, "title", "Mine now").unwrap();
        let hash = tx.commit().0.unwrap();
        let change = doc.get_change_by_hash(&hash).unwrap().raw_bytes().to_vec();
        let signature = doc_ref.sign(w.mal.secret_key(), &hash);
        let a = Announcement {
            community: w.community,
            doc: w.thread,
            kind: DocKind::Thread,
            heads: vec![hash.0],
            from: w.mal.member_id(),
            at: Timestamp::now(),
            addr: Vec::new(),
            carried: Carried::pack(&[SignedChange {
                bytes: change,
                signature: Some(signature),
            }])
            .unwrap(),
        };
        match w.bea.hear(
            &seal(&a, w.mal.secret_key()),
            w.mal.member_id(),
            w.community,
        ) {
            Heard::Refused { peer, reason, .. } => {
                assert_eq!(peer, w.mal.member_id());
                assert!(reason.contains("not theirs to change"), "{reason}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(
            w.bea.thread(&w.thread).unwrap().title,
            "Anyone at the conference?"
        );
    }

    #[test]
    fn an_announcement_without_carried_changes_is_pulled() {
        let w = world();
        w.ana.reply(&w.thread, "On my way.", None).unwrap();
        let a = decode(
            &w.ana
                .announcement(w.community, w.thread, Vec::new())
                .unwrap(),
        );
        // As a node from before carried changes sends it: the body ends after `addr`.
        #[derive(Serialize)]
        struct Old<'a>(
            &'a CommunityId,
            &'a DocId,
            &'a DocKind,
            &'a Vec<[u8; 32]>,
            &'a MemberId,
            &'a Timestamp,
            &'a Vec<u8>,
        );
        let body = postcard::to_stdvec(&Old(
            &a.community,
            &a.doc,
            &a.kind,
            &a.heads,
            &a.from,
            &a.at,
            &a.addr,
        ))
        .unwrap();
        let signature = w.ana.secret_key().sign(SigningDomain::Announcement, &body);
        let bytes = SignedAnnouncement { body, signature }.encode().unwrap();
        assert!(matches!(
            w.bea.hear(&bytes, w.ana.member_id(), w.community),
            Heard::Pull(p) if p.doc == w.thread && p.heads == a.heads
        ));
        assert_eq!(replies(&w.bea, &w.thread), 0);
    }
}
