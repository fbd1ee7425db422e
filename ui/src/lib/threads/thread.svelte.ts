// One open thread: loaded when opened, reloaded when a change to it arrives from anyone.
import type { DocId, Post, PostId, Thread } from '../backend';
import { api, listenAll, type Api, type Unsubscribe } from '../shell/api';
import { coalesce } from '../shell/coalesce';
import { describeError } from '../shell/errors.svelte';

export class OpenThread {
  thread = $state<Thread | null>(null);
  error = $state<string | null>(null);
  readonly id: DocId;
  #api: Api;
  #off: Unsubscribe | null = null;

  /** The answer, if the thread was resolved with one. */
  answer = $derived<Post | null>(
    this.thread?.answer ? (this.thread.replies.find((p) => p.id === this.thread!.answer) ?? null) : null,
  );
  postCount = $derived(this.thread ? this.thread.replies.length + 1 : 0);

  constructor(id: DocId, a: Api = api()) {
    this.id = id;
    this.#api = a;
  }

  load = coalesce(async () => {
    try {
      this.thread = await this.#api.backend.thread(this.id);
      this.error = null;
    } catch (e) {
      this.error = describeError(e);
    }
  });

  listen(): Unsubscribe {
    this.#off?.();
    this.#off = listenAll(['node:thread-changed', 'node:resync'], (name, p) => {
      if (name === 'node:resync' || (p?.type === 'thread_changed' && p.thread === this.id)) void this.load();
    }, this.#api);
    return () => {
      this.#off?.();
      this.#off = null;
    };
  }

  async reply(body: string, replyTo: PostId | null = null): Promise<void> {
    await this.#api.backend.reply(this.id, body, replyTo);
    await this.load();
  }

  async resolve(answer: PostId | null): Promise<void> {
    await this.#api.backend.resolve(this.id, answer);
    await this.load();
  }

  async reopen(): Promise<void> {
    await this.#api.backend.reopen(this.id);
    await this.load();
  }

  async helped(post: PostId): Promise<void> {
    await this.#api.backend.markHelped(this.id, post);
    await this.load();
  }

  /** Withdraws this member's own "this helped" mark. */
  async unhelped(post: PostId): Promise<void> {
    await this.#api.backend.unmarkHelped(this.id, post);
    await this.load();
  }
}
