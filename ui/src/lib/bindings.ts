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
export type ErrorCode = "no_identity" | "already_initialised" | "profile_in_use" | "not_found" | "ambiguous" | "not_allowed" | "invalid_input" | "rejected" | "bad_bundle" | "storage" | "network";

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
 * A suggested file for the key backup.
 */
backup_path: string, };

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
profile: string, };

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
 * How to change an entry's text.
 */
export type TextEdit = { "op": "replace", "value": string } | { "op": "append", "value": string } | { "op": "insert", "value": { at: number, text: string, } } | { "op": "delete", "value": { at: number, len: number, } };

/**
 * A new invitation code.
 */
export type Invite = { 
/**
 * The code to send (`cpinvite1…`).
 */
code: string, 
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
 * A sync with them succeeded in the last two minutes.
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
changes: number, };

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
 * The relay mode.
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
event: DocId, };
