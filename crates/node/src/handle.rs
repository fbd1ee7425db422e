//! The open profile: the [`Node`] handle, opening and creating a profile, events, and what
//! closing saves.

use std::sync::{Arc, Mutex};

use commonplace_base::{MemberId, SecretKey, actor};
use commonplace_store::{Commit, Store};
use tokio::sync::broadcast;

use crate::cache::{DocCache, lock_slot};
use crate::identity::IdentityRecord;
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
    /// Loaded documents and the write paths' locks (see `cache.rs`).
    docs: DocCache,
    events: broadcast::Sender<NodeEvent>,
    /// Called by the gate with the documents of every batch it stages, before it verifies
    /// them: tests hold a batch there to show what may and may not wait for it.
    staging_hook: Mutex<HookSlot>,
}

/// A test's hook into the ingest gate's staging; see [`Node::set_staging_hook`].
pub type StagingHook = Arc<dyn Fn(&[commonplace_model::DocRef]) + Send + Sync>;

#[derive(Default)]
struct HookSlot(Option<StagingHook>);

impl std::fmt::Debug for HookSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "hook" } else { "none" })
    }
}

/// A loaded document with this many stored changes after its snapshot gets a fresh snapshot
/// when the node closes (or [`Node::compact`] runs), so the next start loads it without
/// replaying them. Writes take a snapshot only every `SNAPSHOT_EVERY` changes, keeping the
/// member's posts fast; closing is where the rest of that work is cheap to do.
const COMPACT_TAIL: u64 = 8;

impl Inner {
    fn compact(&self) -> Result<usize, NodeError> {
        // No write may land between a document's check and its snapshot.
        let _gate = self.docs.gate();
        let _local = self.docs.local();
        let mut snapshots = Vec::new();
        for (id, slot) in self.docs.loaded() {
            let Some(rec) = self.store.doc_record(&id)? else {
                continue;
            };
            if rec.changes.saturating_sub(rec.snapshot_upto) < COMPACT_TAIL {
                continue;
            }
            let guard = lock_slot(&slot);
            let Some(doc) = guard.as_ref() else {
                continue;
            };
            // Only a document that is exactly what the store holds (a failed write empties
            // its slot, but check rather than trust that).
            let heads: Vec<[u8; 32]> = doc.get_heads().iter().map(|h| h.0).collect();
            if heads != rec.heads {
                continue;
            }
            snapshots.push((id, rec.changes, doc.save_nocompress()));
        }
        Ok(self.store.put_snapshots(&snapshots)?)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // A writer that panicked emptied its document's slot (see `lock_slot`): nothing of it
        // is saved.
        match self.compact() {
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
                docs: DocCache::default(),
                events,
                staging_hook: Mutex::default(),
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

    /// The loaded documents and the write paths' locks.
    pub(crate) fn docs(&self) -> &DocCache {
        &self.inner.docs
    }

    /// For tests only: `hook` is called with the documents of every batch the ingest gate
    /// stages (imports, sync frames, live announcements), on the staging thread, after the
    /// working copies are taken and before anything is verified. A test that blocks in it
    /// holds the batch mid-verify. `None` removes it.
    #[doc(hidden)]
    pub fn set_staging_hook(&self, hook: Option<StagingHook>) {
        *self
            .inner
            .staging_hook
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = HookSlot(hook);
    }

    pub(crate) fn staging(&self, docs: &[commonplace_model::DocRef]) {
        let hook = self
            .inner
            .staging_hook
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
            .clone();
        if let Some(hook) = hook {
            hook(docs);
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Saves a fresh snapshot of every loaded document with `COMPACT_TAIL` or more stored
    /// changes after its snapshot, in one durable write; returns how many. The node does this
    /// when it closes; an always-on node can call it when idle.
    pub fn compact(&self) -> Result<usize, NodeError> {
        self.inner.compact()
    }
}
