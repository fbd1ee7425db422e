//! TypeScript declarations of every type the UI exchanges with the shell, generated from the
//! Rust types with ts-rs into `ui/src/lib/bindings.ts`. The test `bindings_are_current` fails
//! when the committed file drifts from the Rust types; `UPDATE_BINDINGS=1 cargo test -p
//! commonplace-app bindings` rewrites it.

use commonplace_base::{CommunityId, DocId, MemberId, PostId, Timestamp};
use commonplace_insight::{
    EventsHealth, Expertise, GapOptions, Gaps, HealthReport, HeldEvent, Introduction, Level,
    LevelCounts, LevelSnapshot, MemberLevel, MemberRef, MembersHealth, Movement, Participation,
    RepertoireHealth, RequestsHealth, StaleEntry, Suggestion, Topic, UnansweredRequest,
    UncoveredTopic, WeekRow,
};
use commonplace_model::{
    ActivityKind, Charter, Community, Entry, EntryKind, EntrySummary, Event, EventDetails,
    EventKind, EventSummary, LevelThresholds, Post, Role, Roster, RosterMember, Rsvp, RsvpStatus,
    Source, TextEdit, Thread, ThreadSummary,
};
use commonplace_node::{
    CommunityOverview, EntryFilter, EntryView, ErrorCode, EventView, Identity, ImportReport,
    InvitationState, Invite, NewCommunity, NewEntry, NewEvent, NewThread, NodeEvent, Occurrence,
    PeerOutcome, PeerStatus, PendingInvitation, Promotion, RelayMode, SyncNowReport, SyncRecord,
    SyncStatus, ThreadFilter, ThreadState, Unshared,
};
use ts_rs::{Config, TS};

use crate::commands::{AppError, AppInfo, BackupInfo, FilePurpose, ReportFormat, ThreadList};

/// Where the declarations live, relative to the workspace root.
pub const PATH: &str = "ui/src/lib/bindings.ts";

fn decl<T: TS + 'static>(cfg: &Config, out: &mut String) {
    if let Some(docs) = T::docs() {
        out.push_str(&docs);
    }
    out.push_str("export ");
    out.push_str(&T::decl(cfg));
    out.push_str("\n\n");
}

/// The whole generated file.
pub fn typescript() -> String {
    // Timestamps are milliseconds since 1970 and counts are small: plain numbers.
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs (ts-rs). Do not edit:\n\
         // run `UPDATE_BINDINGS=1 cargo test -p commonplace-app bindings` after changing them.\n\n",
    );
    macro_rules! all {
        ($($t:ty),* $(,)?) => { $( decl::<$t>(&cfg, &mut out); )* };
    }
    all!(
        CommunityId,
        DocId,
        PostId,
        MemberId,
        Timestamp,
        ActivityKind,
        EntryKind,
        Role,
        ErrorCode,
        AppError,
        AppInfo,
        BackupInfo,
        FilePurpose,
        Identity,
        Charter,
        RosterMember,
        Roster,
        Community,
        CommunityOverview,
        NewCommunity,
        Post,
        Thread,
        ThreadSummary,
        ThreadState,
        ThreadFilter,
        ThreadList,
        NewThread,
        Source,
        Entry,
        EntrySummary,
        EntryView,
        EntryFilter,
        NewEntry,
        Promotion,
        TextEdit,
        Invite,
        InvitationState,
        PendingInvitation,
        RelayMode,
        SyncRecord,
        PeerStatus,
        Unshared,
        SyncStatus,
        PeerOutcome,
        SyncNowReport,
        ImportReport,
        NodeEvent,
        EventKind,
        RsvpStatus,
        EventDetails,
        Rsvp,
        Event,
        EventSummary,
        EventView,
        NewEvent,
        Occurrence,
        LevelThresholds,
        MemberRef,
        Level,
        LevelCounts,
        MemberLevel,
        Movement,
        LevelSnapshot,
        Participation,
        Expertise,
        Suggestion,
        Introduction,
        Topic,
        GapOptions,
        UnansweredRequest,
        StaleEntry,
        UncoveredTopic,
        Gaps,
        WeekRow,
        MembersHealth,
        RequestsHealth,
        RepertoireHealth,
        HeldEvent,
        EventsHealth,
        HealthReport,
        ReportFormat,
    );
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn bindings_are_current() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let path = root.join(super::PATH);
        let fresh = super::typescript();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &fresh).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{} is out of date with the Rust types: run `UPDATE_BINDINGS=1 cargo test -p commonplace-app bindings` and commit it",
            super::PATH
        );
    }
}
