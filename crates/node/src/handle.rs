//! The open profile: the [`Node`] handle, opening and creating a profile, events, and what
//! closing saves.

use std::sync::{Arc, Mutex};

use commonplace_base::{MemberId, SecretKey, actor};
use commonplace_store::{Commit, Store};
use tokio::sync::broadcast;

use crate::identity::IdentityRecord;
use crate::write::DocCache;
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

    /// Domain events, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.inner.events.subscribe()
    }

    pub(crate) fn emit(&self, event: NodeEvent) {
        // No subscriber is not an error.
        let _ = self.inner.events.send(event);
    }

    /// The document cache's lock; take it through `Node::lock_docs`.
    pub(crate) fn doc_lock(&self) -> &Mutex<DocCache> {
        &self.inner.docs
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Saves a fresh snapshot of every loaded document with `COMPACT_TAIL` or more stored
    /// changes after its snapshot, in one durable write; returns how many. The node does this
    /// when it closes; an always-on node can call it when idle.
    pub fn compact(&self) -> Result<usize, NodeError> {
        let cache = self.lock_docs();
        self.inner.compact(&cache)
    }
}
