use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use automerge::transaction::{CommitOptions, Transaction};
use automerge::{Automerge, Change, ReadDoc};
use commonplace_base::{CommunityId, DocId, MemberId, PostId, SecretKey, Timestamp, actor};
use commonplace_model::bundle::{self, BundleBody, BundleDoc};
use commonplace_model::{
    ActivityKind, Charter, Community, DocActivity, DocKind, DocRef, Entry, EntryKind, EntrySummary,
    Genesis, Role, RosterMember, SchemaError, Source, TextEdit, Thread, ThreadSummary, activity,
    community, entry, event, load_document, new_document, thread, verify,
};
use commonplace_store::{Commit, DocRecord, DocWrite, IndexRow, SNAPSHOT_EVERY, Store, StoreError};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::ingest::{Arrived, Durability};
use crate::{NodeError, NodeEvent, Profile};

/// The cheap, cloneable handle on an open profile.
#[derive(Debug, Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    profile: Profile,
    store: Store,
    key: SecretKey,
    actor: [u8; actor::ACTOR_LEN],
    /// Loaded documents. The lock also serialises this process's writers.
    docs: Mutex<DocCache>,
    events: broadcast::Sender<NodeEvent>,
}

/// Loaded Automerge documents, so repeated edits of one entry do not reload it each time.
#[derive(Debug, Default)]
pub(crate) struct DocCache {
    pub(crate) docs: HashMap<DocId, Automerge>,
}

const CACHE_DOCS: usize = 256;

/// A loaded document with this many stored changes after its snapshot gets a fresh snapshot
/// when the node closes (or [`Node::compact`] runs), so the next start loads it without
/// replaying them. Writes take a snapshot only every `SNAPSHOT_EVERY` changes, keeping the
/// member's posts fast; closing is where the rest of that work is cheap to do.
const COMPACT_TAIL: u64 = 8;

impl Inner {
    fn compact(&self, cache: &DocCache) -> Result<usize, NodeError> {
        let mut snapshots = Vec::new();
        for (id, doc) in &cache.docs {
            let Some(rec) = self.store.doc_record(id)? else {
                continue;
            };
            if rec.changes.saturating_sub(rec.snapshot_upto) < COMPACT_TAIL {
                continue;
            }
            // Only a document that is exactly what the store holds (a failed write drops its
            // document from the cache, but check rather than trust that).
            let heads: Vec<[u8; 32]> = doc.get_heads().iter().map(|h| h.0).collect();
            if heads != rec.heads {
                continue;
            }
            snapshots.push((*id, rec.changes, doc.save_nocompress()));
        }
        Ok(self.store.put_snapshots(&snapshots)?)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let cache = match self.docs.get_mut() {
            Ok(c) => std::mem::take(c),
            // A writer panicked: its document may hold an uncommitted change; save nothing.
            Err(_) => return,
        };
        match self.compact(&cache) {
            Ok(0) => {}
            Ok(n) => tracing::debug!(documents = n, "saved fresh snapshots on close"),
            Err(e) => tracing::warn!(error = %e, "could not save fresh snapshots on close"),
        }
    }
}

/// Who this profile is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Identity {
    /// The member id (public key).
    pub member: MemberId,
    /// Display name.
    pub name: String,
    /// Region, if given.
    pub region: Option<String>,
    /// Organisation, if given.
    pub organisation: Option<String>,
    /// The profile directory.
    pub profile: String,
    /// When the key was last backed up (or restored from a sealed backup); `null` until
    /// then, and front ends remind.
    pub backed_up_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct IdentityRecord {
    name: String,
    region: Option<String>,
    organisation: Option<String>,
}

impl IdentityRecord {
    fn new(name: &str, region: Option<&str>, organisation: Option<&str>) -> Self {
        IdentityRecord {
            name: name.trim().to_owned(),
            region: clean(region),
            organisation: clean(organisation),
        }
    }

    fn encode(&self) -> Result<Vec<u8>, NodeError> {
        postcard::to_stdvec(self).map_err(|e| {
            NodeError::Invalid(SchemaError::Input {
                field: "identity",
                problem: e.to_string(),
            })
        })
    }
}

/// A new community's charter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewCommunity {
    /// Name.
    pub name: String,
    /// Domain statement.
    pub domain: String,
    /// Key issues.
    pub issues: Vec<String>,
    /// Values.
    pub values: Vec<String>,
    /// Topics.
    pub topics: Vec<String>,
}

/// A new thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewThread {
    /// Which activity.
    pub activity: ActivityKind,
    /// Title.
    pub title: String,
    /// Opening post.
    pub body: String,
    /// Topics.
    pub tags: Vec<String>,
}

/// A new repertoire entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewEntry {
    /// Kind.
    pub kind: EntryKind,
    /// Title; defaults to the thread's title when promoting.
    pub title: Option<String>,
    /// Body; defaults to the opening post and the answer when promoting.
    pub body: Option<String>,
    /// Topics; defaults to the thread's tags when promoting.
    pub tags: Vec<String>,
    /// The thread to promote.
    pub from_thread: Option<DocId>,
}

/// What promoting a thread did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Promotion {
    /// A new entry was written.
    Created {
        /// The new entry.
        entry: DocId,
    },
    /// The thread was promoted before; nothing was written.
    Existing {
        /// The entry promoted from it earlier.
        entry: DocId,
    },
}

impl Promotion {
    /// The entry, new or earlier.
    pub fn entry(&self) -> DocId {
        match self {
            Promotion::Created { entry } | Promotion::Existing { entry } => *entry,
        }
    }
}

/// Open or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ThreadState {
    /// Not resolved yet.
    Open,
    /// Resolved.
    Resolved,
}

/// Which threads to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ThreadFilter {
    /// Only this activity.
    pub activity: Option<ActivityKind>,
    /// Only open or only resolved.
    pub state: Option<ThreadState>,
    /// Only with this tag.
    pub tag: Option<String>,
}

/// Which entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EntryFilter {
    /// Only this kind.
    pub kind: Option<EntryKind>,
    /// Only with this tag.
    pub tag: Option<String>,
}

/// A community at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CommunityOverview {
    /// Its id.
    pub id: CommunityId,
    /// Its name.
    pub name: String,
    /// Its domain statement.
    pub domain: String,
    /// This profile's role, if a member.
    pub my_role: Option<Role>,
    /// Active members.
    pub members: usize,
    /// Threads.
    pub threads: usize,
    /// Requests for information not yet resolved.
    pub open_requests: usize,
    /// Repertoire entries.
    pub entries: usize,
}

/// What an import brought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    /// The community.
    pub community: CommunityId,
    /// Its name.
    pub name: String,
    /// Who exported the bundle.
    pub exporter: MemberId,
    /// Changes that were new here.
    pub new_changes: usize,
    /// Changes already known.
    pub known_changes: usize,
    /// Documents that changed.
    pub documents_changed: usize,
}

impl Node {
    /// Creates a new identity in `profile` and opens it.
    pub fn init(
        profile: Profile,
        name: &str,
        region: Option<&str>,
        organisation: Option<&str>,
    ) -> Result<Node, NodeError> {
        let key = SecretKey::generate(&mut rand::rng());
        Node::init_with_key(profile, key, name, region, organisation)
    }

    /// Creates an identity around an existing key (a restored backup) and opens it. The
    /// device gets a fresh actor: an actor is never reused across devices.
    pub(crate) fn init_with_key(
        profile: Profile,
        key: SecretKey,
        name: &str,
        region: Option<&str>,
        organisation: Option<&str>,
    ) -> Result<Node, NodeError> {
        commonplace_model::validate::line("name", name, 120)?;
        if profile.has_identity() {
            return Err(NodeError::AlreadyInitialised(
                profile.dir().display().to_string(),
            ));
        }
        crate::profile::create_private_dir(profile.dir())?;
        let store = Store::open(&profile.db_path())?;
        let mut rng = rand::rng();
        let member = key.member_id();
        let actor = actor::new_actor(&member, &mut rng);
        let record = IdentityRecord::new(name, region, organisation);
        let record_bytes = record.encode()?;
        // The database first: if the key file cannot be written, no half identity remains.
        store.commit(&Commit {
            docs: Vec::new(),
            meta: vec![
                ("identity".into(), record_bytes),
                ("actor".into(), actor.to_vec()),
                ("member".into(), member.as_bytes().to_vec()),
            ],
        })?;
        profile.write_key(&key)?;
        drop(store);
        Node::open(profile)
    }

    /// Opens an existing profile. Fails at once if another process has it open.
    pub fn open(profile: Profile) -> Result<Node, NodeError> {
        if !profile.has_identity() {
            return Err(NodeError::NoIdentity(profile.dir().display().to_string()));
        }
        let store = Store::open(&profile.db_path())?;
        crate::profile::restrict(profile.dir(), 0o700)?;
        crate::profile::restrict(&profile.db_path(), 0o600)?;
        let key = profile.read_key()?;
        let actor: [u8; actor::ACTOR_LEN] = store
            .meta("actor")?
            .and_then(|a| a.try_into().ok())
            .filter(|a: &[u8; actor::ACTOR_LEN]| actor::signer_of(a).ok() == Some(key.member_id()))
            .ok_or_else(|| NodeError::NoIdentity(profile.dir().display().to_string()))?;
        let (events, _) = broadcast::channel(1024);
        Ok(Node {
            inner: Arc::new(Inner {
                profile,
                store,
                key,
                actor,
                docs: Mutex::new(DocCache::default()),
                events,
            }),
        })
    }

    pub(crate) fn actor(&self) -> [u8; actor::ACTOR_LEN] {
        self.inner.actor
    }

    /// The member's secret key, for the network layer (the iroh endpoint key).
    pub fn secret_key(&self) -> &SecretKey {
        &self.inner.key
    }

    /// This profile's member id.
    pub fn member_id(&self) -> MemberId {
        self.inner.key.member_id()
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.inner.profile
    }

    /// Who this profile is.
    pub fn identity(&self) -> Result<Identity, NodeError> {
        let rec: IdentityRecord = self
            .inner
            .store
            .meta("identity")?
            .and_then(|b| postcard::from_bytes(&b).ok())
            .ok_or_else(|| NodeError::NoIdentity(self.inner.profile.dir().display().to_string()))?;
        Ok(Identity {
            member: self.member_id(),
            name: rec.name,
            region: rec.region,
            organisation: rec.organisation,
            profile: self.inner.profile.dir().display().to_string(),
            backed_up_at: self.backed_up_at()?,
        })
    }

    /// Changes this member's name, region and organisation: in the profile, and in the
    /// roster of every community they are an active member of (a member may write their own
    /// entry; peers verify that nothing else changed). Returns the identity as stored.
    pub fn update_profile(
        &self,
        name: &str,
        region: Option<&str>,
        organisation: Option<&str>,
    ) -> Result<Identity, NodeError> {
        commonplace_model::validate::line("your name", name, 120)?;
        let record = IdentityRecord::new(name, region, organisation);
        let bytes = record.encode()?;
        for c in self.community_ids()? {
            self.write_profile_entry(&c, &record)?;
        }
        self.inner.store.commit(&Commit {
            docs: Vec::new(),
            meta: vec![("identity".into(), bytes)],
        })?;
        self.identity()
    }

    /// Writes this member's name, region and organisation as stored in the profile into
    /// their roster entry in `community`, if they are an active member and it differs (a
    /// newcomer's admission carries only the name: the admitting node writes the entry, and
    /// only the member themself may write the rest). Returns whether it wrote a change.
    pub(crate) fn publish_profile(&self, community: &CommunityId) -> Result<bool, NodeError> {
        let me = self.identity()?;
        let record =
            IdentityRecord::new(&me.name, me.region.as_deref(), me.organisation.as_deref());
        self.write_profile_entry(community, &record)
    }

    fn write_profile_entry(
        &self,
        c: &CommunityId,
        record: &IdentityRecord,
    ) -> Result<bool, NodeError> {
        let me = self.member_id();
        let roster = self.community(c)?.roster;
        let Some(entry) = roster.members.get(&me).filter(|m| m.is_active()) else {
            return Ok(false);
        };
        if entry.name == record.name
            && entry.region == record.region
            && entry.organisation == record.organisation
        {
            return Ok(false);
        }
        self.write(DocRef::community(*c), false, |tx, _| {
            community::edit_profile(
                tx,
                &me,
                &record.name,
                record.region.as_deref(),
                record.organisation.as_deref(),
            )
        })?;
        Ok(true)
    }

    /// Domain events, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.inner.events.subscribe()
    }

    pub(crate) fn emit(&self, event: NodeEvent) {
        // No subscriber is not an error.
        let _ = self.inner.events.send(event);
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    // ---- communities -------------------------------------------------------------------

    /// Founds a community with this member as its first coordinator.
    pub fn create_community(&self, new: &NewCommunity) -> Result<CommunityId, NodeError> {
        let me = self.identity()?;
        let genesis = Genesis {
            founder: self.member_id(),
            nonce: commonplace_base::random_bytes(&mut rand::rng()),
        };
        let id = genesis.community_id();
        let charter = Charter {
            name: new.name.trim().to_owned(),
            domain: new.domain.trim().to_owned(),
            issues: new.issues.clone(),
            values: new.values.clone(),
            topics: commonplace_model::validate::tags(&new.topics)?,
        };
        let founder_name = me.name.clone();
        self.write(DocRef::community(id), true, |tx, now| {
            community::init(tx, &genesis, &charter, &founder_name, now)?;
            // The founder's roster entry carries their profile, like every later one.
            community::edit_profile(
                tx,
                &genesis.founder,
                &founder_name,
                me.region.as_deref(),
                me.organisation.as_deref(),
            )
        })?;
        Ok(id)
    }

    /// Every community in the profile.
    pub fn communities(&self) -> Result<Vec<CommunityOverview>, NodeError> {
        let me = self.member_id();
        let mut out = Vec::new();
        for c in self.inner.store.communities()? {
            let threads = self.inner.store.threads(&c.id)?;
            out.push(CommunityOverview {
                id: c.id,
                name: c.charter.name.clone(),
                domain: c.charter.domain.clone(),
                my_role: c.roster.role_of(&me),
                members: c.roster.active().count(),
                open_requests: threads
                    .iter()
                    .filter(|t| t.activity == ActivityKind::Request && !t.resolved)
                    .count(),
                threads: threads.len(),
                entries: self.inner.store.entries(&c.id)?.len(),
            });
        }
        out.sort_by_key(|c| c.name.to_lowercase());
        Ok(out)
    }

    /// One community: charter, roster, founding record.
    pub fn community(&self, id: &CommunityId) -> Result<Community, NodeError> {
        self.inner
            .store
            .community(id)?
            .ok_or_else(|| NodeError::NotFound {
                what: "community",
                text: id.to_string(),
            })
    }

    /// Replaces the charter. Coordinators only.
    pub fn update_charter(&self, id: &CommunityId, charter: &Charter) -> Result<(), NodeError> {
        self.require_role(id, Role::Coordinator, "change the charter")?;
        self.write(DocRef::community(*id), false, |tx, _| {
            community::write_charter(tx, charter)
        })
    }

    /// The roster: active members first, then removed ones.
    pub fn members(&self, id: &CommunityId) -> Result<Vec<RosterMember>, NodeError> {
        let c = self.community(id)?;
        let mut members: Vec<RosterMember> = c.roster.members.into_values().collect();
        members.sort_by(|a, b| {
            (a.removed_at.is_some(), a.role, a.name.to_lowercase()).cmp(&(
                b.removed_at.is_some(),
                b.role,
                b.name.to_lowercase(),
            ))
        });
        Ok(members)
    }

    /// Adds a member (or updates their name and role). Coordinators only.
    pub fn add_member(
        &self,
        id: &CommunityId,
        member: &MemberId,
        name: &str,
        role: Role,
    ) -> Result<(), NodeError> {
        self.require_role(id, Role::Coordinator, "add members")?;
        self.write(DocRef::community(*id), false, |tx, now| {
            community::put_member(tx, member, name, role, None, None, now)
        })
    }

    /// Changes a member's role. Coordinators only; the last coordinator cannot step down.
    pub fn set_role(
        &self,
        id: &CommunityId,
        member: &MemberId,
        role: Role,
    ) -> Result<(), NodeError> {
        self.require_role(id, Role::Coordinator, "change roles")?;
        let c = self.community(id)?;
        if c.roster.role_of(member).is_none() {
            return Err(NodeError::NotFound {
                what: "member",
                text: member.to_string(),
            });
        }
        if role != Role::Coordinator {
            self.keep_a_coordinator(&c, member)?;
        }
        self.write(DocRef::community(*id), false, |tx, _| {
            community::set_role(tx, member, role)
        })
    }

    /// Removes a member. Their past contributions stay. Coordinators only.
    pub fn remove_member(&self, id: &CommunityId, member: &MemberId) -> Result<(), NodeError> {
        self.require_role(id, Role::Coordinator, "remove members")?;
        let c = self.community(id)?;
        if c.roster.role_of(member).is_none() {
            return Err(NodeError::NotFound {
                what: "member",
                text: member.to_string(),
            });
        }
        self.keep_a_coordinator(&c, member)?;
        self.write(DocRef::community(*id), false, |tx, now| {
            community::remove_member(tx, member, now)
        })
    }

    fn keep_a_coordinator(&self, c: &Community, leaving: &MemberId) -> Result<(), NodeError> {
        let others = c
            .roster
            .active()
            .filter(|m| m.role == Role::Coordinator && m.id != *leaving)
            .count();
        if others == 0 && c.roster.role_of(leaving) == Some(Role::Coordinator) {
            return Err(NodeError::NotAllowed(
                "a community needs at least one coordinator: appoint another first".into(),
            ));
        }
        Ok(())
    }

    pub(crate) fn require_role(
        &self,
        id: &CommunityId,
        need: Role,
        action: &str,
    ) -> Result<Role, NodeError> {
        let c = self.community(id)?;
        let role = c.roster.role_of(&self.member_id());
        let ok = match (need, role) {
            (_, None) => false,
            (Role::Coordinator, Some(r)) => r == Role::Coordinator,
            (Role::Member, Some(r)) => r.can_contribute(),
            (Role::Observer, Some(_)) => true,
        };
        match role {
            Some(r) if ok => Ok(r),
            Some(r) => Err(NodeError::NotAllowed(format!(
                "only {}s may {action} in {}; you are a {}",
                need.as_str(),
                c.charter.name,
                r.as_str()
            ))),
            None => Err(NodeError::NotAllowed(format!(
                "you are not a member of {}: ask a coordinator to add you ({})",
                c.charter.name,
                self.member_id()
            ))),
        }
    }

    // ---- threads -----------------------------------------------------------------------

    /// Opens a thread.
    pub fn create_thread(
        &self,
        community: &CommunityId,
        new: &NewThread,
    ) -> Result<DocId, NodeError> {
        self.require_role(community, Role::Member, "write")?;
        let id = DocId::random(&mut rand::rng());
        let doc = DocRef {
            community: *community,
            kind: DocKind::Thread,
            id,
        };
        self.write(doc, true, |tx, now| {
            thread::init(
                tx,
                community,
                new.activity,
                &new.title,
                &new.body,
                &new.tags,
                now,
            )
        })?;
        Ok(id)
    }

    /// Threads of a community, most recently active first.
    pub fn threads(
        &self,
        community: &CommunityId,
        filter: &ThreadFilter,
    ) -> Result<Vec<ThreadSummary>, NodeError> {
        self.community(community)?;
        let tag = filter
            .tag
            .as_ref()
            .map(|t| t.trim().trim_start_matches('#').to_lowercase());
        let mut out: Vec<ThreadSummary> = self
            .inner
            .store
            .threads(community)?
            .into_iter()
            .filter(|t| filter.activity.is_none_or(|a| t.activity == a))
            .filter(|t| match filter.state {
                None => true,
                Some(ThreadState::Open) => !t.resolved,
                Some(ThreadState::Resolved) => t.resolved,
            })
            .filter(|t| tag.as_ref().is_none_or(|tag| t.tags.contains(tag)))
            .collect();
        out.sort_by_key(|t| std::cmp::Reverse((t.last_activity, t.id)));
        Ok(out)
    }

    /// A whole thread.
    pub fn thread(&self, id: &DocId) -> Result<Thread, NodeError> {
        let rec = self.doc_record(id, DocKind::Thread)?;
        let mut cache = self.lock_docs();
        let doc = self.loaded(&mut cache, id, &rec)?;
        Ok(thread::read(doc, *id)?)
    }

    /// Replies to a thread (or to one of its posts).
    pub fn reply(
        &self,
        thread_id: &DocId,
        body: &str,
        reply_to: Option<&PostId>,
    ) -> Result<PostId, NodeError> {
        let rec = self.doc_record(thread_id, DocKind::Thread)?;
        self.require_role(&rec.community, Role::Member, "reply")?;
        if let Some(r) = reply_to {
            let t = self.thread(thread_id)?;
            if t.post(r).is_none() {
                return Err(NodeError::NotFound {
                    what: "post in this thread",
                    text: r.to_string(),
                });
            }
        }
        let post = PostId::random(&mut rand::rng());
        self.write_as(
            thread_ref(&rec, thread_id),
            false,
            Derive::Reply { post, body },
            |tx, now| thread::reply(tx, &post, body, reply_to, now),
        )?;
        Ok(post)
    }

    /// Marks a thread resolved, optionally naming the answer. The thread's author and
    /// coordinators may do this.
    pub fn resolve(&self, thread_id: &DocId, answer: Option<&PostId>) -> Result<(), NodeError> {
        let rec = self.doc_record(thread_id, DocKind::Thread)?;
        self.may_moderate(thread_id, &rec, "resolve")?;
        self.write(thread_ref(&rec, thread_id), false, |tx, now| {
            thread::resolve(tx, answer, now)
        })
    }

    /// Opens a resolved thread again.
    pub fn reopen(&self, thread_id: &DocId) -> Result<(), NodeError> {
        let rec = self.doc_record(thread_id, DocKind::Thread)?;
        self.may_moderate(thread_id, &rec, "reopen")?;
        self.write(thread_ref(&rec, thread_id), false, |tx, _| {
            thread::reopen(tx)
        })
    }

    fn may_moderate(
        &self,
        thread_id: &DocId,
        rec: &DocRecord,
        action: &str,
    ) -> Result<(), NodeError> {
        let role = self.require_role(&rec.community, Role::Member, action)?;
        let author = self.thread(thread_id)?.opening.author;
        if role != Role::Coordinator && author != Some(self.member_id()) {
            return Err(NodeError::NotAllowed(format!(
                "only the thread's author or a coordinator may {action} it"
            )));
        }
        Ok(())
    }

    /// Says "this helped" for a post (the opening post's id is the thread id). Not for one's
    /// own post: peers refuse that change.
    pub fn mark_helped(&self, thread_id: &DocId, post: &PostId) -> Result<(), NodeError> {
        let rec = self.doc_record(thread_id, DocKind::Thread)?;
        self.require_role(&rec.community, Role::Member, "mark posts helpful")?;
        let me = self.member_id();
        let t = self.thread(thread_id)?;
        let Some(p) = t.post(post) else {
            return Err(NodeError::NotFound {
                what: "post in this thread",
                text: post.to_string(),
            });
        };
        if p.author == Some(me) {
            return Err(NodeError::NotAllowed(
                "this is your own post: others say whether it helped them".into(),
            ));
        }
        if p.helped_by.contains(&me) {
            return Ok(());
        }
        self.write(thread_ref(&rec, thread_id), false, |tx, _| {
            thread::mark_helped(tx, post, &me)
        })
    }

    /// Withdraws this member's own "this helped" mark on a post; nothing to do if there is
    /// none.
    pub fn unmark_helped(&self, thread_id: &DocId, post: &PostId) -> Result<(), NodeError> {
        let rec = self.doc_record(thread_id, DocKind::Thread)?;
        self.require_role(&rec.community, Role::Member, "mark posts helpful")?;
        let me = self.member_id();
        let t = self.thread(thread_id)?;
        let Some(p) = t.post(post) else {
            return Err(NodeError::NotFound {
                what: "post in this thread",
                text: post.to_string(),
            });
        };
        if !p.helped_by.contains(&me) {
            return Ok(());
        }
        self.write(thread_ref(&rec, thread_id), false, |tx, _| {
            thread::unmark_helped(tx, post, &me)
        })
    }

    // ---- repertoire --------------------------------------------------------------------

    /// Promotes a thread into a repertoire entry (`new.from_thread`), or, if an entry was
    /// promoted from that thread already (here or by another member), names that entry and
    /// writes nothing.
    pub fn promote_thread(
        &self,
        community: &CommunityId,
        new: &NewEntry,
    ) -> Result<Promotion, NodeError> {
        if new.from_thread.is_none() {
            return Err(NodeError::Invalid(SchemaError::Input {
                field: "from_thread",
                problem: "names no thread to promote".into(),
            }));
        }
        match self.create_entry(community, new) {
            Ok(entry) => Ok(Promotion::Created { entry }),
            Err(NodeError::AlreadyPromoted { entry, .. }) => Ok(Promotion::Existing { entry }),
            Err(e) => Err(e),
        }
    }

    /// The entry promoted from `thread`, if there is one (the first, if members promoted it
    /// concurrently on different nodes).
    pub fn entry_promoted_from(
        &self,
        community: &CommunityId,
        thread: &DocId,
    ) -> Result<Option<EntrySummary>, NodeError> {
        Ok(self
            .inner
            .store
            .entries(community)?
            .into_iter()
            .filter(|e| e.source_thread == Some(*thread))
            .min_by_key(|e| (e.created_at, e.id)))
    }

    /// Creates a repertoire entry, or promotes a thread into one. A thread already promoted
    /// is refused with [`NodeError::AlreadyPromoted`], naming its entry: promoting twice
    /// would make a second copy of the same knowledge.
    pub fn create_entry(
        &self,
        community: &CommunityId,
        new: &NewEntry,
    ) -> Result<DocId, NodeError> {
        self.require_role(community, Role::Member, "write")?;
        let (title, body, tags, source) = match &new.from_thread {
            None => (
                new.title.clone().unwrap_or_default(),
                new.body.clone().unwrap_or_default(),
                new.tags.clone(),
                None,
            ),
            Some(tid) => {
                let rec = self.doc_record(tid, DocKind::Thread)?;
                if rec.community != *community {
                    return Err(NodeError::NotFound {
                        what: "thread in this community",
                        text: tid.to_string(),
                    });
                }
                if let Some(existing) = self.entry_promoted_from(community, tid)? {
                    return Err(NodeError::AlreadyPromoted {
                        thread: *tid,
                        entry: existing.id,
                    });
                }
                let t = self.thread(tid)?;
                let heads = {
                    let mut cache = self.lock_docs();
                    let doc = self.loaded(&mut cache, tid, &rec)?;
                    doc.get_heads().iter().map(ToString::to_string).collect()
                };
                let source = Source {
                    thread: *tid,
                    heads,
                    posts: std::iter::once(&t.opening)
                        .chain(&t.replies)
                        .map(|p| p.id)
                        .collect(),
                    contributors: t.summary().participants,
                };
                let body = new.body.clone().unwrap_or_else(|| promoted_body(&t));
                let mut tags = t.tags.clone();
                tags.extend(new.tags.iter().cloned());
                (
                    new.title.clone().unwrap_or_else(|| t.title.clone()),
                    body,
                    tags,
                    Some(source),
                )
            }
        };
        let id = DocId::random(&mut rand::rng());
        let doc = DocRef {
            community: *community,
            kind: DocKind::Entry,
            id,
        };
        self.write(doc, true, |tx, now| {
            entry::init(
                tx,
                community,
                new.kind,
                &title,
                &body,
                &tags,
                source.as_ref(),
                now,
            )
        })?;
        Ok(id)
    }

    /// Edits an entry's text.
    pub fn edit_entry(&self, entry_id: &DocId, edit: &TextEdit) -> Result<(), NodeError> {
        let rec = self.doc_record(entry_id, DocKind::Entry)?;
        self.require_role(&rec.community, Role::Member, "edit the repertoire")?;
        self.write(entry_ref(&rec, entry_id), false, |tx, now| {
            entry::edit(tx, edit, now)
        })
    }

    /// Changes an entry's title and tags.
    pub fn retitle_entry(
        &self,
        entry_id: &DocId,
        title: Option<&str>,
        tags: Option<&[String]>,
    ) -> Result<(), NodeError> {
        let rec = self.doc_record(entry_id, DocKind::Entry)?;
        self.require_role(&rec.community, Role::Member, "edit the repertoire")?;
        self.write(entry_ref(&rec, entry_id), false, |tx, now| {
            entry::retitle(tx, title, tags, now)
        })
    }

    /// Entries of a community, most recently updated first.
    pub fn entries(
        &self,
        community: &CommunityId,
        filter: &EntryFilter,
    ) -> Result<Vec<EntrySummary>, NodeError> {
        self.community(community)?;
        let tag = filter
            .tag
            .as_ref()
            .map(|t| t.trim().trim_start_matches('#').to_lowercase());
        let mut out: Vec<EntrySummary> = self
            .inner
            .store
            .entries(community)?
            .into_iter()
            .filter(|e| filter.kind.is_none_or(|k| e.kind == k))
            .filter(|e| tag.as_ref().is_none_or(|tag| e.tags.contains(tag)))
            .collect();
        out.sort_by_key(|e| std::cmp::Reverse((e.updated_at, e.id)));
        Ok(out)
    }

    /// A whole entry.
    pub fn entry(&self, id: &DocId) -> Result<Entry, NodeError> {
        let rec = self.doc_record(id, DocKind::Entry)?;
        let mut cache = self.lock_docs();
        let doc = self.loaded(&mut cache, id, &rec)?;
        Ok(entry::read(doc, *id)?)
    }

    // ---- export and import ------------------------------------------------------------

    /// Everything about a community, with every signature, as a signed bundle.
    pub fn export(&self, community: &CommunityId) -> Result<Vec<u8>, NodeError> {
        let c = self.community(community)?;
        let mut docs = Vec::new();
        let mut ids = self.inner.store.docs_of(community)?;
        // The community document first: importers judge every other document by its roster.
        ids.sort_by_key(|(id, rec)| (rec.kind != DocKind::Community, *id));
        for (id, rec) in ids {
            docs.push(BundleDoc {
                id,
                kind: rec.kind,
                // Each actor's newest change signed, vouching for its earlier ones.
                changes: commonplace_model::with_vouching_signatures(
                    self.inner.store.changes(&id)?,
                )
                .map_err(|e| StoreError::Corrupt {
                    what: "change",
                    detail: e.to_string(),
                })?,
            });
        }
        let body = BundleBody {
            genesis: c.genesis,
            created_at: Timestamp::now(),
            docs,
        };
        Ok(bundle::encode(&body, &self.inner.key)?)
    }

    /// Verifies and stores a bundle, through the ingest gate (see `ingest.rs`). One bad
    /// change refuses the whole bundle and stores nothing.
    pub fn import(&self, bytes: &[u8]) -> Result<ImportReport, NodeError> {
        let b = bundle::decode(bytes)?;
        let genesis = b.body.genesis;
        let community = genesis.community_id();
        let batches: Vec<Arrived<'_>> = b
            .body
            .docs
            .iter()
            .map(|d| Arrived {
                doc: DocRef {
                    community,
                    kind: d.kind,
                    id: d.id,
                },
                changes: &d.changes,
            })
            .collect();
        let (c, total, ingested) = self.ingest(&genesis, &batches, Durability::Durable)?;
        Ok(ImportReport {
            community,
            name: c.charter.name,
            exporter: b.exporter,
            new_changes: ingested.new_changes,
            known_changes: total - ingested.new_changes,
            documents_changed: ingested.heads.len(),
        })
    }

    // ---- upkeep ------------------------------------------------------------------------

    /// Saves a fresh snapshot of every loaded document with `COMPACT_TAIL` or more stored
    /// changes after its snapshot, in one durable write; returns how many. The node does this
    /// when it closes; an always-on node can call it when idle.
    pub fn compact(&self) -> Result<usize, NodeError> {
        let cache = self.lock_docs();
        self.inner.compact(&cache)
    }

    // ---- internals ---------------------------------------------------------------------

    pub(crate) fn lock_docs(&self) -> MutexGuard<'_, DocCache> {
        // A panic while holding the lock leaves at worst a document with an uncommitted
        // change in the cache; clear it rather than propagate the poison.
        self.inner.docs.lock().unwrap_or_else(|poisoned| {
            let mut g = poisoned.into_inner();
            g.docs.clear();
            g
        })
    }

    pub(crate) fn doc_record(&self, id: &DocId, kind: DocKind) -> Result<DocRecord, NodeError> {
        self.inner
            .store
            .doc_record(id)?
            .filter(|r| r.kind == kind)
            .ok_or_else(|| NodeError::NotFound {
                what: kind.as_str(),
                text: id.to_string(),
            })
    }

    /// The loaded document, from the cache or the store.
    pub(crate) fn loaded<'c>(
        &self,
        cache: &'c mut DocCache,
        id: &DocId,
        rec: &DocRecord,
    ) -> Result<&'c mut Automerge, NodeError> {
        if !cache.docs.contains_key(id) {
            let doc = self.load_from_store(id, rec)?;
            cache.put(*id, doc);
        }
        cache.docs.get_mut(id).ok_or_else(|| NodeError::NotFound {
            what: rec.kind.as_str(),
            text: id.to_string(),
        })
    }

    fn load_from_store(&self, id: &DocId, rec: &DocRecord) -> Result<Automerge, NodeError> {
        let corrupt = |detail: String| {
            NodeError::Store(commonplace_store::StoreError::Corrupt {
                what: "document",
                detail: format!("{} {id}: {detail}", rec.kind.as_str()),
            })
        };
        let loaded = self
            .inner
            .store
            .load_doc(id)?
            .ok_or_else(|| corrupt("missing".into()))?;
        let from_log = |from: &str| -> Result<Automerge, NodeError> {
            let changes = self.inner.store.changes(id)?;
            replay(new_document(&self.inner.actor), changes, from).map_err(corrupt)
        };
        let Some(snapshot) = &loaded.snapshot else {
            return replay(
                new_document(&self.inner.actor),
                loaded.tail,
                "its change log",
            )
            .map_err(corrupt);
        };
        // The snapshot is a cache of the change log: a snapshot that does not load (written
        // before the gate refused changes Automerge does not reproduce, or damaged) costs a
        // replay of the log, never the document.
        let doc = match load_document(snapshot, &self.inner.actor) {
            Ok(doc) => doc,
            Err(e) => {
                tracing::warn!(
                    "{} {id}: its snapshot does not load ({e}); rebuilt from its change log",
                    rec.kind.as_str()
                );
                return from_log("its change log");
            }
        };
        match replay(doc, loaded.tail, "the changes after its snapshot") {
            Ok(doc) => Ok(doc),
            Err(e) => {
                tracing::warn!(
                    "{} {id}: {e}; rebuilt from its whole change log",
                    rec.kind.as_str()
                );
                from_log("its change log")
            }
        }
    }

    /// Makes one local change to one document, signs it, stores it durably with its index
    /// row, and only then reports success.
    pub(crate) fn write<R>(
        &self,
        doc_ref: DocRef,
        create: bool,
        f: impl FnOnce(&mut Transaction<'_>, Timestamp) -> Result<R, SchemaError>,
    ) -> Result<R, NodeError> {
        self.write_as(doc_ref, create, Derive::Read, f)
    }

    /// [`Node::write`], saying how the new index row is found.
    fn write_as<R>(
        &self,
        doc_ref: DocRef,
        create: bool,
        derive: Derive<'_>,
        f: impl FnOnce(&mut Transaction<'_>, Timestamp) -> Result<R, SchemaError>,
    ) -> Result<R, NodeError> {
        let mut cache = self.lock_docs();
        let rec = self.inner.store.doc_record(&doc_ref.id)?;
        if create {
            if rec.is_some() {
                return Err(NodeError::NotAllowed(format!(
                    "{} already exists",
                    doc_ref.id
                )));
            }
            cache.put(doc_ref.id, new_document(&self.inner.actor));
        }
        let doc = match &rec {
            Some(r) => self.loaded(&mut cache, &doc_ref.id, r)?,
            None => cache
                .docs
                .get_mut(&doc_ref.id)
                .ok_or_else(|| NodeError::NotFound {
                    what: doc_ref.kind.as_str(),
                    text: doc_ref.id.to_string(),
                })?,
        };
        let now = Timestamp::now();
        let outcome = doc.transact_with(
            |_| CommitOptions::default().with_time(now.0),
            |tx| f(tx, now),
        );
        let success = match outcome {
            Ok(s) => s,
            Err(failure) => {
                if create {
                    cache.docs.remove(&doc_ref.id);
                }
                return Err(failure.error.into());
            }
        };
        let Some(hash) = success.hash else {
            return Ok(success.result);
        };
        let row = match derive {
            Derive::Read => Ok(None),
            Derive::Reply { post, body } => self.reply_row(&doc_ref, post, body, now),
        };
        #[cfg(debug_assertions)]
        if let Ok(Some(row)) = &row {
            // The derived row must be the one a full read gives; every debug test checks it.
            if let Ok((index, _, activity)) = index_row(&doc_ref, doc) {
                debug_assert_eq!(
                    format!("{:?}", (&row.0, &row.2)),
                    format!("{:?}", (&index, &activity))
                );
            }
        }
        let stored =
            row.and_then(|row| self.sign_and_store_with(doc, &doc_ref, rec.as_ref(), &hash, row));
        match stored {
            Ok(event) => {
                drop(cache);
                self.emit(event);
                Ok(success.result)
            }
            Err(e) => {
                // The change is in memory but not on disk: forget the document so the next
                // read comes from the store again.
                cache.docs.remove(&doc_ref.id);
                Err(e)
            }
        }
    }

    /// The index row after a reply this node just wrote, derived from the stored row instead
    /// of reading the whole thread; `None` when the stored row cannot be extended (no activity
    /// records yet): read the thread then.
    fn reply_row(
        &self,
        doc_ref: &DocRef,
        post: PostId,
        body: &str,
        now: Timestamp,
    ) -> Result<Option<Row>, NodeError> {
        let Some((summary, Some(DocActivity::Thread(mut posts)))) = self
            .inner
            .store
            .thread_row(&doc_ref.community, &doc_ref.id)?
        else {
            return Ok(None);
        };
        let record = commonplace_model::PostRecord {
            id: post,
            author: Some(self.member_id()),
            at: now,
            helped_by: Vec::new(),
            links: activity::links_in(body),
        };
        Ok(summary.with_reply(&mut posts, record).map(|s| {
            (
                IndexRow::Thread(Box::new(s)),
                NodeEvent::ThreadChanged {
                    community: doc_ref.community,
                    thread: doc_ref.id,
                },
                Some(DocActivity::Thread(posts)),
            )
        }))
    }

    pub(crate) fn sign_and_store(
        &self,
        doc: &Automerge,
        doc_ref: &DocRef,
        rec: Option<&DocRecord>,
        hash: &automerge::ChangeHash,
    ) -> Result<NodeEvent, NodeError> {
        self.sign_and_store_with(doc, doc_ref, rec, hash, None)
    }

    /// [`Node::sign_and_store`] with the index row already known, if it is.
    fn sign_and_store_with(
        &self,
        doc: &Automerge,
        doc_ref: &DocRef,
        rec: Option<&DocRecord>,
        hash: &automerge::ChangeHash,
        row: Option<Row>,
    ) -> Result<NodeEvent, NodeError> {
        let change = doc
            .get_change_by_hash(hash)
            .ok_or_else(|| NodeError::Invalid(SchemaError::Automerge("change vanished".into())))?;
        let signature = doc_ref.sign(&self.inner.key, hash);
        let (write, event) = doc_write(
            doc_ref,
            doc,
            rec,
            &[commonplace_model::SignedChange {
                bytes: change.raw_bytes().to_vec(),
                signature: Some(signature),
            }],
            &[*hash],
            row,
        )?;
        self.inner.store.commit(&Commit {
            docs: vec![write],
            // Counted until a sync with some member completes: "not yet shared".
            meta: vec![(
                pending_key(&doc_ref.community),
                (self.unshared(&doc_ref.community)? + 1)
                    .to_le_bytes()
                    .to_vec(),
            )],
        })?;
        Ok(event)
    }
}

impl DocCache {
    pub(crate) fn put(&mut self, id: DocId, doc: Automerge) {
        if self.docs.len() >= CACHE_DOCS && !self.docs.contains_key(&id) {
            // Documents are cheap to reload from their snapshots; a simple reset keeps
            // memory bounded without bookkeeping.
            self.docs.clear();
        }
        self.docs.insert(id, doc);
    }
}

/// How a local write finds its new index row.
enum Derive<'a> {
    /// Read the document.
    Read,
    /// From the stored row: the write adds reply `post` with this body, nothing else.
    Reply { post: PostId, body: &'a str },
}

/// A document's index row, the event to publish and its activity records.
pub(crate) type Row = (IndexRow, NodeEvent, Option<DocActivity>);

/// The store write for new changes of one document: the changes with their hashes, the new
/// heads, the index row (`row`, or read from `doc`), and a snapshot when one is due.
pub(crate) fn doc_write(
    doc_ref: &DocRef,
    doc: &Automerge,
    rec: Option<&DocRecord>,
    changes: &[commonplace_model::SignedChange],
    hashes: &[automerge::ChangeHash],
    row: Option<Row>,
) -> Result<(DocWrite, NodeEvent), NodeError> {
    let (index, event, activity) = match row {
        Some(row) => row,
        None => index_row(doc_ref, doc)?,
    };
    let since_snapshot = rec.map_or(0, |r| r.changes - r.snapshot_upto) + changes.len() as u64;
    // Uncompressed: a snapshot is a local cache of the change log, and deflating it was a
    // tenth of an import's time (loading it back is faster too).
    let snapshot =
        (rec.is_none() || since_snapshot >= SNAPSHOT_EVERY).then(|| doc.save_nocompress());
    Ok((
        DocWrite {
            doc: *doc_ref,
            changes: changes.to_vec(),
            hashes: hashes.iter().map(|h| h.0).collect(),
            heads: doc.get_heads().iter().map(|h| h.0).collect(),
            snapshot,
            index,
            activity,
        },
        event,
    ))
}

/// [`index_row`] from a read the verification already made.
pub(crate) fn row_of(doc_ref: &DocRef, doc: &Automerge, read: verify::DocRead) -> Row {
    match read {
        verify::DocRead::Community(c) => (
            IndexRow::Community(c),
            NodeEvent::CommunityChanged {
                community: doc_ref.community,
            },
            None,
        ),
        verify::DocRead::Thread(t) => (
            IndexRow::Thread(Box::new(t.summary())),
            NodeEvent::ThreadChanged {
                community: doc_ref.community,
                thread: doc_ref.id,
            },
            Some(DocActivity::Thread(t.activity())),
        ),
        verify::DocRead::Entry(e) => (
            IndexRow::Entry(Box::new(e.summary())),
            NodeEvent::EntryChanged {
                community: doc_ref.community,
                entry: doc_ref.id,
            },
            Some(DocActivity::Entry(activity::entry_edits(doc))),
        ),
        verify::DocRead::Event(e) => (
            IndexRow::Event(Box::new(e.summary())),
            NodeEvent::EventChanged {
                community: doc_ref.community,
                event: doc_ref.id,
            },
            None,
        ),
    }
}

/// The index row, the event to publish and the activity records of a document.
pub(crate) fn index_row(doc_ref: &DocRef, doc: &Automerge) -> Result<Row, NodeError> {
    Ok(match doc_ref.kind {
        DocKind::Community => (
            IndexRow::Community(Box::new(community::read(doc)?)),
            NodeEvent::CommunityChanged {
                community: doc_ref.community,
            },
            None,
        ),
        DocKind::Thread => {
            let t = thread::read(doc, doc_ref.id)?;
            (
                IndexRow::Thread(Box::new(t.summary())),
                NodeEvent::ThreadChanged {
                    community: doc_ref.community,
                    thread: doc_ref.id,
                },
                Some(DocActivity::Thread(t.activity())),
            )
        }
        DocKind::Entry => (
            IndexRow::Entry(Box::new(entry::read(doc, doc_ref.id)?.summary())),
            NodeEvent::EntryChanged {
                community: doc_ref.community,
                entry: doc_ref.id,
            },
            Some(DocActivity::Entry(activity::entry_edits(doc))),
        ),
        DocKind::Event => (
            IndexRow::Event(Box::new(event::read(doc, doc_ref.id)?.summary())),
            NodeEvent::EventChanged {
                community: doc_ref.community,
                event: doc_ref.id,
            },
            None,
        ),
    })
}

/// Imports of at least this many changes spread their documents over the cores.
pub(crate) const PARALLEL_FROM: usize = 2_000;

/// Applies stored changes to `doc`, in stored order (dependencies first); `what` names them
/// in the error.
fn replay(
    mut doc: Automerge,
    changes: Vec<commonplace_model::SignedChange>,
    what: &str,
) -> Result<Automerge, String> {
    let mut decoded = Vec::with_capacity(changes.len());
    for c in changes {
        decoded.push(Change::from_bytes(c.bytes).map_err(|e| format!("{what}: {e}"))?);
    }
    doc.apply_changes(decoded)
        .map_err(|e| format!("{what}: {e}"))?;
    Ok(doc)
}

pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// `f` over every job, on up to `threads` scoped threads (all joined before this returns),
/// results in the order of the jobs. Jobs are dealt round-robin: an import's documents are
/// of similar size, so this balances well enough without a queue.
pub(crate) fn in_parallel<T, R, E>(
    jobs: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> Result<R, E> + Sync,
) -> Vec<Result<R, E>>
where
    T: Send,
    R: Send,
    E: Send + From<NodeError>,
{
    let n = jobs.len();
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return jobs.into_iter().map(f).collect();
    }
    let mut shares: Vec<Vec<(usize, T)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, job) in jobs.into_iter().enumerate() {
        shares[i % threads].push((i, job));
    }
    let f = &f;
    let mut out: Vec<Option<Result<R, E>>> = (0..n).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| {
                s.spawn(move || {
                    share
                        .into_iter()
                        .map(|(i, job)| (i, f(job)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            // A worker that panicked leaves its results empty: reported below.
            if let Ok(results) = h.join() {
                for (i, r) in results {
                    out[i] = Some(r);
                }
            }
        }
    });
    out.into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(NodeError::Invalid(SchemaError::Automerge(
                    "a document could not be processed (its worker failed)".into(),
                ))
                .into())
            })
        })
        .collect()
}

fn pending_key(community: &CommunityId) -> String {
    format!("unshared/{community}")
}

impl Node {
    /// Local changes to `community` made since the last completed sync with any member: what
    /// nobody else has yet.
    pub fn unshared(&self, community: &CommunityId) -> Result<u64, NodeError> {
        Ok(self
            .inner
            .store
            .meta(&pending_key(community))?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map_or(0, u64::from_le_bytes))
    }

    /// The setting that resets the unshared count of `community`, for a sync that completed:
    /// both sides then hold the same changes.
    pub(crate) fn shared_now(&self, community: &CommunityId) -> (String, Vec<u8>) {
        (pending_key(community), 0u64.to_le_bytes().to_vec())
    }
}

fn thread_ref(rec: &DocRecord, id: &DocId) -> DocRef {
    DocRef {
        community: rec.community,
        kind: DocKind::Thread,
        id: *id,
    }
}

pub(crate) fn entry_ref(rec: &DocRecord, id: &DocId) -> DocRef {
    DocRef {
        community: rec.community,
        kind: DocKind::Entry,
        id: *id,
    }
}

/// The default text of an entry promoted from a thread: the question and, if one was
/// marked, the answer.
fn promoted_body(t: &Thread) -> String {
    let mut body = t.opening.body.trim().to_owned();
    if let Some(answer) = t.answer.as_ref().and_then(|a| t.post(a)) {
        body.push_str("\n\nAnswer:\n\n");
        body.push_str(answer.body.trim());
    }
    body
}

fn clean(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}
