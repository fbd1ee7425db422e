//! Loaded documents and the locks around them, fine-grained so that a reader never waits for
//! a writer of another document, and never for the long part of an incoming batch.
//!
//! The locks, and the order they are taken in (a holder only ever takes a lock further down
//! the list, never one further up):
//!
//! 1. **The gate** ([`DocCache::gate`]): one incoming batch at a time (an import, one batch
//!    of sync frames, a live announcement), held from staging to commit.
//! 2. **Local writes** ([`DocCache::local`]): one local write at a time; it also keeps the
//!    "not yet shared" count consistent. Nothing holds the gate and this lock together but
//!    the rebuilding of the activity index and compaction (gate first).
//! 3. **A document's claim** ([`DocCache::claim`]): whoever will write a document holds its
//!    claim from before it takes its copy until the new version is stored and installed. The
//!    gate's holder claims every document of its batch and the community document (whose
//!    roster judges the batch; the order among them does not matter, as only the gate's
//!    holder ever holds more than one claim); a local writer claims only the one document it
//!    writes, and waits for nothing else while it holds it, so the two never wait for each
//!    other in a circle.
//! 4. **The map lock, then one document's slot lock**: held only to find, load, read, clone
//!    or replace that document, never across a verification or another document.
//!
//! Readers take only 4. The gate verifies on copies taken under the slot lock and installs
//! the new versions after the store has them, so a reader sees the version before a batch or
//! the version after it, never a half. A local write changes its document in place under the
//! slot lock and stores it before letting go, so readers of that document (only) wait for
//! the disk write.
//!
//! What this module must never do: hand out a document that is not what the store holds or
//! is about to hold, or let the cache outlive a failed write of a document.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use automerge::Automerge;
use commonplace_base::DocId;

/// One loaded document: `None` until it is loaded from the store (or after a failed write).
pub(crate) type Slot = Arc<Mutex<Option<Automerge>>>;

/// At most this many documents stay loaded.
const CACHE_DOCS: usize = 256;

/// The loaded documents and the locks of the write paths; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct DocCache {
    gate: Mutex<()>,
    local: Mutex<()>,
    claimed: Mutex<HashSet<DocId>>,
    released: Condvar,
    docs: Mutex<HashMap<DocId, Slot>>,
}

/// A lock whose holder panicked guards nothing broken: the sets and maps it guards stay
/// whole. (A document's slot is different; see [`lock_slot`].)
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A document's slot lock. A writer that panicked while holding it may have left an
/// uncommitted change in the document: the slot is emptied, so it is loaded from the store
/// again.
pub(crate) fn lock_slot(slot: &Slot) -> MutexGuard<'_, Option<Automerge>> {
    match slot.lock() {
        Ok(g) => g,
        Err(poisoned) => {
            let mut g = poisoned.into_inner();
            *g = None;
            slot.clear_poison();
            g
        }
    }
}

/// The right to write one document, until dropped.
#[derive(Debug)]
pub(crate) struct Claim<'a> {
    cache: &'a DocCache,
    id: DocId,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        lock(&self.cache.claimed).remove(&self.id);
        self.cache.released.notify_all();
    }
}

impl DocCache {
    /// The gate's lock: one incoming batch at a time.
    pub(crate) fn gate(&self) -> MutexGuard<'_, ()> {
        lock(&self.gate)
    }

    /// The local writers' lock.
    pub(crate) fn local(&self) -> MutexGuard<'_, ()> {
        lock(&self.local)
    }

    /// Waits until no one else may write `id`, then claims it.
    pub(crate) fn claim(&self, id: DocId) -> Claim<'_> {
        let mut held = lock(&self.claimed);
        while held.contains(&id) {
            held = self
                .released
                .wait(held)
                .unwrap_or_else(PoisonError::into_inner);
        }
        held.insert(id);
        Claim { cache: self, id }
    }

    /// The slot of `id`, a new empty one if it is not loaded.
    pub(crate) fn slot(&self, id: DocId) -> Slot {
        let mut docs = lock(&self.docs);
        if let Some(s) = docs.get(&id) {
            return s.clone();
        }
        let s = Slot::default();
        Self::insert(&mut docs, id, s.clone());
        s
    }

    fn insert(docs: &mut HashMap<DocId, Slot>, id: DocId, slot: Slot) {
        if docs.len() >= CACHE_DOCS && !docs.contains_key(&id) {
            // Documents are cheap to reload from their snapshots; a simple reset keeps
            // memory bounded without bookkeeping. Whoever holds a dropped slot still finishes
            // with it, and a writer installs its document again (see `keep`).
            docs.clear();
        }
        docs.insert(id, slot);
    }

    /// The slot of `id` if it is loaded.
    pub(crate) fn peek(&self, id: &DocId) -> Option<Slot> {
        lock(&self.docs).get(id).cloned()
    }

    /// Makes `doc` the loaded version of `id` unless a version is loaded already: for a
    /// claim holder giving back a document as the store holds it.
    pub(crate) fn fill(&self, id: DocId, doc: Automerge) {
        let slot = self.slot(id);
        let mut guard = lock_slot(&slot);
        if guard.is_none() {
            *guard = Some(doc);
        }
    }

    /// Makes `doc` the loaded version of `id`: for a writer, once the store holds it.
    pub(crate) fn install(&self, id: DocId, doc: Automerge) {
        let slot = self.slot(id);
        *lock_slot(&slot) = Some(doc);
    }

    /// Makes `slot` the loaded slot of `id` again, for a writer that changed its document in
    /// place and stored it: the cache may have been reset meanwhile, and a reader may have
    /// loaded an older version into a new slot.
    pub(crate) fn keep(&self, id: DocId, slot: &Slot) {
        let mut docs = lock(&self.docs);
        if !docs.get(&id).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            Self::insert(&mut docs, id, slot.clone());
        }
    }

    /// Forgets `id` (whose slot its caller has emptied or never filled).
    pub(crate) fn forget(&self, id: &DocId) {
        lock(&self.docs).remove(id);
    }

    /// Every loaded slot.
    pub(crate) fn loaded(&self) -> Vec<(DocId, Slot)> {
        lock(&self.docs)
            .iter()
            .map(|(id, s)| (*id, s.clone()))
            .collect()
    }
}
