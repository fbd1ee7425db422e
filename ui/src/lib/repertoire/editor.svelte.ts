// The state of one open repertoire entry while a member edits it.
//
// Typing updates `text` at once. After a pause (400 ms) the text is sent with the version the
// editor last saw; only one save is in flight at a time and the newest text waits for it. The
// node merges every save with whatever other members wrote meanwhile, so the answer may hold
// their text too: it replaces ours, and anything typed during the save is replayed on top.
// When someone else's edit arrives while nothing is pending here, the entry is reloaded; the
// component keeps the caret where it was through `onReplace`.
import type { DocId, Entry, EntryView } from '../backend';
import { api, listenAll, type Api, type Unsubscribe } from '../shell/api';
import { describeError } from '../shell/errors.svelte';
import { rebase } from './text';

export type SaveState = 'saved' | 'pending' | 'saving' | 'error';

export class EntryEditor {
  entry = $state<Entry | null>(null);
  text = $state('');
  saveState = $state<SaveState>('saved');
  error = $state<string | null>(null);
  loadError = $state<string | null>(null);

  /** Called just before the text is replaced by a merged or remote version. */
  onReplace: ((before: string, after: string) => void) | null = null;

  readonly id: DocId;
  #api: Api;
  #delay: number;
  #version: string[] = [];
  /** The text the version above corresponds to. */
  #stored = '';
  #timer: ReturnType<typeof setTimeout> | null = null;
  #inFlight = false;
  #retried = false;
  #off: Unsubscribe | null = null;

  constructor(id: DocId, options: { delay?: number; api?: Api } = {}) {
    this.id = id;
    this.#api = options.api ?? api();
    this.#delay = options.delay ?? 400;
  }

  /** Whether local text has not been stored yet. */
  get pending(): boolean {
    return this.#inFlight || this.#timer !== null || this.text !== this.#stored;
  }

  async load(): Promise<void> {
    try {
      this.#accept(await this.#api.backend.entry(this.id), true);
      this.loadError = null;
    } catch (e) {
      this.loadError = describeError(e);
    }
  }

  /** Starts following other members' edits of this entry. */
  listen(): Unsubscribe {
    this.#off?.();
    this.#off = listenAll(['node:entry-changed', 'node:resync'], (name, p) => {
      if (name === 'node:resync' || (p?.type === 'entry_changed' && p.entry === this.id)) void this.remoteChanged();
    }, this.#api);
    return () => this.close();
  }

  close(): void {
    this.#off?.();
    this.#off = null;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
      void this.#send();
    }
  }

  /** The member typed: `text` is the whole new text. */
  input(text: string): void {
    this.text = text;
    this.error = null;
    this.#retried = false;
    this.saveState = this.#inFlight ? 'saving' : 'pending';
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#send();
    }, this.#delay);
  }

  /** Saves now instead of after the pause (leaving the editor, Ctrl+S). */
  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    await this.#send();
  }

  /** Another member's edit arrived (or may have). */
  async remoteChanged(): Promise<void> {
    if (this.pending) return; // the pending save brings their text back, merged
    try {
      const view = await this.#api.backend.entry(this.id);
      if (this.pending) return;
      this.#accept(view, true);
    } catch (e) {
      this.loadError = describeError(e);
    }
  }

  async #send(): Promise<void> {
    if (this.#inFlight) return; // the newest text goes when this save is done
    const sent = this.text;
    if (sent === this.#stored) {
      if (this.saveState !== 'error') this.saveState = 'saved';
      return;
    }
    this.#inFlight = true;
    this.saveState = 'saving';
    try {
      const view = await this.#api.backend.editEntryText(this.id, this.#version, sent);
      this.#inFlight = false;
      const typed = this.text;
      this.#version = view.version;
      this.#stored = view.entry.body;
      this.entry = view.entry;
      const next = typed === sent ? view.entry.body : rebase(sent, typed, view.entry.body);
      if (next !== typed) this.#replace(next);
      this.error = null;
      this.#retried = false;
    } catch (e) {
      this.#inFlight = false;
      this.error = describeError(e);
      this.saveState = 'error';
      // The node refuses a save against a version it cannot place: take the current entry and
      // replay what was typed on top of it, then try once more.
      try {
        const view = await this.#api.backend.entry(this.id);
        const typed = this.text;
        const base = this.#stored;
        this.#version = view.version;
        this.#stored = view.entry.body;
        this.entry = view.entry;
        const next = rebase(base, typed, view.entry.body);
        if (next !== typed) this.#replace(next);
      } catch {
        return;
      }
      if (this.#retried) return;
      this.#retried = true;
      if (this.text !== this.#stored && !this.#timer) {
        this.#timer = setTimeout(() => {
          this.#timer = null;
          void this.#send();
        }, this.#delay);
      }
      return;
    }
    if (this.text !== this.#stored) {
      if (!this.#timer) await this.#send();
      else this.saveState = 'pending';
    } else {
      this.saveState = this.#timer ? 'pending' : 'saved';
    }
  }

  #accept(view: EntryView, replaceText: boolean): void {
    this.entry = view.entry;
    this.#version = view.version;
    this.#stored = view.entry.body;
    if (replaceText && view.entry.body !== this.text) this.#replace(view.entry.body);
    this.saveState = 'saved';
  }

  #replace(next: string): void {
    this.onReplace?.(this.text, next);
    this.text = next;
  }
}
