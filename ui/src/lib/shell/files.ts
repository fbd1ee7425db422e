// Suggested file names for the save dialog: the member chooses the folder and may rename.

/** A community name as a file name stem: "Crime Prevention Network" → "crime-prevention-network". */
export function fileStem(name: string | null | undefined): string {
  const stem = (name ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return stem || 'community';
}
