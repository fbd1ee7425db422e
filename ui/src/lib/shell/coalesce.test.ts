import { describe, expect, it } from 'vitest';
import { coalesce } from './coalesce';

describe('coalesce', () => {
  it('runs once for a burst of calls, plus once more for calls made meanwhile', async () => {
    let runs = 0;
    let release: () => void = () => {};
    const refresh = coalesce(async () => {
      runs++;
      await new Promise<void>((r) => (release = r));
    });
    const first = refresh();
    void refresh();
    void refresh();
    void refresh();
    expect(runs).toBe(1);
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(runs).toBe(2);
    release();
    await first;
    expect(runs).toBe(2);
  });
});
