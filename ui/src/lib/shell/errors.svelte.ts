// Errors people can read, in one place: a failed command shows its message, never a code.
import { BackendError } from '../backend';

export function describeError(e: unknown): string {
  if (e instanceof BackendError) return sentence(e.message);
  if (e instanceof Error) return sentence(e.message);
  if (typeof e === 'object' && e !== null && 'message' in e) return sentence(String((e as { message: unknown }).message));
  return sentence(String(e));
}

function sentence(s: string): string {
  const t = s.trim();
  if (!t) return 'Something went wrong.';
  return t.charAt(0).toUpperCase() + t.slice(1);
}

export interface Notice {
  id: number;
  text: string;
  kind: 'error' | 'info';
}

class Notices {
  list = $state<Notice[]>([]);
  #next = 1;

  error(e: unknown): void {
    this.push(describeError(e), 'error');
  }

  info(text: string): void {
    this.push(text, 'info');
  }

  push(text: string, kind: Notice['kind']): void {
    const id = this.#next++;
    this.list = [...this.list.filter((n) => n.text !== text), { id, text, kind }];
    if (kind === 'info') setTimeout(() => this.dismiss(id), 4000);
  }

  dismiss(id: number): void {
    this.list = this.list.filter((n) => n.id !== id);
  }

  clear(): void {
    this.list = [];
  }
}

export const notices = new Notices();
