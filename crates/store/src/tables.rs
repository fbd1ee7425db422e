//! Table layout. Keys are byte strings so that range scans follow id order.

use redb::TableDefinition;

/// Profile-wide settings: format version, local actor, display name.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// community id → `CommunityRecord`.
pub const COMMUNITIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("communities");
/// doc id → `DocRecord`.
pub const DOCS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("docs");
/// doc id ‖ seq (u64 big-endian) → `SignedChange`.
pub const CHANGES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("changes");
/// doc id ‖ change hash → ed25519 signature (64 bytes), for the changes that carry one.
pub const SIGNATURES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("signatures");
/// doc id → Automerge `save()` bytes covering the first `DocRecord::snapshot_upto` changes.
pub const SNAPSHOTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("snapshots");
/// community id ‖ thread id → `ThreadSummary`.
pub const THREADS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("thread_index");
/// community id ‖ entry id → `EntrySummary`.
pub const ENTRIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("entry_index");
/// community id ‖ event id → `EventSummary`.
pub const EVENTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("event_index");
/// community id ‖ thread or entry id → `DocActivity` (per-post and per-edit records).
pub const ACTIVITY: TableDefinition<&[u8], &[u8]> = TableDefinition::new("activity_index");

/// The on-disk format this code writes.
pub const FORMAT: u32 = 1;

pub fn pair(a: &[u8; 16], b: &[u8; 16]) -> [u8; 32] {
    let mut k = [0u8; 32];
    k[..16].copy_from_slice(a);
    k[16..].copy_from_slice(b);
    k
}

pub fn signature_key(doc: &[u8; 16], hash: &[u8; 32]) -> [u8; 48] {
    let mut k = [0u8; 48];
    k[..16].copy_from_slice(doc);
    k[16..].copy_from_slice(hash);
    k
}

pub fn change_key(doc: &[u8; 16], seq: u64) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..16].copy_from_slice(doc);
    k[16..].copy_from_slice(&seq.to_be_bytes());
    k
}
