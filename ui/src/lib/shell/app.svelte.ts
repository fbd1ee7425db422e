// The app's state: who this is, which community is open, what the screens show, and where the
// member is. Everything is refreshed from node events, so other members' posts appear without
// a click; local writes reload what they touched at once (the node answers in milliseconds).
import type {
  AppInfo,
  Community,
  CommunityId,
  CommunityOverview,
  DocId,
  EntrySummary,
  EventSummary,
  Identity,
  MemberId,
  Role,
  SyncStatus,
  ThreadSummary,
} from '../backend';
import { api, listenAll, type Api, type Unsubscribe } from './api';
import { coalesce } from './coalesce';
import { notices } from './errors.svelte';
import { ALL_THREADS, filterThreads, tagsByUse, unreadCount, type ThreadQuery } from '../threads/filter';
import type { EntryKind } from '../backend';

export type Route =
  | { name: 'home' }
  | { name: 'threads'; compose?: boolean }
  | { name: 'thread'; id: DocId }
  | { name: 'repertoire' }
  | { name: 'entry'; id: DocId }
  | { name: 'events'; id?: DocId; compose?: boolean }
  | { name: 'members' }
  | { name: 'health' }
  | { name: 'sync' }
  | { name: 'settings' };

export type Phase = 'loading' | 'identity' | 'community' | 'ready' | 'failed';

export interface EntryQuery {
  kind: EntryKind | null;
  tag: string | null;
}

export class AppState {
  phase = $state<Phase>('loading');
  /** The identity was restored from a key backup in this session: the member's communities
   * are elsewhere, to be got back. */
  restored = $state(false);
  info = $state<AppInfo | null>(null);
  identity = $state<Identity | null>(null);
  communities = $state<CommunityOverview[]>([]);
  currentId = $state<CommunityId | null>(null);
  community = $state<Community | null>(null);
  threads = $state<ThreadSummary[]>([]);
  read = $state<{ [id in DocId]?: number }>({});
  threadQuery = $state<ThreadQuery>({ ...ALL_THREADS });
  entries = $state<EntrySummary[]>([]);
  entryQuery = $state<EntryQuery>({ kind: null, tag: null });
  events = $state<EventSummary[]>([]);
  /** Bumped whenever anything the analytics read changes, so open reports recompute. */
  activity = $state(0);
  sync = $state<SyncStatus | null>(null);
  route = $state<Route>({ name: 'home' });
  /** A long operation under way (joining, importing), in words. */
  busy = $state<string | null>(null);
  loadError = $state<string | null>(null);
  /** Whether the first load of the open community is done (to tell "empty" from "not yet"). */
  loaded = $state(false);

  visibleThreads = $derived(filterThreads(this.threads, this.threadQuery));
  threadTags = $derived(tagsByUse(this.threads));
  unreadThreads = $derived(this.threads.filter((t) => unreadCount(t, this.read) > 0).length);
  visibleEntries = $derived(
    this.entries
      .filter(
        (e) =>
          (this.entryQuery.kind === null || e.kind === this.entryQuery.kind) &&
          (this.entryQuery.tag === null || e.tags.includes(this.entryQuery.tag)),
      )
      .sort((a, b) => b.updated_at - a.updated_at),
  );
  entryTags = $derived(tagsByUse(this.entries));
  overview = $derived(this.communities.find((c) => c.id === this.currentId) ?? null);
  myRole = $derived<Role | null>(this.overview?.my_role ?? null);
  unsharedHere = $derived(this.sync?.unshared.find((u) => u.community === this.currentId)?.changes ?? 0);
  /** Nobody else has joined the current community yet: there is no one to share with. */
  aloneHere = $derived((this.sync?.unshared.find((u) => u.community === this.currentId)?.others ?? 1) === 0);
  connectedPeers = $derived(this.sync?.peers.filter((p) => p.connected) ?? []);

  #api: Api;
  #off: Unsubscribe | null = null;

  constructor(a: Api = api()) {
    this.#api = a;
  }

  get backend() {
    return this.#api.backend;
  }

  /** The backend and its events, for state that lives with one screen. */
  get api(): Api {
    return this.#api;
  }

  /** First load and event subscriptions. */
  async start(): Promise<void> {
    this.#off?.();
    this.#off = listenAll(
      ['node:community-changed', 'node:thread-changed', 'node:entry-changed', 'node:event-changed', 'node:resync', 'sync:changed'],
      (name, payload) => {
        const here = payload && 'community' in payload ? payload.community === this.currentId : true;
        if (here && name.startsWith('node:')) this.activity += 1;
        switch (name) {
          case 'node:community-changed':
            if (this.phase === 'community') {
              // A community arrived while none was here (got back after a key restore, or
              // from a member on the local network): open it.
              void this.refreshCommunities().then(() => {
                if (this.phase === 'community' && this.communities.length) void this.afterIdentity();
              });
              break;
            }
            void this.refreshCommunities();
            if (here) void this.refreshCommunity();
            break;
          case 'node:thread-changed':
            if (here) void this.refreshThreads();
            void this.refreshCommunities();
            break;
          case 'node:entry-changed':
            if (here) void this.refreshEntries();
            void this.refreshCommunities();
            break;
          case 'node:event-changed':
            if (here) void this.refreshEvents();
            break;
          case 'node:resync':
            void this.refreshAll();
            break;
          case 'sync:changed':
            void this.refreshSync();
            break;
        }
      },
      this.#api,
    );
    try {
      this.info = await this.backend.appInfo();
      this.identity = this.info.identity;
      if (!this.identity) {
        this.phase = 'identity';
        return;
      }
      await this.afterIdentity();
    } catch (e) {
      this.loadError = String((e as Error)?.message ?? e);
      this.phase = 'failed';
    }
  }

  stop(): void {
    this.#off?.();
    this.#off = null;
  }

  async afterIdentity(): Promise<void> {
    await this.refreshCommunities();
    void this.refreshSync();
    if (this.communities.length === 0) {
      this.phase = 'community';
      return;
    }
    const remembered = localStorage.getItem('commonplace.community');
    const pick = this.communities.find((c) => c.id === remembered) ?? this.communities[0];
    await this.open(pick.id);
    this.phase = 'ready';
  }

  async setIdentity(identity: Identity): Promise<void> {
    this.identity = identity;
    if (this.info) this.info = { ...this.info, identity };
    try {
      this.info = await this.backend.appInfo();
    } catch {
      /* the backup path suggestion can wait */
    }
    await this.afterIdentity();
  }

  /** Opens a community (after creating or joining it, or from the switcher). */
  async open(id: CommunityId, route: Route = { name: 'home' }): Promise<void> {
    if (this.currentId !== id) {
      this.community = null;
      this.threads = [];
      this.read = {};
      this.entries = [];
      this.events = [];
      this.loaded = false;
      this.threadQuery = { ...ALL_THREADS };
      this.entryQuery = { kind: null, tag: null };
    }
    this.currentId = id;
    try {
      localStorage.setItem('commonplace.community', id);
    } catch {
      /* private mode */
    }
    this.route = route;
    this.phase = 'ready';
    await this.refreshAll();
    this.loaded = true;
  }

  go(route: Route): void {
    this.route = route;
  }

  refreshAll = async (): Promise<void> => {
    await Promise.all([
      this.refreshCommunities(),
      this.refreshCommunity(),
      this.refreshThreads(),
      this.refreshEntries(),
      this.refreshEvents(),
      this.refreshSync(),
    ]);
  };

  refreshCommunities = coalesce(async () => {
    try {
      this.communities = await this.backend.communities();
    } catch (e) {
      notices.error(e);
    }
  });

  refreshCommunity = coalesce(async () => {
    const id = this.currentId;
    if (!id) return;
    try {
      const c = await this.backend.community(id);
      if (this.currentId === id) this.community = c;
    } catch (e) {
      notices.error(e);
    }
  });

  refreshThreads = coalesce(async () => {
    const id = this.currentId;
    if (!id) return;
    try {
      const list = await this.backend.threads(id, { activity: null, state: null, tag: null });
      if (this.currentId !== id) return;
      this.threads = list.threads;
      this.read = list.read;
    } catch (e) {
      notices.error(e);
    }
  });

  refreshEntries = coalesce(async () => {
    const id = this.currentId;
    if (!id) return;
    try {
      const list = await this.backend.entries(id, { kind: null, tag: null });
      if (this.currentId === id) this.entries = list;
    } catch (e) {
      notices.error(e);
    }
  });

  refreshEvents = coalesce(async () => {
    const id = this.currentId;
    if (!id) return;
    try {
      const list = await this.backend.events(id);
      if (this.currentId === id) this.events = list;
    } catch (e) {
      notices.error(e);
    }
  });

  refreshSync = coalesce(async () => {
    try {
      this.sync = await this.backend.syncStatus();
    } catch {
      /* shown as offline */
    }
  });

  /** Records that `posts` posts of a thread have been seen (locally first, then stored). */
  async markRead(thread: DocId, posts: number): Promise<void> {
    if ((this.read[thread] ?? 0) >= posts) return;
    this.read = { ...this.read, [thread]: posts };
    try {
      await this.backend.markRead(thread, posts);
    } catch {
      /* an unread marker is not worth an error message */
    }
  }

  /** A member's name as the roster knows it. */
  nameOf(id: MemberId | null | undefined): string {
    if (!id) return 'Unknown member';
    if (id === this.identity?.member) return this.identity.name;
    const m = this.community?.roster.members[id];
    if (m) return m.name;
    const p = this.sync?.peers.find((x) => x.member === id);
    return p?.name ?? `Member ${id.slice(0, 10)}`;
  }

  isMe(id: MemberId | null | undefined): boolean {
    return !!id && id === this.identity?.member;
  }

  get canContribute(): boolean {
    return this.myRole === 'coordinator' || this.myRole === 'member';
  }
}
