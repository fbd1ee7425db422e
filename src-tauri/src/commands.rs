//! The commands the UI invokes. Each is a one-line call into `commonplace_node`; the node's
//! own tests cover what they do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use commonplace_base::{CommunityId, DocId, MemberId, PostId, Timestamp};
use commonplace_insight::{
    DAY, Expertise, GapOptions, Gaps, HealthReport, Introduction, Participation, Suggestion, Topic,
    render,
};
use commonplace_model::{
    Charter, Community, EntrySummary, EventSummary, LevelThresholds, Role, RosterMember,
    RsvpStatus, Thread, ThreadSummary,
};
use commonplace_node::{
    CommunityOverview, EntryFilter, EntryView, ErrorCode, EventView, Identity, ImportReport,
    Invite, NewCommunity, NewEntry, NewEvent, NewThread, Node, NodeError, Occurrence,
    PendingInvitation, Promotion, RelayMode, SyncNowReport, SyncStatus, ThreadFilter,
    read_key_backup, write_atomically,
};
use serde::Serialize;
use tauri::{AppHandle, State};
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::AppState;
pub use crate::files::FilePurpose;

type St<'a> = State<'a, Arc<AppState>>;
type Res<T> = Result<T, AppError>;

/// An error for the UI: a stable code to act on and a sentence for people.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// What happened and what to do, in plain words.
    pub message: String,
}

impl From<NodeError> for AppError {
    fn from(e: NodeError) -> Self {
        AppError::from_shared(&e)
    }
}

impl AppError {
    /// From an error the network owner keeps (and shares) as its state.
    pub(crate) fn from_shared(e: &NodeError) -> Self {
        AppError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// Runs a node call that touches the disk or waits on a document lock on a blocking thread,
/// so the async runtime's workers (which carry every other command and the network) never
/// wait behind it.
async fn off<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, NodeError> + Send + 'static,
) -> Res<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| AppError {
            code: ErrorCode::Internal,
            message: format!("the operation stopped unexpectedly: {e}"),
        })?
        .map_err(AppError::from)
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError {
        code: ErrorCode::InvalidInput,
        message: message.into(),
    }
}

/// What the app shows before anything else.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppInfo {
    /// The profile directory.
    pub profile_dir: String,
    /// The app's version.
    pub version: String,
    /// Who this profile is; `null` on first run.
    pub identity: Option<Identity>,
    /// A suggested file name for the key backup (the member chooses the folder).
    pub backup_file_name: String,
}

/// What a chosen key backup file holds, before the passphrase is asked.
#[derive(Debug, Clone, Serialize, TS)]
pub struct BackupInfo {
    /// Whose key it is.
    pub member: MemberId,
    /// Whether it is sealed under a passphrase; an old plaintext file is not, and a new
    /// backup should be made after restoring.
    pub sealed: bool,
}

/// Threads with what this profile has read of each.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ThreadList {
    /// The threads, newest activity first.
    pub threads: Vec<ThreadSummary>,
    /// Posts seen per thread (opening post included).
    pub read: BTreeMap<DocId, u32>,
}

/// The formats a health report is exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// Markdown, for a message or a wiki.
    Md,
    /// One CSV table per week, for a spreadsheet.
    Csv,
    /// A standalone page with the charts.
    Html,
    /// Every figure, for other tools.
    Json,
}

pub(crate) fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app_info,
        choose_file,
        create_identity,
        inspect_backup,
        restore_identity,
        backup_key,
        update_profile,
        communities,
        community,
        create_community,
        update_charter,
        join,
        threads,
        thread,
        mark_read,
        create_thread,
        reply,
        resolve,
        reopen,
        mark_helped,
        unmark_helped,
        entries,
        entry,
        create_entry,
        promote_thread,
        edit_entry_text,
        retitle_entry,
        members,
        create_invite,
        invitations,
        revoke_invite,
        set_role,
        remove_member,
        sync_status,
        sync_now,
        sync_with,
        recover,
        set_relay,
        export_community,
        import_bundle,
        events,
        calendar,
        event,
        create_event,
        update_event,
        cancel_event,
        rsvp,
        edit_event_notes,
        export_ics,
        participation,
        set_level_thresholds,
        experts,
        ask_someone_who_knows,
        introductions,
        knowledge_map,
        gaps,
        health_report,
        export_health,
    ]
}

// ---- identity ----------------------------------------------------------------------------

#[tauri::command]
async fn app_info(state: St<'_>) -> Res<AppInfo> {
    let identity = match state.node() {
        Ok(n) => Some(off(move || n.identity()).await?),
        Err(_) => None,
    };
    let short = identity
        .as_ref()
        .map(|i| i.member.short())
        .unwrap_or_default();
    Ok(AppInfo {
        profile_dir: state.profile.dir().display().to_string(),
        version: env!("CARGO_PKG_VERSION").into(),
        identity,
        backup_file_name: if short.is_empty() {
            "commonplace-key.txt".into()
        } else {
            format!("commonplace-key-{short}.txt")
        },
    })
}

/// Asks where to save a file (`save`) or which file to open, with the platform's dialog;
/// `null` when the member cancels. See `files` for the end-to-end tests' seam.
#[tauri::command]
async fn choose_file(
    window: tauri::WebviewWindow,
    purpose: FilePurpose,
    suggested_name: String,
    save: bool,
) -> Res<Option<String>> {
    Ok(crate::files::choose(&window, purpose, &suggested_name, save).await)
}

async fn opened(app: &AppHandle, state: &Arc<AppState>, node: Node) -> Res<Identity> {
    let identity = {
        let node = node.clone();
        off(move || node.identity()).await?
    };
    if let Ok(mut slot) = state.node.write() {
        *slot = Some(node.clone());
    }
    crate::start_node(app.clone(), state.clone(), node);
    Ok(identity)
}

#[tauri::command]
async fn create_identity(
    app: AppHandle,
    state: St<'_>,
    name: String,
    region: Option<String>,
    organisation: Option<String>,
) -> Res<Identity> {
    let profile = state.profile.clone();
    let node =
        off(move || Node::init(profile, &name, region.as_deref(), organisation.as_deref())).await?;
    opened(&app, state.inner(), node).await
}

#[tauri::command]
async fn inspect_backup(path: String) -> Res<BackupInfo> {
    let file = off(move || read_key_backup(Path::new(path.trim()))).await?;
    Ok(BackupInfo {
        member: file.member(),
        sealed: file.is_sealed(),
    })
}

#[tauri::command]
async fn restore_identity(
    app: AppHandle,
    state: St<'_>,
    path: String,
    passphrase: String,
    name: String,
    region: Option<String>,
    organisation: Option<String>,
) -> Res<Identity> {
    let profile = state.profile.clone();
    // Argon2id takes a while and 64 MiB: off the async workers.
    let node = tauri::async_runtime::spawn_blocking(move || {
        let passphrase = Zeroizing::new(passphrase);
        let file = read_key_backup(Path::new(path.trim()))?;
        Node::restore(
            profile,
            &file,
            &passphrase,
            &name,
            region.as_deref(),
            organisation.as_deref(),
        )
    })
    .await
    .map_err(|e| invalid(e.to_string()))??;
    opened(&app, state.inner(), node).await
}

/// Writes the key backup, sealed under `passphrase`, to `path`; returns the identity with
/// the new `backed_up_at`.
#[tauri::command]
async fn backup_key(state: St<'_>, path: String, passphrase: String) -> Res<Identity> {
    let node = state.node()?;
    let path = PathBuf::from(path.trim());
    let identity = tauri::async_runtime::spawn_blocking(move || {
        let passphrase = Zeroizing::new(passphrase);
        node.backup_key(&path, &passphrase)?;
        node.identity()
    })
    .await
    .map_err(|e| invalid(e.to_string()))??;
    Ok(identity)
}

#[tauri::command]
async fn update_profile(
    state: St<'_>,
    name: String,
    region: Option<String>,
    organisation: Option<String>,
) -> Res<Identity> {
    let node = state.node()?;
    off(move || node.update_profile(&name, region.as_deref(), organisation.as_deref())).await
}

// ---- communities -------------------------------------------------------------------------

#[tauri::command]
async fn communities(state: St<'_>) -> Res<Vec<CommunityOverview>> {
    let node = state.node()?;
    off(move || node.communities()).await
}

#[tauri::command]
async fn community(state: St<'_>, id: CommunityId) -> Res<Community> {
    let node = state.node()?;
    off(move || node.community(&id)).await
}

#[tauri::command]
async fn create_community(state: St<'_>, charter: NewCommunity) -> Res<CommunityId> {
    let node = state.node()?;
    off(move || node.create_community(&charter)).await
}

#[tauri::command]
async fn update_charter(state: St<'_>, id: CommunityId, charter: Charter) -> Res<()> {
    let node = state.node()?;
    off(move || node.update_charter(&id, &charter)).await
}

#[tauri::command]
async fn join(state: St<'_>, code: String, via: Option<String>) -> Res<CommunityId> {
    let via = via
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| v.parse::<commonplace_node::PeerTicket>())
        .transpose()
        .map_err(|e| invalid(format!("that is not a member's address: {e}")))?;
    let online = state.online().await?;
    Ok(online.join_via(&code, via.as_slice()).await?.0)
}

// ---- threads -----------------------------------------------------------------------------

#[tauri::command]
async fn threads(state: St<'_>, community: CommunityId, filter: ThreadFilter) -> Res<ThreadList> {
    let node = state.node()?;
    off(move || {
        Ok(ThreadList {
            threads: node.threads(&community, &filter)?,
            read: node.read_marks(&community)?,
        })
    })
    .await
}

#[tauri::command]
async fn thread(state: St<'_>, id: DocId) -> Res<Thread> {
    let node = state.node()?;
    off(move || node.thread(&id)).await
}

#[tauri::command]
async fn mark_read(state: St<'_>, thread: DocId, posts: u32) -> Res<()> {
    let node = state.node()?;
    off(move || node.mark_read(&thread, posts)).await
}

#[tauri::command]
async fn create_thread(state: St<'_>, community: CommunityId, thread: NewThread) -> Res<DocId> {
    let node = state.node()?;
    off(move || node.create_thread(&community, &thread)).await
}

#[tauri::command]
async fn reply(
    state: St<'_>,
    thread: DocId,
    body: String,
    reply_to: Option<PostId>,
) -> Res<PostId> {
    let node = state.node()?;
    off(move || node.reply(&thread, &body, reply_to.as_ref())).await
}

#[tauri::command]
async fn resolve(state: St<'_>, thread: DocId, answer: Option<PostId>) -> Res<()> {
    let node = state.node()?;
    off(move || node.resolve(&thread, answer.as_ref())).await
}

#[tauri::command]
async fn reopen(state: St<'_>, thread: DocId) -> Res<()> {
    let node = state.node()?;
    off(move || node.reopen(&thread)).await
}

#[tauri::command]
async fn mark_helped(state: St<'_>, thread: DocId, post: PostId) -> Res<()> {
    let node = state.node()?;
    off(move || node.mark_helped(&thread, &post)).await
}

#[tauri::command]
async fn unmark_helped(state: St<'_>, thread: DocId, post: PostId) -> Res<()> {
    let node = state.node()?;
    off(move || node.unmark_helped(&thread, &post)).await
}

// ---- repertoire --------------------------------------------------------------------------

#[tauri::command]
async fn entries(
    state: St<'_>,
    community: CommunityId,
    filter: EntryFilter,
) -> Res<Vec<EntrySummary>> {
    let node = state.node()?;
    off(move || node.entries(&community, &filter)).await
}

#[tauri::command]
async fn entry(state: St<'_>, id: DocId) -> Res<EntryView> {
    let node = state.node()?;
    off(move || node.entry_view(&id)).await
}

#[tauri::command]
async fn create_entry(state: St<'_>, community: CommunityId, entry: NewEntry) -> Res<DocId> {
    let node = state.node()?;
    off(move || node.create_entry(&community, &entry)).await
}

#[tauri::command]
async fn promote_thread(state: St<'_>, community: CommunityId, entry: NewEntry) -> Res<Promotion> {
    let node = state.node()?;
    off(move || node.promote_thread(&community, &entry)).await
}

#[tauri::command]
async fn edit_entry_text(
    state: St<'_>,
    id: DocId,
    version: Vec<String>,
    text: String,
) -> Res<EntryView> {
    let node = state.node()?;
    off(move || node.edit_entry_text(&id, &version, &text)).await
}

#[tauri::command]
async fn retitle_entry(
    state: St<'_>,
    id: DocId,
    title: Option<String>,
    tags: Option<Vec<String>>,
) -> Res<()> {
    let node = state.node()?;
    off(move || node.retitle_entry(&id, title.as_deref(), tags.as_deref())).await
}

// ---- members -----------------------------------------------------------------------------

#[tauri::command]
async fn members(state: St<'_>, community: CommunityId) -> Res<Vec<RosterMember>> {
    let node = state.node()?;
    off(move || node.members(&community)).await
}

#[tauri::command]
async fn create_invite(
    state: St<'_>,
    community: CommunityId,
    role: Role,
    days: u32,
) -> Res<Invite> {
    let ms = i64::from(days.clamp(1, 365)) * 86_400_000;
    Ok(state.online().await?.invite(&community, role, ms).await?)
}

#[tauri::command]
async fn invitations(state: St<'_>, community: CommunityId) -> Res<Vec<PendingInvitation>> {
    let node = state.node()?;
    off(move || node.pending_invitations(Some(&community))).await
}

#[tauri::command]
async fn revoke_invite(state: St<'_>, short_code: String) -> Res<PendingInvitation> {
    // Revoking works offline too; online, the code's resolver stops as well.
    match state.online().await {
        Ok(online) => Ok(online.revoke_invite(&short_code).await?),
        Err(_) => {
            let node = state.node()?;
            off(move || node.revoke_invite(&short_code)).await
        }
    }
}

#[tauri::command]
async fn set_role(state: St<'_>, community: CommunityId, member: MemberId, role: Role) -> Res<()> {
    let node = state.node()?;
    off(move || node.set_role(&community, &member, role)).await
}

#[tauri::command]
async fn remove_member(state: St<'_>, community: CommunityId, member: MemberId) -> Res<()> {
    let node = state.node()?;
    off(move || node.remove_member(&community, &member)).await
}

// ---- sync and settings -------------------------------------------------------------------

#[tauri::command]
async fn sync_status(state: St<'_>) -> Res<SyncStatus> {
    let online = state.presence().and_then(|p| p.online());
    let node = state.node()?;
    let offline = online.is_none();
    let mut status = off(move || match online {
        Some(o) => o.sync_status(),
        None => node.sync_status(None),
    })
    .await?;
    if offline && let Some(relay) = state.options.lock().ok().and_then(|o| o.relay.clone()) {
        // Offline: the relays it will run with are the flag's, not the profile's.
        status.relay = relay;
    }
    Ok(status)
}

#[tauri::command]
async fn sync_now(state: St<'_>) -> Res<SyncNowReport> {
    let online = state.online().await?;
    Ok(online.sync_now().await?)
}

#[tauri::command]
async fn sync_with(state: St<'_>, address: String) -> Res<SyncStatus> {
    let online = state.online().await?;
    online.sync_address(&address).await?;
    off(move || online.sync_status()).await
}

/// Gets this member's communities back from another member's node (after a key restore).
#[tauri::command]
async fn recover(state: St<'_>, address: String) -> Res<Vec<String>> {
    let online = state.online_soon().await?;
    Ok(online.recover_address(&address).await?)
}

#[tauri::command]
async fn set_relay(app: AppHandle, state: St<'_>, relay: RelayMode) -> Res<SyncStatus> {
    let node = state.node()?;
    off(move || node.set_net_setting("relay", &relay.as_setting())).await?;
    // The choice made here wins over a --relay given at start.
    if let Ok(mut o) = state.options.lock() {
        o.relay = None;
    }
    if let Some(presence) = state.presence() {
        presence
            .reconfigure(state.plan())
            .await
            .map_err(|e| AppError::from_shared(&e))?;
    }
    let _ = tauri::Emitter::emit(&app, "sync:changed", ());
    sync_status(state).await
}

#[tauri::command]
async fn export_community(state: St<'_>, community: CommunityId, path: String) -> Res<String> {
    let path = PathBuf::from(path.trim());
    let node = state.node()?;
    let target = path.clone();
    off(move || node.export_to_file(&community, &target)).await?;
    Ok(path.display().to_string())
}

#[tauri::command]
async fn import_bundle(state: St<'_>, path: String) -> Res<ImportReport> {
    let path = PathBuf::from(path.trim());
    let node = state.node()?;
    // Verification of a big bundle takes a while: off the async workers.
    tauri::async_runtime::spawn_blocking(move || node.import_file(&path))
        .await
        .map_err(|e| invalid(e.to_string()))?
        .map_err(Into::into)
}

// ---- events ------------------------------------------------------------------------------

#[tauri::command]
async fn events(state: St<'_>, community: CommunityId) -> Res<Vec<EventSummary>> {
    let node = state.node()?;
    off(move || node.events(&community)).await
}

#[tauri::command]
async fn calendar(
    state: St<'_>,
    community: CommunityId,
    from: Timestamp,
    to: Timestamp,
) -> Res<Vec<Occurrence>> {
    let node = state.node()?;
    off(move || node.calendar(&community, from, to)).await
}

#[tauri::command]
async fn event(state: St<'_>, id: DocId) -> Res<EventView> {
    let node = state.node()?;
    off(move || node.event_view(&id)).await
}

#[tauri::command]
async fn create_event(state: St<'_>, community: CommunityId, event: NewEvent) -> Res<DocId> {
    let node = state.node()?;
    off(move || node.create_event(&community, &event)).await
}

#[tauri::command]
async fn update_event(state: St<'_>, id: DocId, event: NewEvent) -> Res<()> {
    let node = state.node()?;
    off(move || node.update_event(&id, &event)).await
}

#[tauri::command]
async fn cancel_event(state: St<'_>, id: DocId, cancelled: bool) -> Res<()> {
    let node = state.node()?;
    off(move || node.cancel_event(&id, cancelled)).await
}

#[tauri::command]
async fn rsvp(
    state: St<'_>,
    id: DocId,
    occurrence: Option<Timestamp>,
    status: RsvpStatus,
) -> Res<Timestamp> {
    let node = state.node()?;
    off(move || node.rsvp(&id, occurrence, status)).await
}

#[tauri::command]
async fn edit_event_notes(
    state: St<'_>,
    id: DocId,
    version: Vec<String>,
    text: String,
) -> Res<EventView> {
    let node = state.node()?;
    off(move || node.edit_event_notes_text(&id, &version, &text)).await
}

#[tauri::command]
async fn export_ics(state: St<'_>, community: CommunityId, path: String) -> Res<String> {
    let path = PathBuf::from(path.trim());
    let node = state.node()?;
    let target = path.clone();
    off(move || write_atomically(&target, node.export_ics(&community)?.as_bytes())).await?;
    Ok(path.display().to_string())
}

// ---- cultivating -------------------------------------------------------------------------

#[tauri::command]
async fn participation(state: St<'_>, community: CommunityId) -> Res<Participation> {
    let node = state.node()?;
    off(move || node.participation(&community, Timestamp::now())).await
}

#[tauri::command]
async fn set_level_thresholds(
    state: St<'_>,
    community: CommunityId,
    thresholds: LevelThresholds,
) -> Res<()> {
    let node = state.node()?;
    off(move || node.set_level_thresholds(&community, &thresholds)).await
}

#[tauri::command]
async fn experts(
    state: St<'_>,
    community: CommunityId,
    topic: Option<String>,
) -> Res<Vec<Expertise>> {
    let node = state.node()?;
    off(move || node.experts(&community, topic.as_deref())).await
}

#[tauri::command]
async fn ask_someone_who_knows(state: St<'_>, thread: DocId) -> Res<Vec<Suggestion>> {
    let node = state.node()?;
    off(move || node.ask_someone_who_knows(&thread, 5)).await
}

#[tauri::command]
async fn introductions(state: St<'_>, community: CommunityId) -> Res<Vec<Introduction>> {
    let node = state.node()?;
    off(move || node.introductions(&community, 10)).await
}

#[tauri::command]
async fn knowledge_map(state: St<'_>, community: CommunityId) -> Res<Vec<Topic>> {
    let node = state.node()?;
    off(move || node.knowledge_map(&community)).await
}

#[tauri::command]
async fn gaps(state: St<'_>, community: CommunityId, options: GapOptions) -> Res<Gaps> {
    let node = state.node()?;
    off(move || node.gaps(&community, &options, Timestamp::now())).await
}

/// The period `[now − days, now)`.
fn period(days: u32) -> (Timestamp, Timestamp) {
    let until = Timestamp::now();
    (
        Timestamp(until.0 - i64::from(days.clamp(1, 3660)) * DAY),
        until,
    )
}

#[tauri::command]
async fn health_report(state: St<'_>, community: CommunityId, days: u32) -> Res<HealthReport> {
    let (since, until) = period(days);
    let node = state.node()?;
    off(move || node.health_report(&community, since, until)).await
}

#[tauri::command]
async fn export_health(
    state: St<'_>,
    community: CommunityId,
    days: u32,
    format: ReportFormat,
    path: String,
) -> Res<String> {
    let (since, until) = period(days);
    let node = state.node()?;
    let report = off(move || node.health_report(&community, since, until)).await?;
    let text = match format {
        ReportFormat::Md => render::markdown(&report),
        ReportFormat::Csv => render::csv(&report),
        ReportFormat::Html => render::html(&report),
        ReportFormat::Json => render::json(&report),
    };
    let path = PathBuf::from(path.trim());
    let target = path.clone();
    off(move || write_atomically(&target, text.as_bytes())).await?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonplace_model::invite::InviteError;
    use commonplace_node::NetError;

    /// The UI decides on the code: each kind of failure it reacts to has its own, whatever
    /// the sentence says.
    #[test]
    fn the_ui_gets_a_code_for_each_kind_of_failure() {
        let code = |e: NodeError| {
            let app = AppError::from(e);
            let json = serde_json::to_value(&app).unwrap();
            assert_eq!(json["message"], app.message.as_str());
            json["code"].as_str().unwrap().to_owned()
        };
        assert_eq!(code(NodeError::StaleVersion), "stale_version");
        assert_eq!(
            code(NodeError::Net(NetError::InviteRefused(
                InviteError::Expired
            ))),
            "not_allowed"
        );
        assert_eq!(code(NodeError::Net(NetError::NoPeer)), "network");
        assert_eq!(code(NodeError::Internal("the edit vanished")), "internal");
    }
}
