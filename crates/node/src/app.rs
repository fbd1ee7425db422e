//! What interactive front ends need beyond the CLI's commands: co-editing an entry from the
//! version the editor last showed, read marks for unread counts, and the network
//! configuration kept in the profile.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ChangeHash, ReadDoc};
use commonplace_base::{CommunityId, DocId, MemberId, Timestamp};
use commonplace_model::invite::SignedInvitation;
use commonplace_model::{
    DocKind, DocRef, Entry, Event, Role, SchemaError, TextEdit, bundle, entry, event,
};
use commonplace_net::{NetConfig, PeerTicket, RelayConfig};
use serde::{Deserialize, Serialize};

use crate::{ImportReport, Node, NodeError, Online, SyncRecord};

/// An entry with the version it was read at, so an editor can send its edits against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EntryView {
    /// The entry.
    pub entry: Entry,
    /// The document's heads when it was read (opaque to front ends).
    pub version: Vec<String>,
}

/// An event with the version it was read at, so an editor can send its notes against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventView {
    /// The event.
    pub event: Event,
    /// The document's heads when it was read (opaque to front ends).
    pub version: Vec<String>,
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

const READ_PREFIX: &str = "read/";

impl Node {
    /// An entry and the version it was read at.
    pub fn entry_view(&self, id: &DocId) -> Result<EntryView, NodeError> {
        let (entry, version) = self.read_versioned(id, DocKind::Entry, |d| entry::read(d, *id))?;
        Ok(EntryView { entry, version })
    }

    /// Reads a document with `read`, with the version (heads) it was read at.
    fn read_versioned<T>(
        &self,
        id: &DocId,
        kind: DocKind,
        read: impl FnOnce(&automerge::Automerge) -> Result<T, SchemaError>,
    ) -> Result<(T, Vec<String>), NodeError> {
        let rec = self.doc_record(id, kind)?;
        let mut cache = self.lock_docs();
        let doc = self.loaded(&mut cache, id, &rec)?;
        let version = doc.get_heads().iter().map(ToString::to_string).collect();
        Ok((read(doc)?, version))
    }

    /// Sets an entry's text to `text`, as an edit of the version `base` the editor showed.
    ///
    /// The difference between that version's text and `text` is recorded as a change on top of
    /// `base`, then merged: whatever other members wrote since `base` survives, exactly as if the
    /// two edits had been made on two machines at once. Returns the merged entry.
    pub fn edit_entry_text(
        &self,
        id: &DocId,
        base: &[String],
        text: &str,
    ) -> Result<EntryView, NodeError> {
        let rec = self.doc_record(id, DocKind::Entry)?;
        self.require_role(&rec.community, Role::Member, "edit the repertoire")?;
        let doc_ref = crate::node::entry_ref(&rec, id);
        let event = crate::NodeEvent::EntryChanged {
            community: rec.community,
            entry: *id,
        };
        // The edit stamps the time: one operation even when the text is unchanged.
        self.edit_at_version(&rec, doc_ref, base, 1, event, |tx, now| {
            entry::edit(tx, &TextEdit::Replace(text.to_owned()), now)
        })?;
        self.entry_view(id)
    }

    /// An event with the version it was read at, for editing its notes.
    pub fn event_view(&self, id: &DocId) -> Result<EventView, NodeError> {
        let (event, version) = self.read_versioned(id, DocKind::Event, |d| event::read(d, *id))?;
        Ok(EventView { event, version })
    }

    /// Sets an event's co-edited notes to `text`, as an edit of the version `base` the editor
    /// showed; merged like [`Node::edit_entry_text`].
    pub fn edit_event_notes_text(
        &self,
        id: &DocId,
        base: &[String],
        text: &str,
    ) -> Result<EventView, NodeError> {
        let rec = self.doc_record(id, DocKind::Event)?;
        self.require_role(&rec.community, Role::Member, "edit event notes")?;
        let doc_ref = DocRef {
            community: rec.community,
            kind: DocKind::Event,
            id: *id,
        };
        let event = crate::NodeEvent::EventChanged {
            community: rec.community,
            event: *id,
        };
        self.edit_at_version(&rec, doc_ref, base, 0, event, |tx, _| {
            event::edit_notes(tx, &TextEdit::Replace(text.to_owned()))
        })?;
        self.event_view(id)
    }

    /// Records `edit` as a change on top of the version `base` (a document's heads as an
    /// editor last saw them), merges it into the document, signs and stores it, and emits
    /// `event`. An edit that records no more than `unchanged_ops` operations is dropped: the
    /// text did not change.
    fn edit_at_version(
        &self,
        rec: &commonplace_store::DocRecord,
        doc_ref: DocRef,
        base: &[String],
        unchanged_ops: usize,
        event: crate::NodeEvent,
        edit: impl FnOnce(
            &mut automerge::transaction::Transaction<'_>,
            Timestamp,
        ) -> Result<(), SchemaError>,
    ) -> Result<(), NodeError> {
        let id = &doc_ref.id;
        let base: Vec<ChangeHash> = base
            .iter()
            .map(|h| h.parse())
            .collect::<Result<_, _>>()
            .map_err(|_| stale())?;
        let mut cache = self.lock_docs();
        let doc = self.loaded(&mut cache, id, rec)?;
        let mine = self.actor();
        // Our own newer changes must be part of the base: the editor sends its edits in order,
        // so this only fails for an editor that lost track, which then reloads.
        if base.iter().any(|h| doc.get_change_by_hash(h).is_none())
            || doc
                .get_changes(&base)
                .iter()
                .any(|c| c.actor_id().to_bytes() == mine)
        {
            return Err(stale());
        }
        let mut fork = doc.fork_at(&base).map_err(|e| am(&e))?;
        fork.set_actor(automerge::ActorId::from(mine.as_slice()));
        let now = Timestamp::now();
        /// Why an edit's transaction was rolled back: decided on the variant, not on text.
        enum NoEdit {
            /// The edit changed nothing: not an error, nothing to store.
            Unchanged,
            /// The edit is not valid.
            Invalid(SchemaError),
        }
        let outcome = fork.transact_with(
            |_| CommitOptions::default().with_time(now.0),
            |tx| {
                edit(tx, now).map_err(NoEdit::Invalid)?;
                if tx.pending_ops() <= unchanged_ops {
                    return Err(NoEdit::Unchanged);
                }
                Ok(())
            },
        );
        let hash = match outcome {
            Ok(ok) => ok.hash,
            Err(f) => match f.error {
                NoEdit::Unchanged => None,
                NoEdit::Invalid(e) => return Err(e.into()),
            },
        };
        let Some(hash) = hash else {
            return Ok(());
        };
        let change = fork
            .get_change_by_hash(&hash)
            .ok_or_else(|| am(&"the edit vanished"))?
            .clone();
        if let Err(e) = doc.apply_changes([change]) {
            cache.docs.remove(id);
            return Err(am(&e));
        }
        if let Err(e) = self.sign_and_store(doc, &doc_ref, Some(rec), &hash) {
            cache.docs.remove(id);
            return Err(e);
        }
        drop(cache);
        self.emit(event);
        Ok(())
    }

    /// Remembers that this profile has seen `posts` posts of a thread (for unread counts).
    pub fn mark_read(&self, thread: &DocId, posts: u32) -> Result<(), NodeError> {
        let rec = self.doc_record(thread, DocKind::Thread)?;
        let key = format!("{READ_PREFIX}{}/{thread}", rec.community);
        self.store().commit(&commonplace_store::Commit {
            docs: Vec::new(),
            meta: vec![(key, posts.to_le_bytes().to_vec())],
        })?;
        Ok(())
    }

    /// How many posts of each thread this profile has seen.
    pub fn read_marks(&self, community: &CommunityId) -> Result<BTreeMap<DocId, u32>, NodeError> {
        let prefix = format!("{READ_PREFIX}{community}/");
        let mut out = BTreeMap::new();
        for (key, value) in self.store().meta_with_prefix(&prefix)? {
            let id = key[prefix.len()..].parse::<DocId>();
            let n = <[u8; 4]>::try_from(value.as_slice()).map(u32::from_le_bytes);
            if let (Ok(id), Ok(n)) = (id, n) {
                out.insert(id, n);
            }
        }
        Ok(out)
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
}

fn stale() -> NodeError {
    NodeError::NotAllowed(
        "the text changed since it was opened here; it has been reloaded, please apply your edit again"
            .into(),
    )
}

fn am(e: &dyn std::fmt::Display) -> NodeError {
    NodeError::Invalid(SchemaError::Automerge(e.to_string()))
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

/// What "Sync now" did: every member tried and how it went, then the status after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncNowReport {
    /// One line per member tried (empty: no member's node is known yet).
    pub tried: Vec<PeerOutcome>,
    /// Communities got back (after a key restore) from the member's node, if any.
    pub recovered: Vec<String>,
    /// The status after the attempt.
    pub status: SyncStatus,
}

/// How syncing with one member went, over all the communities shared with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PeerOutcome {
    /// The member.
    pub member: MemberId,
    /// Their name.
    pub name: String,
    /// Every community synced.
    pub ok: bool,
    /// Changes that arrived.
    pub received: u64,
    /// Changes sent.
    pub sent: u64,
    /// Why it failed, as a sentence, when it did.
    pub error: Option<String>,
}

/// A new invitation code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Invite {
    /// The long code (`cpinvite1…`): the whole signed invitation, shown as the QR code.
    pub code: String,
    /// The short code to read out or type (`K7QM-3XPA-9FHD-2WNE`); the inviting node answers
    /// it while it is online.
    pub short_code: String,
    /// The code as an SVG QR code.
    pub qr_svg: String,
    /// The role the holder gets.
    pub role: Role,
    /// When it stops working.
    pub expires_at: Timestamp,
}

impl Node {
    /// Peers, last syncs and what has not been shared yet. `online` is the running network,
    /// if any; without it nothing shows as connected.
    pub fn sync_status(&self, online: Option<&Online>) -> Result<SyncStatus, NodeError> {
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
            history.extend(o.recent_syncs());
        }
        history.sort_by_key(|r| r.at);
        let connected = online.map(Online::connected_peers).unwrap_or_default();
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
            Some(o) => Some(o.ticket().to_string()),
            None => self
                .own_address()?
                .and_then(|b| PeerTicket::from_bytes(&b).ok())
                .map(|t| t.to_string()),
        };
        Ok(SyncStatus {
            online: online.is_some(),
            address,
            relay: match online {
                Some(o) => RelayMode::of_config(o.relay()),
                None => self.relay_mode()?,
            },
            peers,
            unshared,
        })
    }
}

impl Online {
    /// Creates an invitation to `community` that points at this node's address.
    pub async fn invite(
        &self,
        community: &CommunityId,
        role: Role,
        valid_for_ms: i64,
    ) -> Result<Invite, NodeError> {
        let new =
            self.node()
                .create_invite(community, role, valid_for_ms, self.ticket().to_bytes())?;
        let code = new.signed.to_code()?;
        self.serve_short_codes().await?;
        Ok(Invite {
            qr_svg: crate::qr::svg(&code),
            code,
            short_code: new.short.to_string(),
            role,
            expires_at: new.signed.invitation.expires_at,
        })
    }
}

impl Online {
    /// Syncs every shared community with the member at `address` (a `cppeer1…` code, for
    /// networks where local discovery is blocked), and remembers them. Communities of ours
    /// that their node holds and this one does not (a restored key) come back first.
    pub async fn sync_address(
        &self,
        address: &str,
    ) -> Result<Vec<commonplace_net::SyncReport>, NodeError> {
        let ticket: PeerTicket = address.trim().parse().map_err(NodeError::Net)?;
        let member = MemberId::from_bytes(*ticket.0.id.as_bytes())
            .map_err(|e| NodeError::NotAllowed(format!("not a member address: {e}")))?;
        let mut out = Vec::new();
        let mut recovered = Vec::new();
        for (c, r) in self.recover_from(ticket.0.clone()).await? {
            recovered.push(c);
            out.push(r?);
        }
        for c in self.node().community_ids()? {
            if !recovered.contains(&c) && self.node().may_sync(&c, &member)? {
                out.push(self.sync_with(ticket.0.clone(), c).await?);
            }
        }
        if out.is_empty() {
            return Err(NodeError::NotAllowed(format!(
                "{} is not a member of any of your communities",
                member.short()
            )));
        }
        Ok(out)
    }

    /// Gets this member's communities back from another member's node, given its address
    /// (`cppeer1…`) or an invitation code (`cpinvite1…`, whose inviting node is asked): after
    /// a key restore on a new computer. Returns the names of the communities that came back.
    pub async fn recover_address(&self, text: &str) -> Result<Vec<String>, NodeError> {
        let text = text.trim();
        let addr = if text.starts_with("cpinvite") {
            let inv = SignedInvitation::from_code(text)
                .map_err(|e| NodeError::NotAllowed(e.to_string()))?;
            PeerTicket::from_bytes(&inv.invitation.inviter_addr).map_err(NodeError::Net)?
        } else {
            text.parse::<PeerTicket>().map_err(NodeError::Net)?
        };
        let peer = addr.0.id.fmt_short().to_string();
        let got = self.recover_from(addr.0).await?;
        if got.is_empty() {
            return Err(NodeError::NotAllowed(format!(
                "the node {peer} answered, but holds no community you are a member of that is not here already"
            )));
        }
        let mut names = Vec::new();
        for (c, r) in got {
            r?;
            names.push(self.node().community(&c)?.charter.name);
        }
        Ok(names)
    }

    /// "Sync now": every known member's node is tried at once (waiting out no backoff), and
    /// how each went is reported, with the status after it.
    pub async fn sync_now(&self) -> Result<SyncNowReport, NodeError> {
        self.forget_failures();
        let attempts = self.sync_known_peers(None).await?;
        let status = self.node().sync_status(Some(self))?;
        let name_of = |m: &MemberId| {
            status
                .peers
                .iter()
                .find(|p| p.member == *m)
                .map_or_else(|| m.short(), |p| p.name.clone())
        };
        let mut tried: Vec<PeerOutcome> = Vec::new();
        for (member, _, r) in attempts {
            let i = match tried.iter().position(|t| t.member == member) {
                Some(i) => i,
                None => {
                    tried.push(PeerOutcome {
                        member,
                        name: name_of(&member),
                        ok: true,
                        received: 0,
                        sent: 0,
                        error: None,
                    });
                    tried.len() - 1
                }
            };
            let t = &mut tried[i];
            match r {
                Ok(rep) => {
                    t.received += rep.stats.changes_received;
                    t.sent += rep.stats.changes_sent;
                }
                Err(e) => {
                    t.ok = false;
                    t.error.get_or_insert_with(|| outcome_sentence(&e));
                }
            }
        }
        Ok(SyncNowReport {
            tried,
            recovered: Vec::new(),
            status,
        })
    }
}

/// Why a sync with a member failed, in words for the person who pressed "Sync now" (the
/// member's name is said beside it).
fn outcome_sentence(e: &NodeError) -> String {
    use commonplace_net::NetError;
    match e {
        NodeError::Net(NetError::Connect { .. } | NetError::Unreachable { .. }) => {
            "their computer did not answer: Commonplace is not running there, or it cannot be reached from this network".into()
        }
        NodeError::Net(NetError::Timeout { secs, .. }) => {
            format!("their computer stopped answering in the middle (nothing for {secs} s)")
        }
        other => other.to_string(),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside the target, synced, then
/// renamed over it, so a crash leaves the old file or the new one, never half of one.
///
/// A symbolic link is followed (the file it names is replaced, the link stays); an existing
/// file keeps its permission mode; a target that is not a regular file (a directory, a
/// device, a FIFO) is refused rather than replaced; the temporary file is removed on any
/// failure (a full disk leaves nothing behind).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), NodeError> {
    write_atomically_with_mode(path, bytes, None)
}

/// [`write_atomically`], with the file's permission mode set to `mode` (unix) whether it
/// existed or not: the temporary file has that mode from its creation, so a secret is never
/// readable by others, not even for a moment.
pub(crate) fn write_atomically_with_mode(
    path: &Path,
    bytes: &[u8],
    mode: Option<u32>,
) -> Result<(), NodeError> {
    use std::io::Write;
    let target = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling link is refused below; a new file is written where named.
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(NodeError::io(
                    path,
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "it is a symbolic link to nothing",
                    ),
                ));
            }
            path.to_path_buf()
        }
        Err(e) => return Err(NodeError::io(path, e)),
    };
    let existing = match std::fs::metadata(&target) {
        Ok(m) if m.is_file() => Some(m.permissions()),
        Ok(_) => {
            return Err(NodeError::io(
                path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "it is not a regular file: give the path of a file to write",
                ),
            ));
        }
        Err(_) => None,
    };
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.partial",
        target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("output")
    ));
    let written = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if let Some(mode) = mode {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode);
        }
        let mut f = opts.open(&tmp).map_err(|e| NodeError::io(&tmp, e))?;
        #[cfg(unix)]
        if let Some(mode) = mode {
            // A temporary file left from before keeps its mode on open: set it again.
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(mode))
                .map_err(|e| NodeError::io(&tmp, e))?;
        }
        if let (None, Some(mode)) = (mode, &existing) {
            f.set_permissions(mode.clone())
                .map_err(|e| NodeError::io(&tmp, e))?;
        }
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| NodeError::io(&tmp, e))?;
        std::fs::rename(&tmp, &target).map_err(|e| NodeError::io(path, e))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

impl Node {
    /// Exports a community as a signed bundle file (written atomically); returns its size.
    pub fn export_to_file(&self, community: &CommunityId, path: &Path) -> Result<usize, NodeError> {
        let bytes = self.export(community)?;
        write_atomically(path, &bytes)?;
        Ok(bytes.len())
    }

    /// Verifies and imports a bundle file; one bad change refuses all of it.
    pub fn import_file(&self, path: &Path) -> Result<ImportReport, NodeError> {
        self.import(&read_bundle_file(path)?)
    }
}

/// Reads a bundle file, looking at its header before reading the rest: the header says how
/// long the bundle is, so a stream that is not a bundle (`/dev/zero`) or claims more than a
/// bundle may hold is refused after a few bytes, and no more than the declared length is read.
fn read_bundle_file(path: &Path) -> Result<Vec<u8>, NodeError> {
    use std::io::Read;
    let io = |e| NodeError::io(path, e);
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::with_capacity(bundle::HEADER_BYTES);
    (&mut file)
        .take(bundle::HEADER_BYTES as u64)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let total = bundle::declared_len(&bytes)?;
    bytes.reserve(usize::try_from(total).unwrap_or(0).min(64 << 20));
    // One byte more than declared, so that trailing bytes are noticed.
    let rest = total + 1 - bytes.len() as u64;
    file.take(rest).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}
