//! Durable storage for a Commonplace profile, in one redb database.
//!
//! The store keeps, per document, the log of signed changes — the source of truth — and an
//! Automerge snapshot that is only a cache of that log. Beside them it keeps a materialised
//! read index (community records, thread, entry and event summaries, and per-post activity
//! records) so that lists and reports never load Automerge documents.
//!
//! Every write is a [`Commit`]: the new changes of any number of documents, their snapshots
//! and index rows, applied in one redb transaction with immediate durability. Either all of
//! it is on disk when [`Store::commit`] returns, or none of it is. Nothing in this crate
//! verifies changes: callers pass only changes that `commonplace_model::verify` accepted, or
//! their own signed ones.
//!
//! ```
//! use commonplace_store::Store;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(&dir.path().join("profile.redb")).unwrap();
//! assert!(store.communities().unwrap().is_empty());
//! // A second handle on the same file, while the first is open, is refused at once.
//! assert!(Store::open(&dir.path().join("profile.redb")).is_err());
//! ```

mod error;
mod store;
mod tables;

pub use error::{OpenError, StoreError};
pub use store::{
    Commit, CommunityRecord, DocRecord, DocWrite, IndexRow, LoadedDoc, SNAPSHOT_EVERY, Store,
};
