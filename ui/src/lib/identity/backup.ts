// The key backup's rules as the UI shows them: the passphrase checks (the same as the node's,
// so a mistake is explained before the save dialog opens) and when to remind.
import type { Identity } from '../bindings';

/** The node's minimum (commonplace_base::MIN_PASSPHRASE_CHARS). */
export const MIN_PASSPHRASE = 8;
export const MAX_PASSPHRASE = 1024;

/** How long "Remind me later" hides the banner on Home. Settings always shows the state. */
export const SNOOZE_MS = 7 * 24 * 3600 * 1000;

/** Why a new passphrase cannot be used, or `null` when it can. */
export function passphraseProblem(passphrase: string, confirm: string): string | null {
  if ([...passphrase.trim()].length < MIN_PASSPHRASE) {
    return `Choose a passphrase of at least ${MIN_PASSPHRASE} characters: anyone who gets a copy of the file can try short ones one after another.`;
  }
  if ([...passphrase].length > MAX_PASSPHRASE) return `The passphrase is longer than ${MAX_PASSPHRASE} characters.`;
  if (passphrase !== confirm) return 'The two passphrases are not the same.';
  return null;
}

/** Whether this identity still has no backup. */
export function needsBackup(identity: Identity | null): boolean {
  return !!identity && identity.backed_up_at === null;
}

/** Whether Home shows the reminder: no backup yet, and not snoozed in the last week. */
export function showReminder(identity: Identity | null, snoozedAt: number | null, now: number): boolean {
  if (!needsBackup(identity)) return false;
  return snoozedAt === null || now - snoozedAt >= SNOOZE_MS || snoozedAt > now;
}

const key = (member: string) => `commonplace.backup-snoozed.${member}`;

export function snoozedAt(member: string): number | null {
  try {
    const v = Number(localStorage.getItem(key(member)));
    return Number.isFinite(v) && v > 0 ? v : null;
  } catch {
    return null;
  }
}

export function snooze(member: string, now: number): void {
  try {
    localStorage.setItem(key(member), String(now));
  } catch {
    /* private mode: the banner comes back next start */
  }
}

/** "on 4 Dec 2026" style text for when the last backup was made. */
export function backedUpText(at: number): string {
  return new Date(at).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}
