use commonplace_base::{CommunityId, DocId};
use serde::Serialize;

/// Something changed in the profile. Front ends refresh what they show from these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[non_exhaustive]
pub enum NodeEvent {
    /// The charter or roster changed (or a community was created or arrived).
    CommunityChanged {
        /// Which community.
        community: CommunityId,
    },
    /// A thread was opened or changed.
    ThreadChanged {
        /// Its community.
        community: CommunityId,
        /// The thread.
        thread: DocId,
    },
    /// A repertoire entry was created or changed.
    EntryChanged {
        /// Its community.
        community: CommunityId,
        /// The entry.
        entry: DocId,
    },
    /// An event was created or changed (details, answers or notes).
    EventChanged {
        /// Its community.
        community: CommunityId,
        /// The event.
        event: DocId,
    },
    /// A member's node connected or disconnected: who is connected now changed.
    PeersChanged,
}
