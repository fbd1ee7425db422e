// What the command palette offers and how it narrows down as the member types.
export interface PaletteItem {
  id: string;
  label: string;
  /** A word shown on the right: "Thread", "Entry", "Go to". */
  group: string;
  hint?: string;
  run: () => void;
}

/** Items matching every word of the query (in label or hint), best matches first. */
export function filterPalette(items: PaletteItem[], query: string, limit = 30): PaletteItem[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return items.slice(0, limit);
  const scored: { item: PaletteItem; score: number }[] = [];
  for (const item of items) {
    const label = item.label.toLowerCase();
    const hay = `${label} ${(item.hint ?? '').toLowerCase()} ${item.group.toLowerCase()}`;
    if (!words.every((w) => hay.includes(w))) continue;
    let score = 0;
    if (label.startsWith(words[0])) score += 3;
    for (const w of words) {
      if (label.includes(w)) score += 2;
      if (new RegExp(`\\b${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).test(label)) score += 1;
    }
    scored.push({ item, score });
  }
  scored.sort((a, b) => b.score - a.score);
  return scored.slice(0, limit).map((s) => s.item);
}
