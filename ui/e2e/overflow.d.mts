// Types of overflow.mjs, for the unit test that checks it (src/lib/ui/layout.test.ts).
export interface Overflowing {
  what: string;
  testid: string | null;
  scrollWidth: number;
  clientWidth: number;
  past: boolean;
  text: string;
}
export function findOverflow(): Overflowing[];
export const OVERFLOW_SCRIPT: string;
