// Generated from the Rust types by src-tauri/src/bindings.rs (ts-rs). Do not edit:
// run `UPDATE_BINDINGS=1 cargo test -p commonplace-app bindings` after changing them.

/**
 * A community. Derived from its founder's key and a nonce, see `Genesis` in the model.
 */
export type CommunityId = string;

/**
 * One Automerge document: a thread, a repertoire entry, or a community's charter and roster.
 */
export type DocId = string;

/**
 * One reply within a thread.
 */
export type PostId = string;

/**
 * A member: the ed25519 public key the member signs with.
 */
export type MemberId = string;

/**
 * Milliseconds since the Unix epoch, UTC.
 *
 * Pure crates never read the clock: callers pass a `Timestamp` in.
 */
export type Timestamp = number;

/**
 * What a thread is for: the activities of a community of practice.
 */
export type ActivityKind = "problem" | "request" | "development" | "story" | "discussion";

/**
 * The kinds of thing kept in the shared repertoire.
 */
export type EntryKind = "story" | "case" | "tool" | "method" | "lesson" | "document";

/**
 * What a member may do. Participation levels (core, active, peripheral) are computed from
 * activity and are not roles.
 */
export type Role = "coordinator" | "member" | "observer";

/**
 * What went wrong, for front ends to act on without reading message text.
 */
export type ErrorCode = "no_identity" | "already_initialised" | "profile_in_use" | "not_found" | "ambiguous" | "not_allowed" | "invalid_input" | "rejected" | "bad_bundle" | "storage" | "network" | "wrong_passphrase" | "already_promoted" | "stale_version" | "internal";

/**
 * An error for the UI: a stable code to act on and a sentence for people.
 */
export type AppError = { 
/**
 * What kind of failure.
 */
code: ErrorCode, 
/**
 * What happened and what to do, in plain words.
 */
message: string, };

/**
 * What the app shows before anything else.
 */
export type AppInfo = { 
/**
 * The profile directory.
 */
profile_dir: string, 
/**
 * The app's version.
 */
version: string, 
/**
 * Who this profile is; `null` on first run.
 */
identity: Identity | null, 
/**
 * A suggested file name for the key backup (the member chooses the folder).
 */
backup_file_name: string, };

/**
 * What a chosen key backup file holds, before the passphrase is asked.
 */
export type BackupInfo = { 
/**
 * Whose key it is.
 */
member: MemberId, 
/**
 * Whether it is sealed under a passphrase; an old plaintext file is not, and a new
 * backup should be made after restoring.
 */
sealed: boolean, };

/**
 * What a file is for: sets the dialog's title and its file-type filter.
 */
export type FilePurpose = "key_backup" | "key_restore" | "bundle_export" | "bundle_import" | "calendar" | "health_report";

/**
 * Who this profile is.
 */
export type Identity = { 
/**
 * The member id (public key).
 */
member: MemberId, 
/**
 * Display name.
 */
name: string, 
/**
 * Region, if given.
 */
region: string | null, 
/**
 * Organisation, if given.
 */
organisation: string | null, 
/**
 * The profile directory.
 */
profile: string, 
/**
 * When the key was last backed up (or restored from a sealed backup); `null` until
 * then, and front ends remind.
 */
backed_up_at: Timestamp | null, };

/**
 * The community's charter: its name and domain.
 */
export type Charter = { 
/**
 * The community's name.
 */
name: string, 
/**
 * The shared domain, in a sentence or two.
 */
domain: string, 
/**
 * Key issues the community works on.
 */
issues: Array<string>, 
/**
 * The values it holds.
 */
values: Array<string>, 
/**
 * Topics (tags) members use.
 */
topics: Array<string>, };

/**
 * One member in the roster.
 */
export type RosterMember = { 
/**
 * The member's key.
 */
id: MemberId, 
/**
 * The member's name.
 */
name: string, 
/**
 * What the member may do.
 */
role: Role, 
/**
 * Region, if given.
 */
region: string | null, 
/**
 * Organisation, if given.
 */
organisation: string | null, 
/**
 * When they were added (claimed by the coordinator who added them).
 */
added_at: Timestamp, 
/**
 * The coordinator who wrote the roster entry (from the signed change, not a field).
 */
added_by: MemberId | null, 
/**
 * Set once the member was removed.
 */
removed_at: Timestamp | null, };

/**
 * The roster: everyone who is or was a member.
 */
export type Roster = { 
/**
 * Members by key, removed ones included.
 */
members: { [key in MemberId]: RosterMember }, };

/**
 * The whole community document, read.
 */
export type Community = { 
/**
 * The community id.
 */
id: CommunityId, 
/**
 * Its charter.
 */
charter: Charter, 
/**
 * Its roster.
 */
roster: Roster, 
/**
 * When it was founded.
 */
created_at: Timestamp, };

/**
 * A community at a glance.
 */
export type CommunityOverview = { 
/**
 * Its id.
 */
id: CommunityId, 
/**
 * Its name.
 */
name: string, 
/**
 * Its domain statement.
 */
domain: string, 
/**
 * This profile's role, if a member.
 */
my_role: Role | null, 
/**
 * Active members.
 */
members: number, 
/**
 * Threads.
 */
threads: number, 
/**
 * Requests for information not yet resolved.
 */
open_requests: number, 
/**
 * Repertoire entries.
 */
entries: number, };

/**
 * A new community's charter.
 */
export type NewCommunity = { 
/**
 * Name.
 */
name: string, 
/**
 * Domain statement.
 */
domain: string, 
/**
 * Key issues.
 */
issues: Array<string>, 
/**
 * Values.
 */
values: Array<string>, 
/**
 * Topics.
 */
topics: Array<string>, };

/**
 * One post: the opening post or a reply.
 */
export type Post = { 
/**
 * The post id. The opening post's id equals the thread id.
 */
id: PostId, 
/**
 * Who wrote it (from the signed change).
 */
author: MemberId | null, 
/**
 * The text.
 */
body: string, 
/**
 * When it was written (as claimed by its author).
 */
created_at: Timestamp, 
/**
 * The post this one answers, if it is a reply to a reply.
 */
reply_to: PostId | null, 
/**
 * Members who said "this helped".
 */
helped_by: Array<MemberId>, };

/**
 * A whole thread, read.
 */
export type Thread = { 
/**
 * The thread id.
 */
id: DocId, 
/**
 * Its community.
 */
community: CommunityId, 
/**
 * Which activity it carries.
 */
activity: ActivityKind, 
/**
 * Its title.
 */
title: string, 
/**
 * Topics.
 */
tags: Array<string>, 
/**
 * The opening post.
 */
opening: Post, 
/**
 * Replies, oldest first.
 */
replies: Array<Post>, 
/**
 * Whether it is solved / answered.
 */
resolved: boolean, 
/**
 * The reply marked as the answer.
 */
answer: PostId | null, 
/**
 * Who marked it resolved.
 */
resolved_by: MemberId | null, 
/**
 * When.
 */
resolved_at: Timestamp | null, };

/**
 * What lists and reports need about a thread, kept in the read index.
 */
export type ThreadSummary = { 
/**
 * The thread id.
 */
id: DocId, 
/**
 * Its community.
 */
community: CommunityId, 
/**
 * Which activity it carries.
 */
activity: ActivityKind, 
/**
 * Its title.
 */
title: string, 
/**
 * Who opened it.
 */
author: MemberId | null, 
/**
 * Topics.
 */
tags: Array<string>, 
/**
 * When it was opened.
 */
created_at: Timestamp, 
/**
 * Newest post time.
 */
last_activity: Timestamp, 
/**
 * Number of replies.
 */
replies: number, 
/**
 * When someone other than the author first replied.
 */
first_reply_at: Timestamp | null, 
/**
 * Whether it is resolved.
 */
resolved: boolean, 
/**
 * The answer, if one was marked.
 */
answer: PostId | null, 
/**
 * When it was resolved.
 */
resolved_at: Timestamp | null, 
/**
 * Everyone who posted in it, author first.
 */
participants: Array<MemberId>, 
/**
 * "This helped" marks across all posts.
 */
helped: number, 
/**
 * A short start of the opening post.
 */
excerpt: string, };

/**
 * Open or resolved.
 */
export type ThreadState = "open" | "resolved";

/**
 * Which threads to list.
 */
export type ThreadFilter = { 
/**
 * Only this activity.
 */
activity: ActivityKind | null, 
/**
 * Only open or only resolved.
 */
state: ThreadState | null, 
/**
 * Only with this tag.
 */
tag: string | null, };

/**
 * Threads with what this profile has read of each.
 */
export type ThreadList = { 
/**
 * The threads, newest activity first.
 */
threads: Array<ThreadSummary>, 
/**
 * Posts seen per thread (opening post included).
 */
read: { [key in DocId]: number }, };

/**
 * A new thread.
 */
export type NewThread = { 
/**
 * Which activity.
 */
activity: ActivityKind, 
/**
 * Title.
 */
title: string, 
/**
 * Opening post.
 */
body: string, 
/**
 * Topics.
 */
tags: Array<string>, };

/**
 * Where an entry came from when it was promoted from a thread.
 */
export type Source = { 
/**
 * The thread.
 */
thread: DocId, 
/**
 * The thread's heads when it was promoted (hex change hashes).
 */
heads: Array<string>, 
/**
 * The posts the entry drew on.
 */
posts: Array<PostId>, 
/**
 * The authors of those posts.
 */
contributors: Array<MemberId>, };

/**
 * A whole entry, read.
 */
export type Entry = { 
/**
 * The entry id.
 */
id: DocId, 
/**
 * Its community.
 */
community: CommunityId, 
/**
 * What kind of knowledge it holds.
 */
kind: EntryKind, 
/**
 * Its title.
 */
title: string, 
/**
 * Its text.
 */
body: string, 
/**
 * Topics.
 */
tags: Array<string>, 
/**
 * Who created it.
 */
author: MemberId | null, 
/**
 * Everyone who changed it, from the signed history, in order of first change.
 */
editors: Array<MemberId>, 
/**
 * When it was created.
 */
created_at: Timestamp, 
/**
 * When it was last edited (as claimed by the editor).
 */
updated_at: Timestamp, 
/**
 * The thread it was promoted from.
 */
source: Source | null, };

/**
 * What lists and reports need about an entry, kept in the read index.
 */
export type EntrySummary = { 
/**
 * The entry id.
 */
id: DocId, 
/**
 * Its community.
 */
community: CommunityId, 
/**
 * What kind of knowledge it holds.
 */
kind: EntryKind, 
/**
 * Its title.
 */
title: string, 
/**
 * Who created it.
 */
author: MemberId | null, 
/**
 * Everyone who edited it.
 */
editors: Array<MemberId>, 
/**
 * Topics.
 */
tags: Array<string>, 
/**
 * When it was created.
 */
created_at: Timestamp, 
/**
 * When it was last edited.
 */
updated_at: Timestamp, 
/**
 * The thread it was promoted from.
 */
source_thread: DocId | null, 
/**
 * A short start of the body.
 */
excerpt: string, };

/**
 * An entry with the version it was read at, so an editor can send its edits against it.
 */
export type EntryView = { 
/**
 * The entry.
 */
entry: Entry, 
/**
 * The document's heads when it was read (opaque to front ends).
 */
version: Array<string>, };

/**
 * Which entries to list.
 */
export type EntryFilter = { 
/**
 * Only this kind.
 */
kind: EntryKind | null, 
/**
 * Only with this tag.
 */
tag: string | null, };

/**
 * A new repertoire entry.
 */
export type NewEntry = { 
/**
 * Kind.
 */
kind: EntryKind, 
/**
 * Title; defaults to the thread's title when promoting.
 */
title: string | null, 
/**
 * Body; defaults to the opening post and the answer when promoting.
 */
body: string | null, 
/**
 * Topics; defaults to the thread's tags when promoting.
 */
tags: Array<string>, 
/**
 * The thread to promote.
 */
from_thread: DocId | null, };

/**
 * What promoting a thread did.
 */
export type Promotion = { "outcome": "created", 
/**
 * The new entry.
 */
entry: DocId, } | { "outcome": "existing", 
/**
 * The entry promoted from it earlier.
 */
entry: DocId, };

/**
 * How to change an entry's text.
 */
export type TextEdit = { "op": "replace", "value": string } | { "op": "append", "value": string } | { "op": "insert", "value": { at: number, text: string, } } | { "op": "delete", "value": { at: number, len: number, } };

/**
 * A new invitation code.
 */
export type Invite = { 
/**
 * The long code (`cpinvite1…`): the whole signed invitation, shown as the QR code.
 */
code: string, 
/**
 * The short code to read out or type (`K7QM-3XPA-9FHD-2WNE`); the inviting node answers
 * it while it is online.
 */
short_code: string, 
/**
 * The code as an SVG QR code.
 */
qr_svg: string, 
/**
 * The role the holder gets.
 */
role: Role, 
/**
 * When it stops working.
 */
expires_at: Timestamp, };

/**
 * Where an invitation stands.
 */
export type InvitationState = "pending" | "used" | "revoked" | "expired";

/**
 * An invitation created on this node, for the coordinators' list.
 */
export type PendingInvitation = { 
/**
 * The short code, grouped (`K7QM-3XPA-9FHD-2WNE`).
 */
short_code: string, 
/**
 * The community.
 */
community: CommunityId, 
/**
 * Its name.
 */
community_name: string, 
/**
 * The role the holder gets.
 */
role: Role, 
/**
 * When it was created.
 */
created_at: Timestamp, 
/**
 * When it stops working.
 */
expires_at: Timestamp, 
/**
 * Where it stands.
 */
state: InvitationState, 
/**
 * Who joined with it, if anyone (as far as this node knows).
 */
used_by: MemberId | null, 
/**
 * Their name in the roster.
 */
used_by_name: string | null, 
/**
 * When they were added to the roster.
 */
used_at: Timestamp | null, 
/**
 * When it was revoked.
 */
revoked_at: Timestamp | null, };

/**
 * How the node reaches peers beyond the local network.
 */
export type RelayMode = { "mode": "default" } | { "mode": "custom", "url": string } | { "mode": "off" };

/**
 * What happened in one sync, for status displays.
 */
export type SyncRecord = { 
/**
 * The peer.
 */
peer: MemberId, 
/**
 * The community.
 */
community: CommunityId, 
/**
 * When it ended.
 */
at: Timestamp, 
/**
 * Whether it completed.
 */
ok: boolean, 
/**
 * Changes that arrived.
 */
changes_received: number, 
/**
 * Changes sent.
 */
changes_sent: number, 
/**
 * Why it failed, if it did.
 */
error: string | null, };

/**
 * One known peer.
 */
export type PeerStatus = { 
/**
 * The member.
 */
member: MemberId, 
/**
 * Their name as the rosters know it.
 */
name: string, 
/**
 * A connection to their node is open now (a sync, or the link live updates travel on).
 * A node that shuts down leaves at once, one that falls silent within seconds.
 */
connected: boolean, 
/**
 * The last successful sync.
 */
last_ok: Timestamp | null, 
/**
 * The last attempt, successful or not.
 */
last: SyncRecord | null, };

/**
 * Changes of one community that no member has received yet.
 */
export type Unshared = { 
/**
 * The community.
 */
community: CommunityId, 
/**
 * Its name.
 */
name: string, 
/**
 * How many changes.
 */
changes: number, 
/**
 * Active members other than this one: with none, there is nobody to share with yet.
 */
others: number, };

/**
 * Where the profile stands with its peers, for status displays.
 */
export type SyncStatus = { 
/**
 * Whether the node is on the network now.
 */
online: boolean, 
/**
 * This node's address for others to dial, if it has been online.
 */
address: string | null, 
/**
 * The relays the network runs with when online (a `--relay` flag at start wins over the
 * profile's setting), else the profile's setting.
 */
relay: RelayMode, 
/**
 * Known peers.
 */
peers: Array<PeerStatus>, 
/**
 * Local changes per community that have not reached any member yet.
 */
unshared: Array<Unshared>, };

/**
 * How syncing with one member went, over all the communities shared with them.
 */
export type PeerOutcome = { 
/**
 * The member.
 */
member: MemberId, 
/**
 * Their name.
 */
name: string, 
/**
 * Every community synced.
 */
ok: boolean, 
/**
 * Changes that arrived.
 */
received: number, 
/**
 * Changes sent.
 */
sent: number, 
/**
 * Why it failed, as a sentence, when it did.
 */
error: string | null, };

/**
 * What "Sync now" did: every member tried and how it went, then the status after it.
 */
export type SyncNowReport = { 
/**
 * One line per member tried (empty: no member's node is known yet).
 */
tried: Array<PeerOutcome>, 
/**
 * Communities got back (after a key restore) from the member's node, if any.
 */
recovered: Array<string>, 
/**
 * The status after the attempt.
 */
status: SyncStatus, };

/**
 * What an import brought.
 */
export type ImportReport = { 
/**
 * The community.
 */
community: CommunityId, 
/**
 * Its name.
 */
name: string, 
/**
 * Who exported the bundle.
 */
exporter: MemberId, 
/**
 * Changes that were new here.
 */
new_changes: number, 
/**
 * Changes already known.
 */
known_changes: number, 
/**
 * Documents that changed.
 */
documents_changed: number, };

/**
 * Something changed in the profile. Front ends refresh what they show from these.
 */
export type NodeEvent = { "type": "community_changed", 
/**
 * Which community.
 */
community: CommunityId, } | { "type": "thread_changed", 
/**
 * Its community.
 */
community: CommunityId, 
/**
 * The thread.
 */
thread: DocId, } | { "type": "entry_changed", 
/**
 * Its community.
 */
community: CommunityId, 
/**
 * The entry.
 */
entry: DocId, } | { "type": "event_changed", 
/**
 * Its community.
 */
community: CommunityId, 
/**
 * The event.
 */
event: DocId, } | { "type": "peers_changed" };

/**
 * What kind of gathering an event is: the community's rhythm.
 */
export type EventKind = "meeting" | "call" | "workshop" | "session";

/**
 * A member's answer to an event, or their record of having been there.
 */
export type RsvpStatus = "going" | "maybe" | "no" | "attended";

/**
 * What the organiser decides about an event.
 */
export type EventDetails = { 
/**
 * Meeting, call, workshop or session.
 */
kind: EventKind, 
/**
 * Its title.
 */
title: string, 
/**
 * When the (first) occurrence starts, in UTC.
 */
start: Timestamp, 
/**
 * The organiser's IANA time zone, e.g. `America/Toronto`.
 */
tz: string, 
/**
 * Length in minutes.
 */
duration_min: number, 
/**
 * A place or a link.
 */
place: string | null, 
/**
 * The agenda.
 */
agenda: string, 
/**
 * Recurrence as an RFC 5545 RRULE value (`FREQ=WEEKLY`), or none for a one-off event.
 */
recur: string | null, };

/**
 * One member's answer for one occurrence.
 */
export type Rsvp = { 
/**
 * The occurrence's start (the event's start for a one-off event).
 */
occurrence: Timestamp, 
/**
 * The member (the signer of the answer).
 */
member: MemberId, 
/**
 * Their answer.
 */
status: RsvpStatus, };

/**
 * A whole event, read.
 */
export type Event = { 
/**
 * The event id.
 */
id: DocId, 
/**
 * Its community.
 */
community: CommunityId, 
/**
 * Who organises it (from the signed change).
 */
organiser: MemberId | null, 
/**
 * What the organiser decided.
 */
details: EventDetails, 
/**
 * Whether the organiser cancelled it.
 */
cancelled: boolean, 
/**
 * The co-edited notes.
 */
notes: string, 
/**
 * Answers, by occurrence then member.
 */
rsvps: Array<Rsvp>, 
/**
 * When it was created.
 */
created_at: Timestamp, 
/**
 * When the organiser last changed it.
 */
updated_at: Timestamp, };

/**
 * What lists, calendars and reports need about an event, kept in the read index.
 */
export type EventSummary = { 
/**
 * The event id.
 */
id: DocId, 
/**
 * Its community.
 */
community: CommunityId, 
/**
 * Who organises it.
 */
organiser: MemberId | null, 
/**
 * What the organiser decided.
 */
details: EventDetails, 
/**
 * Whether it was cancelled.
 */
cancelled: boolean, 
/**
 * Answers, by occurrence then member.
 */
rsvps: Array<Rsvp>, 
/**
 * When it was created.
 */
created_at: Timestamp, 
/**
 * When the organiser last changed it.
 */
updated_at: Timestamp, 
/**
 * A short start of the notes.
 */
notes_excerpt: string, };

/**
 * An event with the version it was read at, so an editor can send its notes against it.
 */
export type EventView = { 
/**
 * The event.
 */
event: Event, 
/**
 * The document's heads when it was read (opaque to front ends).
 */
version: Array<string>, };

/**
 * A new event (or new details for one), as a front end fills it in.
 */
export type NewEvent = { 
/**
 * Meeting, call, workshop or session.
 */
kind: EventKind, 
/**
 * Title.
 */
title: string, 
/**
 * Wall-clock start in `tz`: `2026-12-03T15:00` (seconds optional).
 */
start_local: string, 
/**
 * IANA time zone of the organiser, e.g. `America/Toronto`.
 */
tz: string, 
/**
 * Length in minutes.
 */
duration_min: number, 
/**
 * Place or link.
 */
place: string | null, 
/**
 * Agenda.
 */
agenda: string, 
/**
 * `weekly`, `monthly`, an RRULE such as `FREQ=WEEKLY;BYDAY=TU`, or none.
 */
recur: string | null, };

/**
 * One occurrence of an event, for calendars.
 */
export type Occurrence = { 
/**
 * The event.
 */
event: DocId, 
/**
 * Its title.
 */
title: string, 
/**
 * Its kind.
 */
kind: EventKind, 
/**
 * Start (UTC).
 */
start: Timestamp, 
/**
 * End (UTC).
 */
end: Timestamp, 
/**
 * The organiser's zone.
 */
tz: string, 
/**
 * Start as wall-clock time in that zone, `2026-12-03T15:00`.
 */
start_local: string, 
/**
 * Place or link.
 */
place: string | null, 
/**
 * Members going.
 */
going: number, 
/**
 * Members who might come.
 */
maybe: number, 
/**
 * Members who attended.
 */
attended: number, 
/**
 * This member's own answer.
 */
mine: RsvpStatus | null, };

/**
 * Contributions within the last `window_days` that place a member at each level: at least
 * `core` → core, at least `active` → active, at least `peripheral` → peripheral, fewer →
 * inactive.
 */
export type LevelThresholds = { 
/**
 * How far back activity counts, in days.
 */
window_days: number, 
/**
 * Contributions needed for the core.
 */
core: number, 
/**
 * Contributions needed to be active.
 */
active: number, 
/**
 * Contributions needed to be peripheral (rather than inactive).
 */
peripheral: number, };

/**
 * A member as reports show them: id and roster name.
 */
export type MemberRef = { 
/**
 * The member id.
 */
id: MemberId, 
/**
 * The name the roster gives.
 */
name: string, };

/**
 * How involved a member is, from their recent activity.
 */
export type Level = "core" | "active" | "peripheral" | "inactive";

/**
 * How many members are at each level.
 */
export type LevelCounts = { 
/**
 * Core members.
 */
core: number, 
/**
 * Active members.
 */
active: number, 
/**
 * Peripheral members.
 */
peripheral: number, 
/**
 * Inactive members.
 */
inactive: number, };

/**
 * One member's level and what earned it.
 */
export type MemberLevel = { 
/**
 * The member.
 */
member: MemberRef, 
/**
 * Their role.
 */
role: Role, 
/**
 * Their level now.
 */
level: Level, 
/**
 * Their level one window earlier (`None` if they were not a member yet).
 */
previous: Level | null, 
/**
 * Contributions in the window.
 */
contributions: number, 
/**
 * Threads opened in the window.
 */
threads: number, 
/**
 * Replies in the window.
 */
replies: number, 
/**
 * Repertoire edits in the window (at most one per entry per day).
 */
repertoire_edits: number, 
/**
 * Event occurrences attended in the window.
 */
attended: number, 
/**
 * Their latest contribution ever (up to `at`).
 */
last_active: Timestamp | null, };

/**
 * A member who moved between levels.
 */
export type Movement = { 
/**
 * The member.
 */
member: MemberRef, 
/**
 * Their level at the start (`None`: they joined since).
 */
from: Level | null, 
/**
 * Their level at the end.
 */
to: Level, };

/**
 * Level counts at one moment.
 */
export type LevelSnapshot = { 
/**
 * The moment.
 */
at: Timestamp, 
/**
 * Counts of the members at that moment.
 */
counts: LevelCounts, };

/**
 * Everyone's level at a moment, how it changed, and the thresholds used.
 */
export type Participation = { 
/**
 * The moment levels are computed for.
 */
at: Timestamp, 
/**
 * The thresholds (set by coordinators, or the defaults).
 */
thresholds: LevelThresholds, 
/**
 * Counts per level.
 */
counts: LevelCounts, 
/**
 * Active roster members, core first, then by contributions and name.
 */
members: Array<MemberLevel>, 
/**
 * Members whose level differs from one window earlier, toward the core first.
 */
movement: Array<Movement>, 
/**
 * Counts at the end of each of the last six 30-day steps, oldest first, ending at `at`.
 */
history: Array<LevelSnapshot>, };

/**
 * One member's evidence of knowing one topic.
 */
export type Expertise = { 
/**
 * The topic (tag).
 */
topic: string, 
/**
 * The member.
 */
member: MemberRef, 
/**
 * The weighted sum (see [`weight`]).
 */
score: number, 
/**
 * Replies in others' threads on the topic.
 */
replies: number, 
/**
 * Replies marked as the answer.
 */
answers: number, 
/**
 * "This helped" marks from others on their replies.
 */
helped: number, 
/**
 * Entries on the topic they wrote.
 */
entries_written: number, 
/**
 * Entries on the topic they edited.
 */
entries_edited: number, };

/**
 * Someone who could answer an open request.
 */
export type Suggestion = { 
/**
 * The member.
 */
member: MemberRef, 
/**
 * Their expertise summed over the request's topics.
 */
score: number, 
/**
 * The request's topics they know, strongest first.
 */
topics: Array<string>, };

/**
 * Two members who work on the same topics from different regions or organisations and have
 * never taken part in the same thread.
 */
export type Introduction = { 
/**
 * One member.
 */
a: MemberRef, 
/**
 * The other.
 */
b: MemberRef, 
/**
 * Topics both have expertise in.
 */
topics: Array<string>, 
/**
 * Sum over those topics of the smaller of the two scores.
 */
score: number, 
/**
 * What differs: `"region"`, `"organisation"` or both.
 */
differ_in: Array<string>, };

/**
 * One topic of the knowledge map.
 */
export type Topic = { 
/**
 * The tag.
 */
topic: string, 
/**
 * Threads with the tag.
 */
threads: number, 
/**
 * Requests for information with the tag.
 */
requests: number, 
/**
 * Of those, not resolved.
 */
open_requests: number, 
/**
 * Replies in threads with the tag.
 */
replies: number, 
/**
 * Repertoire entries with the tag.
 */
entries: number, 
/**
 * Newest post or edit on the topic.
 */
last_activity: Timestamp | null, };

/**
 * What counts as a gap.
 */
export type GapOptions = { 
/**
 * A request with no reply from anyone but its author for more than this many days.
 */
unanswered_days: number, 
/**
 * An entry not edited for more than this many days.
 */
stale_days: number, };

/**
 * A request nobody has answered.
 */
export type UnansweredRequest = { 
/**
 * The thread.
 */
id: DocId, 
/**
 * Its title.
 */
title: string, 
/**
 * Who asked.
 */
author: MemberRef | null, 
/**
 * Topics.
 */
tags: Array<string>, 
/**
 * When it was asked.
 */
created_at: Timestamp, 
/**
 * Whole days since.
 */
age_days: number, };

/**
 * An entry nobody has touched for a long time.
 */
export type StaleEntry = { 
/**
 * The entry.
 */
id: DocId, 
/**
 * Its title.
 */
title: string, 
/**
 * Topics.
 */
tags: Array<string>, 
/**
 * Last edited.
 */
updated_at: Timestamp, 
/**
 * Whole days since.
 */
age_days: number, };

/**
 * A topic people ask about that the repertoire does not cover.
 */
export type UncoveredTopic = { 
/**
 * The tag.
 */
topic: string, 
/**
 * Requests with the tag.
 */
requests: number, 
/**
 * Of those, not resolved.
 */
open_requests: number, };

/**
 * Where the community's knowledge is thin.
 */
export type Gaps = { 
/**
 * When the gaps were computed.
 */
at: Timestamp, 
/**
 * The options used.
 */
options: GapOptions, 
/**
 * Topics with requests but no repertoire entry, most asked first.
 */
topics_without_repertoire: Array<UncoveredTopic>, 
/**
 * Requests for information asked before `at`.
 */
requests: number, 
/**
 * Of those, not resolved.
 */
open_requests: number, 
/**
 * Of the open ones, those nobody but the asker has replied to ([`unanswered_at`]),
 * however recent.
 */
unanswered: number, 
/**
 * Open requests with no reply for longer than `options.unanswered_days`, oldest first
 * (the unanswered ones old enough to be a gap; with 0 days, every unanswered one).
 */
unanswered_requests: Array<UnansweredRequest>, 
/**
 * Entries not edited for longer than `options.stale_days`, oldest first.
 */
stale_entries: Array<StaleEntry>, };

/**
 * Activity in one week (or, for totals, the whole period).
 */
export type WeekRow = { 
/**
 * Monday 00:00 UTC (the period start for totals).
 */
week_start: Timestamp, 
/**
 * Threads opened.
 */
threads: number, 
/**
 * Replies written.
 */
replies: number, 
/**
 * Threads plus replies.
 */
posts: number, 
/**
 * Members who contributed anything.
 */
active_members: number, 
/**
 * Members added to the roster.
 */
new_members: number, 
/**
 * Repertoire entries created.
 */
entries_created: number, 
/**
 * Event occurrences held.
 */
events_held: number, 
/**
 * Attendances recorded at them.
 */
attendance: number, };

/**
 * Members over the period.
 */
export type MembersHealth = { 
/**
 * Members in the roster at the end.
 */
total: number, 
/**
 * Members who contributed in the period.
 */
active: number, 
/**
 * Members added in the period.
 */
new: number, 
/**
 * Levels at the start.
 */
levels_at_start: LevelCounts, 
/**
 * Levels at the end.
 */
levels_at_end: LevelCounts, 
/**
 * Who moved between levels from start to end.
 */
movement: Array<Movement>, };

/**
 * Requests for information opened in the period.
 */
export type RequestsHealth = { 
/**
 * Requests opened.
 */
opened: number, 
/**
 * Of those, replied to by someone other than the asker (by the end).
 */
replied: number, 
/**
 * Of those, resolved (by the end).
 */
resolved: number, 
/**
 * `resolved / opened`, if any were opened.
 */
share_resolved: number | null, 
/**
 * Median hours from the request to the first reply by someone else, over those replied.
 */
median_hours_to_first_reply: number | null, 
/**
 * Requests (opened any time) unanswered at the end ([`crate::unanswered_at`]).
 */
unanswered_at_end: number, };

/**
 * The repertoire over the period.
 */
export type RepertoireHealth = { 
/**
 * Entries at the start.
 */
entries_at_start: number, 
/**
 * Entries at the end.
 */
entries_at_end: number, 
/**
 * Entries created in the period.
 */
created: number, 
/**
 * Of those, promoted from a thread.
 */
promoted_from_threads: number, 
/**
 * Edits in the period (at most one per member per entry per day).
 */
edits: number, 
/**
 * Replies in the period that link to an entry.
 */
replies_linking_entries: number, 
/**
 * Distinct entries those replies link to: the repertoire being reused.
 */
entries_reused: number, };

/**
 * One occurrence of an event in the period.
 */
export type HeldEvent = { 
/**
 * The event.
 */
id: DocId, 
/**
 * Its title.
 */
title: string, 
/**
 * When the occurrence started.
 */
start: Timestamp, 
/**
 * Members who recorded they attended.
 */
attended: number, 
/**
 * Members who said they were going.
 */
going: number, };

/**
 * Events over the period.
 */
export type EventsHealth = { 
/**
 * Occurrences held (started in the period, not cancelled).
 */
held: number, 
/**
 * Attendances recorded at them.
 */
attendance: number, 
/**
 * `attendance / held`, if any were held.
 */
mean_attendance: number | null, 
/**
 * The occurrences, oldest first.
 */
occurrences: Array<HeldEvent>, };

/**
 * The health report.
 */
export type HealthReport = { 
/**
 * The community.
 */
community: CommunityId, 
/**
 * Its name.
 */
name: string, 
/**
 * Period start (inclusive).
 */
since: Timestamp, 
/**
 * Period end (exclusive): the moment the report describes.
 */
until: Timestamp, 
/**
 * Thresholds the levels were computed with.
 */
thresholds: LevelThresholds, 
/**
 * Members.
 */
members: MembersHealth, 
/**
 * Activity per week, oldest first (weeks start on Monday, UTC; the first and last may
 * be partial).
 */
weeks: Array<WeekRow>, 
/**
 * Totals over the period.
 */
totals: WeekRow, 
/**
 * Requests.
 */
requests: RequestsHealth, 
/**
 * Repertoire.
 */
repertoire: RepertoireHealth, 
/**
 * Events.
 */
events: EventsHealth, 
/**
 * Topics of threads opened in the period, most used first (at most ten).
 */
top_topics: Array<[string, number]>, };

/**
 * The formats a health report is exported in.
 */
export type ReportFormat = "md" | "csv" | "html" | "json";
