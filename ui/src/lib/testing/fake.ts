// An in-memory stand-in for the node, implementing the whole Backend type: for unit tests, and
// for looking at the screens in a plain browser (`?demo`). It keeps the rules the screens rely
// on (read marks, resolve with an answer, promotion, merged entry edits) and nothing more.
import type { AppEventName, Backend, NodeEvent } from '../backend';
import { BackendError } from '../backend';
import type {
  AppInfo,
  Community,
  CommunityId,
  DocId,
  Entry,
  EntryView,
  Identity,
  MemberId,
  PendingInvitation,
  Post,
  SyncStatus,
  Thread,
  ThreadSummary,
} from '../bindings';
import type { Api } from '../shell/api';
import type { Event, EventView, LevelThresholds } from '../bindings';
import * as insight from './fake-insight';
import { rebase } from '../repertoire/text';

type Handler = (p: NodeEvent | null) => void;

export interface FakeOptions {
  /** Milliseconds every call takes (0: resolves on the next microtask). */
  latency?: number;
  now?: () => number;
}

export class FakeNode {
  identity: Identity | null = null;
  communities = new Map<CommunityId, Community>();
  threads = new Map<DocId, Thread>();
  entries = new Map<DocId, Entry>();
  /** Entry versions: version id → text at that version. */
  versions = new Map<string, string>();
  entryVersion = new Map<DocId, string>();
  read = new Map<DocId, number>();
  events = new Map<DocId, Event>();
  eventVersion = new Map<DocId, string>();
  thresholds = new Map<CommunityId, LevelThresholds>();
  /** Invitations made here, newest first. */
  invitations: PendingInvitation[] = [];
  sync: SyncStatus = { online: true, address: 'cppeer1fakeaddress', relay: { mode: 'default' }, peers: [], unshared: [] };
  calls: { name: string; args: unknown[] }[] = [];
  handlers = new Map<AppEventName, Set<Handler>>();
  /** Key backups written, by path (`passphrase: null`: an old plaintext key file). */
  backups = new Map<string, { member: MemberId; passphrase: string | null }>();
  /** The next file dialogs are cancelled. */
  cancelChooser = false;
  /** Makes the named command fail once with this error. */
  failures = new Map<string, { code: 'not_allowed' | 'network' | 'invalid_input' | 'stale_version'; message: string }>();
  #seq = 0;
  latency: number;
  #now: () => number;

  constructor(o: FakeOptions = {}) {
    this.latency = o.latency ?? 0;
    this.#now = o.now ?? (() => Date.now());
  }

  id(prefix: string): string {
    this.#seq += 1;
    return `${prefix}${String(this.#seq).padStart(6, '0')}`;
  }

  emit(name: AppEventName, payload: NodeEvent | null = null): void {
    for (const h of this.handlers.get(name) ?? []) h(payload);
  }

  api(): Api {
    return {
      backend: this.backend(),
      on: async (name, handler) => {
        let set = this.handlers.get(name);
        if (!set) this.handlers.set(name, (set = new Set()));
        set.add(handler);
        return () => set!.delete(handler);
      },
    };
  }

  /** Seeds an identity and a community with this profile as coordinator. */
  seed(name = 'Amira Haddad'): CommunityId {
    this.identity = { member: 'MEMBER0000ME', name, region: 'North', organisation: 'St Mary', profile: '/tmp/profile', backed_up_at: null };
    const id = this.id('C');
    this.communities.set(id, {
      id,
      charter: { name: 'Wound care nurses', domain: 'Caring for chronic wounds at home and in hospital.', issues: ['Pressure ulcers'], values: ['Share openly'], topics: ['dressings'] },
      roster: {
        members: {
          [this.identity.member]: { id: this.identity.member, name, role: 'coordinator', region: 'North', organisation: 'St Mary', added_at: this.#now(), added_by: null, removed_at: null },
        },
      },
      created_at: this.#now(),
    });
    return id;
  }

  addMember(community: CommunityId, member: MemberId, name: string): void {
    const c = this.communities.get(community)!;
    c.roster.members[member] = { id: member, name, role: 'member', region: null, organisation: null, added_at: this.#now(), added_by: null, removed_at: null };
  }

  /** A post written elsewhere arrives, with its event. */
  remoteReply(thread: DocId, author: MemberId, body: string): void {
    const t = this.threads.get(thread)!;
    t.replies.push(this.#post(author, body));
    this.emit('node:thread-changed', { type: 'thread_changed', community: t.community, thread });
  }

  /** Another member's edit of an entry arrives: `edit` turns the current text into theirs. */
  remoteEdit(entry: DocId, edit: (text: string) => string, author: MemberId = 'MEMBER0000OTHER'): void {
    const e = this.entries.get(entry)!;
    this.#setEntryText(e, edit(e.body), author);
    this.emit('node:entry-changed', { type: 'entry_changed', community: e.community, entry });
  }

  #post(author: MemberId | null, body: string): Post {
    return { id: this.id('P'), author, body, created_at: this.#now(), reply_to: null, helped_by: [] };
  }

  /** The first entry promoted from `thread`, as the node finds it. */
  #promotedFrom(thread: DocId): DocId | null {
    const found = [...this.entries.values()].filter((e) => e.source?.thread === thread).sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
    return found[0]?.id ?? null;
  }

  #setEntryText(e: Entry, text: string, author: MemberId | null): void {
    e.body = text;
    e.updated_at = this.#now();
    if (author && !e.editors.includes(author)) e.editors.push(author);
    const v = this.id('V');
    this.versions.set(v, text);
    this.entryVersion.set(e.id, v);
  }

  #view(id: DocId): EntryView {
    const e = this.entries.get(id);
    if (!e) throw new BackendError({ code: 'not_found', message: `no entry matches '${id}'` });
    return { entry: structuredClone(e), version: [this.entryVersion.get(id)!] };
  }

  #eventView(id: DocId): EventView {
    const e = this.events.get(id);
    if (!e) throw new BackendError({ code: 'not_found', message: `no event matches '${id}'` });
    return { event: structuredClone(e), version: [this.eventVersion.get(id)!] };
  }

  #eventNotes(e: Event, text: string): void {
    e.notes = text;
    const v = this.id('V');
    this.versions.set(v, text);
    this.eventVersion.set(e.id, v);
  }

  /** The community's threads, entries and events, for the analytics. */
  of(community: CommunityId) {
    return {
      c: this.communities.get(community)!,
      threads: [...this.threads.values()].filter((t) => t.community === community),
      entries: [...this.entries.values()].filter((e) => e.community === community),
      events: [...this.events.values()].filter((e) => e.community === community),
      thresholds: this.thresholds.get(community) ?? insight.DEFAULT_THRESHOLDS,
    };
  }

  summary(t: Thread): ThreadSummary {
    const last = Math.max(t.opening.created_at, ...t.replies.map((r) => r.created_at));
    return {
      id: t.id,
      community: t.community,
      activity: t.activity,
      title: t.title,
      author: t.opening.author,
      tags: t.tags,
      created_at: t.opening.created_at,
      last_activity: last,
      replies: t.replies.length,
      first_reply_at: t.replies[0]?.created_at ?? null,
      resolved: t.resolved,
      answer: t.answer,
      resolved_at: t.resolved_at,
      participants: [],
      helped: [t.opening, ...t.replies].reduce((n, p) => n + p.helped_by.length, 0),
      excerpt: t.opening.body.slice(0, 140),
    };
  }

  backend(): Backend {
    const me = () => {
      if (!this.identity) throw new BackendError({ code: 'no_identity', message: 'no identity yet' });
      return this.identity.member;
    };
    const thread = (id: DocId) => {
      const t = this.threads.get(id);
      if (!t) throw new BackendError({ code: 'not_found', message: `no thread matches '${id}'` });
      return t;
    };
    const changed = (t: Thread) => this.emit('node:thread-changed', { type: 'thread_changed', community: t.community, thread: t.id });
    const impl: Backend = {
      appInfo: async (): Promise<AppInfo> => ({
        profile_dir: '/tmp/profile',
        version: '0.1.0',
        identity: this.identity,
        backup_file_name: this.identity ? 'commonplace-key-member00.txt' : 'commonplace-key.txt',
      }),
      chooseFile: async (_purpose, suggestedName) => (this.cancelChooser ? null : `/tmp/chosen/${suggestedName}`),
      inspectBackup: async (path) => {
        const b = this.backups.get(path);
        if (!b) throw new BackendError({ code: 'invalid_input', message: "this is not a Commonplace key backup (it should begin with 'commonplace-key-backup')" });
        return { member: 'MEMBER0000ME', sealed: b.passphrase !== null };
      },
      createIdentity: async (name, region, organisation) =>
        (this.identity = { member: 'MEMBER0000ME', name, region, organisation, profile: '/tmp/profile', backed_up_at: null }),
      restoreIdentity: async (path, passphrase, name, region, organisation) => {
        const b = this.backups.get(path);
        if (!b) throw new BackendError({ code: 'invalid_input', message: 'this is not a Commonplace key backup' });
        if (b.passphrase !== null && b.passphrase !== passphrase) {
          throw new BackendError({ code: 'wrong_passphrase', message: 'wrong passphrase or damaged backup: the key could not be opened' });
        }
        const at = b.passphrase === null ? null : this.#now();
        return (this.identity = { member: 'MEMBER0000ME', name, region, organisation, profile: '/tmp/profile', backed_up_at: at });
      },
      backupKey: async (path, passphrase) => {
        const id = me();
        if (passphrase.trim().length < 8) {
          throw new BackendError({ code: 'invalid_input', message: 'the passphrase must have at least 8 characters' });
        }
        this.backups.set(path, { member: id, passphrase });
        return (this.identity = { ...this.identity!, backed_up_at: this.#now() });
      },
      updateProfile: async (name, region, organisation) => {
        const id = me();
        this.identity = { ...this.identity!, name, region, organisation };
        for (const c of this.communities.values()) {
          const m = c.roster.members[id];
          if (m) Object.assign(m, { name, region, organisation });
        }
        return structuredClone(this.identity);
      },
      communities: async () =>
        [...this.communities.values()].map((c) => ({
          id: c.id,
          name: c.charter.name,
          domain: c.charter.domain,
          my_role: this.identity ? (c.roster.members[this.identity.member]?.role ?? null) : null,
          members: Object.values(c.roster.members).filter((m) => m && !m.removed_at).length,
          threads: [...this.threads.values()].filter((t) => t.community === c.id).length,
          open_requests: 0,
          entries: [...this.entries.values()].filter((e) => e.community === c.id).length,
        })),
      community: async (id) => {
        const c = this.communities.get(id);
        if (!c) throw new BackendError({ code: 'not_found', message: 'no community' });
        return structuredClone(c);
      },
      createCommunity: async (charter) => {
        const id = this.seed(this.identity?.name);
        const c = this.communities.get(id)!;
        c.charter = { ...charter };
        // As the node does: the founder's roster entry carries their profile.
        const founder = this.identity ? c.roster.members[this.identity.member] : undefined;
        if (founder) Object.assign(founder, { region: this.identity!.region, organisation: this.identity!.organisation });
        return id;
      },
      updateCharter: async (id, charter) => {
        this.communities.get(id)!.charter = charter;
        return null;
      },
      join: async () => {
        throw new BackendError({ code: 'network', message: 'the member who invited you is not reachable' });
      },
      threads: async (community, filter) => ({
        threads: [...this.threads.values()]
          .filter((t) => t.community === community)
          .filter((t) => !filter.activity || t.activity === filter.activity)
          .map((t) => this.summary(t)),
        read: Object.fromEntries(this.read),
      }),
      thread: async (id) => structuredClone(thread(id)),
      markRead: async (id, posts) => {
        this.read.set(id, posts);
        return null;
      },
      createThread: async (community, nt) => {
        const id = this.id('T');
        const t: Thread = { id, community, activity: nt.activity, title: nt.title, tags: nt.tags, opening: this.#post(me(), nt.body), replies: [], resolved: false, answer: null, resolved_by: null, resolved_at: null };
        this.threads.set(id, t);
        changed(t);
        return id;
      },
      reply: async (id, body, replyTo) => {
        const t = thread(id);
        const p = { ...this.#post(me(), body), reply_to: replyTo };
        t.replies.push(p);
        changed(t);
        return p.id;
      },
      resolve: async (id, answer) => {
        const t = thread(id);
        Object.assign(t, { resolved: true, answer, resolved_by: me(), resolved_at: this.#now() });
        changed(t);
        return null;
      },
      reopen: async (id) => {
        const t = thread(id);
        Object.assign(t, { resolved: false, answer: null, resolved_by: null, resolved_at: null });
        changed(t);
        return null;
      },
      markHelped: async (id, post) => {
        const t = thread(id);
        const p = [t.opening, ...t.replies].find((x) => x.id === post)!;
        if (p.author === me()) throw new BackendError({ code: 'not_allowed', message: 'this is your own post: others say whether it helped them' });
        if (!p.helped_by.includes(me())) p.helped_by.push(me());
        changed(t);
        return null;
      },
      unmarkHelped: async (id, post) => {
        const t = thread(id);
        const p = [t.opening, ...t.replies].find((x) => x.id === post)!;
        p.helped_by = p.helped_by.filter((m) => m !== me());
        changed(t);
        return null;
      },
      entries: async (community) =>
        [...this.entries.values()]
          .filter((e) => e.community === community)
          .map((e) => ({ id: e.id, community: e.community, kind: e.kind, title: e.title, author: e.author, editors: e.editors, tags: e.tags, created_at: e.created_at, updated_at: e.updated_at, source_thread: e.source?.thread ?? null, excerpt: e.body.slice(0, 140) })),
      entry: async (id) => this.#view(id),
      createEntry: async (community, ne) => {
        const earlier = ne.from_thread ? this.#promotedFrom(ne.from_thread) : null;
        if (earlier) throw new BackendError({ code: 'already_promoted', message: `this thread is already in the repertoire as entry ${earlier}` });
        const id = this.id('E');
        const from = ne.from_thread ? thread(ne.from_thread) : null;
        const e: Entry = {
          id,
          community,
          kind: ne.kind,
          title: ne.title ?? from?.title ?? 'Untitled',
          body: '',
          tags: ne.tags.length ? ne.tags : (from?.tags ?? []),
          author: me(),
          editors: [],
          created_at: this.#now(),
          updated_at: this.#now(),
          source: from ? { thread: from.id, heads: [], posts: [from.opening.id], contributors: [] } : null,
        };
        this.entries.set(id, e);
        this.#setEntryText(e, ne.body ?? (from ? from.opening.body : ''), null);
        this.emit('node:entry-changed', { type: 'entry_changed', community, entry: id });
        return id;
      },
      promoteThread: async (community, ne) => {
        const earlier = ne.from_thread ? this.#promotedFrom(ne.from_thread) : null;
        if (earlier) return { outcome: 'existing', entry: earlier };
        return { outcome: 'created', entry: await impl.createEntry(community, ne) };
      },
      editEntryText: async (id, version, text) => {
        const e = this.entries.get(id)!;
        const base = this.versions.get(version[0]);
        if (base === undefined) throw new BackendError({ code: 'stale_version', message: 'the entry changed since it was opened here' });
        // What the node does: the edit base → text, merged with whatever happened since base.
        this.#setEntryText(e, rebase(base, text, e.body), me());
        this.emit('node:entry-changed', { type: 'entry_changed', community: e.community, entry: id });
        return this.#view(id);
      },
      retitleEntry: async (id, title, tags) => {
        const e = this.entries.get(id)!;
        if (title) e.title = title;
        if (tags) e.tags = tags;
        return null;
      },
      members: async (community) => Object.values(this.communities.get(community)!.roster.members).filter((m) => !!m),
      createInvite: async (c, role, days) => {
        // Distinct, well-formed-looking short codes: K7QM-3XPA-9FHD-2WN0, …-2WN1, …
        const short_code = `K7QM-3XPA-9FHD-2W${String(this.invitations.length).padStart(2, '0').slice(-2)}`;
        const expires_at = this.#now() + days * 86_400_000;
        this.invitations.unshift({
          short_code,
          community: c,
          community_name: this.communities.get(c)?.charter.name ?? '',
          role,
          created_at: this.#now(),
          expires_at,
          state: 'pending',
          used_by: null,
          used_by_name: null,
          used_at: null,
          revoked_at: null,
        });
        return {
          code: 'cpinvite1examplecode',
          short_code,
          qr_svg: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>',
          role,
          expires_at,
        };
      },
      invitations: async (c) => structuredClone(this.invitations.filter((i) => i.community === c)),
      revokeInvite: async (shortCode) => {
        const i = this.invitations.find((x) => x.short_code === shortCode);
        if (!i) throw new BackendError({ code: 'not_found', message: `no invitation created on this node matches '${shortCode}'` });
        if (i.state === 'used') throw new BackendError({ code: 'not_allowed', message: 'this invitation was already used; remove the member instead' });
        i.state = 'revoked';
        i.revoked_at = this.#now();
        return structuredClone(i);
      },
      setRole: async (community, member, role) => {
        this.communities.get(community)!.roster.members[member]!.role = role;
        return null;
      },
      removeMember: async (community, member) => {
        this.communities.get(community)!.roster.members[member]!.removed_at = this.#now();
        return null;
      },
      syncStatus: async () => structuredClone(this.sync),
      syncNow: async () => ({
        tried: this.sync.peers.map((p) => ({ member: p.member, name: p.name, ok: p.connected, received: 0, sent: 0, error: p.connected ? null : 'their computer did not answer: Commonplace is not running there, or it cannot be reached from this network' })),
        recovered: [],
        status: structuredClone(this.sync),
      }),
      syncWith: async () => structuredClone(this.sync),
      recover: async () => {
        throw new BackendError({ code: 'not_allowed', message: 'the node answered, but holds no community you are a member of that is not here already' });
      },
      setRelay: async (relay) => ((this.sync.relay = relay), structuredClone(this.sync)),
      exportCommunity: async (_c, path) => path,
      importBundle: async () => {
        throw new BackendError({ code: 'bad_bundle', message: 'not a bundle' });
      },

      events: async (community) => this.of(community).events.map(insight.summaryOf),
      calendar: async (community, from, to) =>
        this.of(community)
          .events.flatMap((e) => insight.starts(e, from, to).map((s) => insight.occurrence(e, s, this.identity?.member ?? null)))
          .sort((a, b) => a.start - b.start),
      event: async (id) => this.#eventView(id),
      createEvent: async (community, ne) => {
        if (!ne.title.trim()) throw new BackendError({ code: 'invalid_input', message: 'the title is empty' });
        const id = this.id('V');
        const start = Date.parse(`${ne.start_local}Z`);
        if (Number.isNaN(start)) throw new BackendError({ code: 'invalid_input', message: `'${ne.start_local}' is not a local date and time like 2026-12-03T15:00` });
        const e: Event = {
          id,
          community,
          organiser: me(),
          details: { kind: ne.kind, title: ne.title.trim(), start, tz: ne.tz, duration_min: ne.duration_min, place: ne.place, agenda: ne.agenda, recur: ne.recur ? (ne.recur === 'weekly' ? 'FREQ=WEEKLY' : ne.recur === 'monthly' ? 'FREQ=MONTHLY' : ne.recur) : null },
          cancelled: false,
          notes: '',
          rsvps: [],
          created_at: this.#now(),
          updated_at: this.#now(),
        };
        this.events.set(id, e);
        this.#eventNotes(e, '');
        this.emit('node:event-changed', { type: 'event_changed', community, event: id });
        return id;
      },
      updateEvent: async (id, ne) => {
        const e = this.events.get(id)!;
        e.details = { ...e.details, kind: ne.kind, title: ne.title, start: Date.parse(`${ne.start_local}Z`), tz: ne.tz, duration_min: ne.duration_min, place: ne.place, agenda: ne.agenda };
        this.emit('node:event-changed', { type: 'event_changed', community: e.community, event: id });
        return null;
      },
      cancelEvent: async (id, cancelled) => {
        const e = this.events.get(id)!;
        e.cancelled = cancelled;
        this.emit('node:event-changed', { type: 'event_changed', community: e.community, event: id });
        return null;
      },
      rsvp: async (id, occurrence, status) => {
        const e = this.events.get(id)!;
        const at = occurrence ?? e.details.start;
        e.rsvps = e.rsvps.filter((r) => !(r.occurrence === at && r.member === me()));
        e.rsvps.push({ occurrence: at, member: me(), status });
        this.emit('node:event-changed', { type: 'event_changed', community: e.community, event: id });
        return at;
      },
      editEventNotes: async (id, version, text) => {
        const e = this.events.get(id)!;
        const base = this.versions.get(version[0]);
        if (base === undefined) throw new BackendError({ code: 'stale_version', message: 'the text changed since it was opened here' });
        this.#eventNotes(e, rebase(base, text, e.notes));
        this.emit('node:event-changed', { type: 'event_changed', community: e.community, event: id });
        return this.#eventView(id);
      },
      exportIcs: async (_c, path) => path,

      participation: async (community) => {
        const x = this.of(community);
        return insight.participation(x.c, x.threads, x.thresholds, this.#now());
      },
      setLevelThresholds: async (community, t) => {
        this.thresholds.set(community, t);
        this.emit('node:community-changed', { type: 'community_changed', community });
        return null;
      },
      experts: async (community, topic) => {
        const x = this.of(community);
        return insight.expertise(x.c, x.threads, x.entries).filter((e) => !topic || e.topic === topic);
      },
      askSomeoneWhoKnows: async (id) => {
        const t = thread(id);
        const x = this.of(t.community);
        const involved = new Set([t.opening.author, ...t.replies.map((r) => r.author)]);
        const by = new Map<string, { member: (typeof ex)[number]['member']; score: number; topics: string[] }>();
        const ex = insight.expertise(x.c, x.threads, x.entries).filter((e) => t.tags.includes(e.topic) && !involved.has(e.member.id));
        for (const e of ex) {
          const s = by.get(e.member.id) ?? { member: e.member, score: 0, topics: [] };
          s.score += e.score;
          s.topics.push(e.topic);
          by.set(e.member.id, s);
        }
        return [...by.values()].sort((a, b) => b.score - a.score).slice(0, 5);
      },
      introductions: async () => [],
      knowledgeMap: async (community) => {
        const x = this.of(community);
        return insight.knowledgeMap(x.c, x.threads, x.entries);
      },
      gaps: async (community, o) => {
        const x = this.of(community);
        return insight.gaps(x.c, x.threads, x.entries, o.unanswered_days, o.stale_days, this.#now());
      },
      healthReport: async (community, days) => {
        const x = this.of(community);
        const until = this.#now();
        return insight.healthReport(x.c, x.threads, x.entries, x.events, x.thresholds, until - days * 86_400_000, until);
      },
      exportHealth: async (_c, _d, _f, path) => path,
    };
    // Every call: recorded, optionally failing, and asynchronous like the real IPC.
    const wrapped = {} as Record<string, unknown>;
    for (const [name, f] of Object.entries(impl) as [string, (...a: unknown[]) => Promise<unknown>][]) {
      wrapped[name] = async (...args: unknown[]) => {
        this.calls.push({ name, args });
        if (this.latency) await new Promise((r) => setTimeout(r, this.latency));
        else await Promise.resolve();
        const fail = this.failures.get(name);
        if (fail) {
          this.failures.delete(name);
          throw new BackendError(fail);
        }
        return f(...args);
      };
    }
    return wrapped as unknown as Backend;
  }
}
