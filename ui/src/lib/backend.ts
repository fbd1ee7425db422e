// The one interface between the UI and the Rust shell. Every call goes through `call`, every
// type comes from the generated bindings (src-tauri/src/bindings.rs); nothing is hand-copied.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type {
  AppError,
  AppInfo,
  BackupInfo,
  Charter,
  Community,
  CommunityId,
  CommunityOverview,
  DocId,
  EntryFilter,
  EntrySummary,
  EntryView,
  EventSummary,
  EventView,
  Expertise,
  FilePurpose,
  GapOptions,
  Gaps,
  HealthReport,
  Identity,
  ImportReport,
  Introduction,
  Invite,
  PendingInvitation,
  LevelThresholds,
  MemberId,
  NewCommunity,
  NewEntry,
  NewEvent,
  NewThread,
  NodeEvent,
  Occurrence,
  Participation,
  PostId,
  Promotion,
  RelayMode,
  ReportFormat,
  Role,
  RosterMember,
  RsvpStatus,
  Suggestion,
  SyncStatus,
  SyncNowReport,
  Thread,
  ThreadFilter,
  ThreadList,
  Timestamp,
  Topic,
} from './bindings';

export type * from './bindings';

/** A failed command: `code` is stable, `message` is for people. */
export class BackendError extends Error {
  readonly code: AppError['code'];
  constructor(e: AppError) {
    super(e.message);
    this.code = e.code;
  }
}

function isAppError(e: unknown): e is AppError {
  return typeof e === 'object' && e !== null && 'code' in e && 'message' in e;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw isAppError(e) ? new BackendError(e) : new BackendError({ code: 'storage', message: String(e) });
  }
}

/** Everything the UI can ask of the node. */
export const backend = {
  appInfo: () => call<AppInfo>('app_info'),
  createIdentity: (name: string, region: string | null, organisation: string | null) =>
    call<Identity>('create_identity', { name, region, organisation }),
  /** Where to save (`save`) or which file to open, in the platform's dialog; `null` when cancelled. */
  chooseFile: (purpose: FilePurpose, suggestedName: string, save: boolean) =>
    call<string | null>('choose_file', { purpose, suggestedName, save }),
  inspectBackup: (path: string) => call<BackupInfo>('inspect_backup', { path }),
  restoreIdentity: (path: string, passphrase: string, name: string, region: string | null, organisation: string | null) =>
    call<Identity>('restore_identity', { path, passphrase, name, region, organisation }),
  /** Seals the key under `passphrase` into `path`; the identity comes back with `backed_up_at`. */
  backupKey: (path: string, passphrase: string) => call<Identity>('backup_key', { path, passphrase }),
  updateProfile: (name: string, region: string | null, organisation: string | null) =>
    call<Identity>('update_profile', { name, region, organisation }),

  communities: () => call<CommunityOverview[]>('communities'),
  community: (id: CommunityId) => call<Community>('community', { id }),
  createCommunity: (charter: NewCommunity) => call<CommunityId>('create_community', { charter }),
  updateCharter: (id: CommunityId, charter: Charter) => call<null>('update_charter', { id, charter }),
  join: (code: string, via: string | null = null) => call<CommunityId>('join', { code, via }),

  threads: (community: CommunityId, filter: ThreadFilter) => call<ThreadList>('threads', { community, filter }),
  thread: (id: DocId) => call<Thread>('thread', { id }),
  markRead: (thread: DocId, posts: number) => call<null>('mark_read', { thread, posts }),
  createThread: (community: CommunityId, thread: NewThread) => call<DocId>('create_thread', { community, thread }),
  reply: (thread: DocId, body: string, replyTo: PostId | null) => call<PostId>('reply', { thread, body, replyTo }),
  resolve: (thread: DocId, answer: PostId | null) => call<null>('resolve', { thread, answer }),
  reopen: (thread: DocId) => call<null>('reopen', { thread }),
  markHelped: (thread: DocId, post: PostId) => call<null>('mark_helped', { thread, post }),
  unmarkHelped: (thread: DocId, post: PostId) => call<null>('unmark_helped', { thread, post }),

  entries: (community: CommunityId, filter: EntryFilter) => call<EntrySummary[]>('entries', { community, filter }),
  entry: (id: DocId) => call<EntryView>('entry', { id }),
  createEntry: (community: CommunityId, entry: NewEntry) => call<DocId>('create_entry', { community, entry }),
  /** Promotes `entry.from_thread`; a thread promoted before gives its entry, unchanged. */
  promoteThread: (community: CommunityId, entry: NewEntry) => call<Promotion>('promote_thread', { community, entry }),
  editEntryText: (id: DocId, version: string[], text: string) =>
    call<EntryView>('edit_entry_text', { id, version, text }),
  retitleEntry: (id: DocId, title: string | null, tags: string[] | null) =>
    call<null>('retitle_entry', { id, title, tags }),

  members: (community: CommunityId) => call<RosterMember[]>('members', { community }),
  createInvite: (community: CommunityId, role: Role, days: number) =>
    call<Invite>('create_invite', { community, role, days }),
  invitations: (community: CommunityId) => call<PendingInvitation[]>('invitations', { community }),
  revokeInvite: (shortCode: string) => call<PendingInvitation>('revoke_invite', { shortCode }),
  setRole: (community: CommunityId, member: MemberId, role: Role) => call<null>('set_role', { community, member, role }),
  removeMember: (community: CommunityId, member: MemberId) => call<null>('remove_member', { community, member }),

  syncStatus: () => call<SyncStatus>('sync_status'),
  syncNow: () => call<SyncNowReport>('sync_now'),
  syncWith: (address: string) => call<SyncStatus>('sync_with', { address }),
  recover: (address: string) => call<string[]>('recover', { address }),
  setRelay: (relay: RelayMode) => call<SyncStatus>('set_relay', { relay }),
  exportCommunity: (community: CommunityId, path: string) => call<string>('export_community', { community, path }),
  importBundle: (path: string) => call<ImportReport>('import_bundle', { path }),

  events: (community: CommunityId) => call<EventSummary[]>('events', { community }),
  calendar: (community: CommunityId, from: Timestamp, to: Timestamp) => call<Occurrence[]>('calendar', { community, from, to }),
  event: (id: DocId) => call<EventView>('event', { id }),
  createEvent: (community: CommunityId, event: NewEvent) => call<DocId>('create_event', { community, event }),
  updateEvent: (id: DocId, event: NewEvent) => call<null>('update_event', { id, event }),
  cancelEvent: (id: DocId, cancelled: boolean) => call<null>('cancel_event', { id, cancelled }),
  rsvp: (id: DocId, occurrence: Timestamp | null, status: RsvpStatus) => call<Timestamp>('rsvp', { id, occurrence, status }),
  editEventNotes: (id: DocId, version: string[], text: string) => call<EventView>('edit_event_notes', { id, version, text }),
  exportIcs: (community: CommunityId, path: string) => call<string>('export_ics', { community, path }),

  participation: (community: CommunityId) => call<Participation>('participation', { community }),
  setLevelThresholds: (community: CommunityId, thresholds: LevelThresholds) =>
    call<null>('set_level_thresholds', { community, thresholds }),
  experts: (community: CommunityId, topic: string | null) => call<Expertise[]>('experts', { community, topic }),
  askSomeoneWhoKnows: (thread: DocId) => call<Suggestion[]>('ask_someone_who_knows', { thread }),
  introductions: (community: CommunityId) => call<Introduction[]>('introductions', { community }),
  knowledgeMap: (community: CommunityId) => call<Topic[]>('knowledge_map', { community }),
  gaps: (community: CommunityId, options: GapOptions) => call<Gaps>('gaps', { community, options }),
  healthReport: (community: CommunityId, days: number) => call<HealthReport>('health_report', { community, days }),
  exportHealth: (community: CommunityId, days: number, format: ReportFormat, path: string) =>
    call<string>('export_health', { community, days, format, path }),
};

export type Backend = typeof backend;

/** Node events (`node:*`) and sync status changes (`sync:changed`). */
export type AppEventName =
  | 'node:community-changed'
  | 'node:thread-changed'
  | 'node:entry-changed'
  | 'node:event-changed'
  | 'node:changed'
  | 'node:resync'
  | 'sync:changed';

export function onEvent(name: AppEventName, handler: (payload: NodeEvent | null) => void): Promise<UnlistenFn> {
  return listen<NodeEvent | null>(name, (e) => handler(e.payload));
}
