//! Live updates: one iroh-gossip topic per community. Messages are small signed
//! announcements (see the node), carrying the announced changes when they fit.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use commonplace_base::{CommunityId, MemberId};
use iroh_gossip::TopicId;
use iroh_gossip::api::{Event, GossipReceiver, GossipSender};
use n0_future::StreamExt;
use sha2_free_topic::topic_for;

/// The gossip topic of a community (derived from its id, not secret: the gossip gate, not the
/// topic, keeps non-members out).
pub fn topic_of(community: &CommunityId) -> [u8; 32] {
    topic_for(community)
}

use crate::{NetError, Network};

/// Largest announcement payload (the announcement codec's limit, in `commonplace-sync`).
pub use commonplace_sync::MAX_ANNOUNCEMENT;
// Gossip must fit the largest announcement with its own overhead.
const _: () = assert!(MAX_ANNOUNCEMENT + 96 <= GOSSIP_MAX_MESSAGE);
/// Gossip's frame limit, the same on every node.
pub const GOSSIP_MAX_MESSAGE: usize = 4096;

/// What arrives on a community's topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// An announcement, and the neighbour that passed it on (not necessarily its author).
    Message { content: Vec<u8>, via: MemberId },
    /// A member's node became our neighbour on the topic: what either of us wrote before the
    /// link existed did not travel over it.
    NeighborUp(MemberId),
    /// A neighbour left the topic.
    NeighborDown,
    /// We fell behind and missed messages; a full sync catches up.
    Lagged,
}

/// Sends announcements on one community's topic.
#[derive(Debug, Clone)]
pub struct Announcer {
    sender: GossipSender,
    /// How many direct neighbours the topic has, as its [`Listener`] last saw.
    neighbours: Arc<AtomicUsize>,
}

impl Announcer {
    /// Whether the topic has a direct neighbour now. Gossip keeps no history, so an
    /// announcement made without one reaches nobody; a neighbour that arrives later gets a
    /// catch-up session instead. Known only while the topic's [`Listener`] is read.
    pub fn has_neighbours(&self) -> bool {
        self.neighbours.load(Ordering::Relaxed) > 0
    }

    /// Broadcasts one announcement to the community's swarm.
    pub async fn announce(&self, content: Vec<u8>) -> Result<(), NetError> {
        if content.len() > MAX_ANNOUNCEMENT {
            return Err(NetError::TooLarge {
                size: content.len(),
            });
        }
        self.sender
            .broadcast(Bytes::from(content))
            .await
            .map_err(|e| NetError::Stream {
                peer: "gossip".into(),
                source: e.into(),
            })
    }

    /// Adds peers to the topic.
    pub async fn join(&self, peers: Vec<MemberId>) -> Result<(), NetError> {
        let ids = peers
            .iter()
            .filter_map(|m| iroh::EndpointId::from_bytes(m.as_bytes()).ok())
            .collect();
        self.sender
            .join_peers(ids)
            .await
            .map_err(|e| NetError::Stream {
                peer: "gossip".into(),
                source: e.into(),
            })
    }
}

/// Receives one community's topic.
#[derive(Debug)]
pub struct Listener {
    receiver: GossipReceiver,
    neighbours: Arc<AtomicUsize>,
}

impl Listener {
    /// The next event, or `None` when the topic closed.
    pub async fn next(&mut self) -> Option<LiveEvent> {
        loop {
            let ev = self.receiver.next().await?;
            self.neighbours
                .store(self.receiver.neighbors().count(), Ordering::Relaxed);
            return Some(match ev {
                Ok(Event::Received(m)) => {
                    let Ok(via) = MemberId::from_bytes(*m.delivered_from.as_bytes()) else {
                        continue;
                    };
                    LiveEvent::Message {
                        content: m.content.to_vec(),
                        via,
                    }
                }
                Ok(Event::NeighborUp(id)) => match MemberId::from_bytes(*id.as_bytes()) {
                    Ok(m) => LiveEvent::NeighborUp(m),
                    Err(_) => continue,
                },
                Ok(Event::NeighborDown(_)) => LiveEvent::NeighborDown,
                Ok(Event::Lagged) => LiveEvent::Lagged,
                Err(_) => return None,
            });
        }
    }
}

impl Network {
    /// Joins a community's topic, bootstrapping from `peers` (whose addresses must be known:
    /// see [`Network::remember`]).
    pub async fn subscribe(
        &self,
        community: &CommunityId,
        peers: Vec<MemberId>,
    ) -> Result<(Announcer, Listener), NetError> {
        let ids = peers
            .iter()
            .filter(|m| **m != self.id())
            .filter_map(|m| iroh::EndpointId::from_bytes(m.as_bytes()).ok())
            .collect();
        let topic = self
            .gossip()
            .subscribe(TopicId::from_bytes(topic_for(community)), ids)
            .await
            .map_err(|e| NetError::Stream {
                peer: "gossip".into(),
                source: e.into(),
            })?;
        let (sender, receiver) = topic.split();
        let neighbours = Arc::new(AtomicUsize::new(0));
        Ok((
            Announcer {
                sender,
                neighbours: neighbours.clone(),
            },
            Listener {
                receiver,
                neighbours,
            },
        ))
    }
}

mod sha2_free_topic {
    use commonplace_base::CommunityId;

    /// The gossip topic of a community: its id, padded with a fixed tag. (Derived, not
    /// secret: membership, not the topic, decides who is heard.)
    pub fn topic_for(community: &CommunityId) -> [u8; 32] {
        let mut t = [0u8; 32];
        t[..16].copy_from_slice(b"commonplace/live");
        t[16..].copy_from_slice(community.as_bytes());
        t
    }
}
