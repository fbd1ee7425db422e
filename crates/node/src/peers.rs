//! Peers and sync history: the members' nodes this profile knows, how syncs with them went,
//! what has not been shared yet, the network settings kept in the profile, and the status
//! front ends show.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use commonplace_base::{CommunityId, MemberId, Timestamp};
use commonplace_net::{NetConfig, PeerTicket, RelayConfig};
use commonplace_store::Commit;
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::{Node, NodeError};

pub(crate) fn pending_key(community: &CommunityId) -> String {
    format!("unshared/{community}")
}

impl Node {
    /// Local changes to `community` made since the last completed sync with any member: what
    /// nobody else has yet.
    pub fn unshared(&self, community: &CommunityId) -> Result<u64, NodeError> {
        Ok(self
            .store()
            .meta(&pending_key(community))?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map_or(0, u64::from_le_bytes))
    }

    /// The setting that resets the unshared count of `community`, for a sync that completed:
    /// both sides then hold the same changes.
    pub(crate) fn shared_now(&self, community: &CommunityId) -> (String, Vec<u8>) {
        (pending_key(community), 0u64.to_le_bytes().to_vec())
    }

    /// The relay mode kept in the profile (`default` when never set).
    pub fn relay_mode(&self) -> Result<RelayMode, NodeError> {
        Ok(RelayMode::parse(
            &self.net_setting("relay")?.unwrap_or_default(),
        ))
    }

    /// The network configuration from the profile's settings, with overrides from the caller
    /// (command-line flags). The bound address is reused so peers find this node again.
    pub fn net_config(
        &self,
        bind: Option<SocketAddr>,
        relay: Option<RelayMode>,
        mdns: bool,
    ) -> Result<NetConfig, NodeError> {
        let bind = match bind {
            Some(b) => Some(b),
            None => self.net_setting("bind")?.and_then(|s| s.parse().ok()),
        };
        let relay = match relay {
            Some(r) => r,
            None => self.relay_mode()?,
        };
        Ok(NetConfig {
            bind,
            relay: relay.config(),
            mdns,
            ..NetConfig::default()
        })
    }

    /// Peers, last syncs and what has not been shared yet. `online` is the running network's
    /// state ([`crate::Online::net_view`]),
    /// if any; without it nothing shows as connected.
    pub fn sync_status(&self, online: Option<&NetView>) -> Result<SyncStatus, NodeError> {
        let me = self.member_id();
        let communities = self.communities()?;
        let rosters: Vec<_> = communities
            .iter()
            .filter_map(|c| self.community(&c.id).ok())
            .collect();
        let name_of = |m: &MemberId| {
            rosters
                .iter()
                .find_map(|c| c.roster.members.get(m).map(|r| r.name.clone()))
                .unwrap_or_else(|| m.short())
        };
        let mut history = self.sync_history()?;
        if let Some(o) = online {
            history.extend(o.recent.iter().cloned());
        }
        history.sort_by_key(|r| r.at);
        let connected: &[MemberId] = online.map_or(&[], |o| &o.connected);
        // Peers we can dial, and peers that synced with us (they dialled; we may not know
        // their address).
        let mut members: Vec<MemberId> = self.known_peers()?.into_iter().map(|(m, _)| m).collect();
        members.extend(history.iter().map(|r| r.peer));
        members.sort();
        members.dedup();
        let peers = members
            .into_iter()
            .map(|member| {
                let mut mine = history.iter().filter(|r| r.peer == member);
                let last_ok = mine.clone().filter(|r| r.ok).map(|r| r.at).max();
                PeerStatus {
                    member,
                    name: name_of(&member),
                    connected: connected.contains(&member),
                    last_ok,
                    last: mine.next_back().cloned(),
                }
            })
            .collect();
        let unshared = communities
            .iter()
            .map(|c| {
                let others = rosters.iter().find(|r| r.id == c.id).map_or(0, |r| {
                    r.roster
                        .members
                        .keys()
                        .filter(|m| **m != me && r.roster.role_of(m).is_some())
                        .count()
                });
                Ok(Unshared {
                    community: c.id,
                    name: c.name.clone(),
                    changes: self.unshared(&c.id)?,
                    others: u32::try_from(others).unwrap_or(u32::MAX),
                })
            })
            .collect::<Result<_, NodeError>>()?;
        let address = match online {
            Some(o) => Some(o.address.to_string()),
            None => self
                .own_address()?
                .and_then(|b| PeerTicket::from_bytes(&b).ok())
                .map(|t| t.to_string()),
        };
        Ok(SyncStatus {
            online: online.is_some(),
            address,
            relay: match online {
                Some(o) => RelayMode::of_config(&o.relay),
                None => self.relay_mode()?,
            },
            peers,
            unshared,
        })
    }

    /// Remembers how to reach a member.
    pub fn record_peer(&self, member: &MemberId, addr: Vec<u8>) -> Result<(), NodeError> {
        if *member == self.member_id() {
            return Ok(());
        }
        self.store().commit(&Commit {
            docs: Vec::new(),
            meta: vec![(format!("{PEER}{member}"), addr)],
        })?;
        Ok(())
    }

    /// Members we know how to reach, with their last known address.
    pub fn known_peers(&self) -> Result<Vec<(MemberId, Vec<u8>)>, NodeError> {
        Ok(self
            .store()
            .meta_with_prefix(PEER)?
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(PEER)?.parse().ok()?, v)))
            .collect())
    }

    /// Records the outcome of a sync with `peer` about `community` (for `status`); a
    /// completed one also means nothing local is unshared any more. One commit for both.
    pub fn record_sync(
        &self,
        peer: &MemberId,
        community: &CommunityId,
        record: &crate::SyncRecord,
    ) -> Result<(), NodeError> {
        let bytes = serde_json::to_vec(record).map_err(|e| NodeError::encode("sync record", e))?;
        let mut meta = vec![(format!("{SYNC}{peer}/{community}"), bytes)];
        // Hold the local writers' lock so no local write slips between the count and its
        // reset.
        let _writers = record.ok.then(|| self.docs().local());
        if record.ok {
            meta.push(self.shared_now(community));
        }
        self.store().commit(&Commit {
            docs: Vec::new(),
            meta,
        })?;
        Ok(())
    }

    /// The last recorded sync with each peer about each community.
    pub fn sync_history(&self) -> Result<Vec<crate::SyncRecord>, NodeError> {
        Ok(self
            .store()
            .meta_with_prefix(SYNC)?
            .into_iter()
            .filter_map(|(_, v)| serde_json::from_slice(&v).ok())
            .collect())
    }

    /// A network setting (`bind`, `relay`), as last used.
    pub fn net_setting(&self, name: &str) -> Result<Option<String>, NodeError> {
        Ok(self
            .store()
            .meta(&format!("net/{name}"))?
            .and_then(|v| String::from_utf8(v).ok()))
    }

    /// Remembers a network setting.
    pub fn set_net_setting(&self, name: &str, value: &str) -> Result<(), NodeError> {
        self.store().commit(&Commit {
            docs: Vec::new(),
            meta: vec![(format!("net/{name}"), value.as_bytes().to_vec())],
        })?;
        Ok(())
    }

    /// This node's own address, as last published by the network layer.
    pub fn own_address(&self) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self.store().meta("net/addr")?)
    }

    pub(crate) fn set_own_address(&self, addr: Vec<u8>) -> Result<(), NodeError> {
        self.store().commit(&Commit {
            docs: Vec::new(),
            meta: vec![("net/addr".into(), addr)],
        })?;
        Ok(())
    }
}

/// How the node reaches peers beyond the local network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", content = "url", rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RelayMode {
    /// iroh's public relays.
    Default,
    /// A community's own `iroh-relay`.
    Custom(String),
    /// No relay: direct connections and the local network only.
    Off,
}

impl RelayMode {
    /// Parses the profile setting / CLI word: `default`, `none`/`off`, or a URL.
    pub fn parse(text: &str) -> RelayMode {
        match text.trim() {
            "" | "default" => RelayMode::Default,
            "none" | "off" => RelayMode::Off,
            url => RelayMode::Custom(url.to_owned()),
        }
    }

    /// The setting's text.
    pub fn as_setting(&self) -> String {
        match self {
            RelayMode::Default => "default".into(),
            RelayMode::Off => "none".into(),
            RelayMode::Custom(u) => u.clone(),
        }
    }

    fn of_config(config: &RelayConfig) -> RelayMode {
        match config {
            RelayConfig::Default => RelayMode::Default,
            RelayConfig::Disabled => RelayMode::Off,
            RelayConfig::Custom(u) => RelayMode::Custom(u.clone()),
        }
    }

    fn config(&self) -> RelayConfig {
        match self {
            RelayMode::Default => RelayConfig::Default,
            RelayMode::Off => RelayConfig::Disabled,
            RelayMode::Custom(u) => RelayConfig::Custom(u.clone()),
        }
    }
}

const PEER: &str = "peer/";
const SYNC: &str = "sync/";

/// What the running network knows that the profile does not: for [`Node::sync_status`].
#[derive(Debug, Clone)]
pub struct NetView {
    /// Syncs since the network started, newest last.
    pub recent: Vec<SyncRecord>,
    /// Members whose node has a connection open with this one now.
    pub connected: Vec<MemberId>,
    /// This node's address.
    pub address: PeerTicket,
    /// The relays it runs with.
    pub relay: RelayConfig,
}

/// Where the profile stands with its peers, for status displays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    /// Whether the node is on the network now.
    pub online: bool,
    /// This node's address for others to dial, if it has been online.
    pub address: Option<String>,
    /// The relays the network runs with when online (a `--relay` flag at start wins over the
    /// profile's setting), else the profile's setting.
    pub relay: RelayMode,
    /// Known peers.
    pub peers: Vec<PeerStatus>,
    /// Local changes per community that have not reached any member yet.
    pub unshared: Vec<Unshared>,
}

/// One known peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PeerStatus {
    /// The member.
    pub member: MemberId,
    /// Their name as the rosters know it.
    pub name: String,
    /// A connection to their node is open now (a sync, or the link live updates travel on).
    /// A node that shuts down leaves at once, one that falls silent within seconds.
    pub connected: bool,
    /// The last successful sync.
    pub last_ok: Option<Timestamp>,
    /// The last attempt, successful or not.
    pub last: Option<SyncRecord>,
}

/// Changes of one community that no member has received yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Unshared {
    /// The community.
    pub community: CommunityId,
    /// Its name.
    pub name: String,
    /// How many changes.
    pub changes: u64,
    /// Active members other than this one: with none, there is nobody to share with yet.
    pub others: u32,
}

/// What happened in one sync, for status displays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncRecord {
    /// The peer.
    pub peer: MemberId,
    /// The community.
    pub community: CommunityId,
    /// When it ended.
    pub at: Timestamp,
    /// Whether it completed.
    pub ok: bool,
    /// Changes that arrived.
    pub changes_received: u64,
    /// Changes sent.
    pub changes_sent: u64,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// Recent syncs (and refused live announcements), newest last; at most 1,000.
pub(crate) type SyncLog = Arc<Mutex<Vec<SyncRecord>>>;

/// Records the outcome of a sync, or a refused announcement, in the store (for `status`) and
/// the in-memory log.
pub(crate) fn record(node: &Node, log: &SyncLog, record: SyncRecord) {
    if let Err(e) = node.record_sync(&record.peer, &record.community, &record) {
        warn!("could not record the sync: {e}");
    }
    if let Ok(mut log) = log.lock() {
        log.push(record);
        let excess = log.len().saturating_sub(1000);
        log.drain(..excess);
    }
}
