/**
 * Header merging for device responses: the answer depends on the device header and cookie, so shared
 * caches must neither serve it to another device nor drop what the app already set.
 */

/** `Vary` with `names` added (case-insensitive, no duplicates); `*` stays `*`. */
export function mergeVary(existing: unknown, names: readonly string[]): string {
  // The usual case (nothing set yet): no parsing.
  if (existing === undefined) return names.join(', ');
  const current = headerList(existing);
  if (current.includes('*')) return '*';
  const lower = new Set(current.map((v) => v.toLowerCase()));
  for (const n of names) {
    if (!lower.has(n.toLowerCase())) {
      current.push(n);
      lower.add(n.toLowerCase());
    }
  }
  return current.join(', ');
}

/**
 * `Cache-Control` that is at least `private`: kept when it already says `private` or `no-store`,
 * `public` replaced, other directives (e.g. `max-age`) kept.
 */
export function privateCacheControl(existing: unknown): string {
  if (existing === undefined) return 'private';
  const current = headerList(existing);
  if (current.length === 0) return 'private';
  const lower = current.map((v) => v.toLowerCase());
  if (lower.includes('private') || lower.includes('no-store')) return current.join(', ');
  return ['private', ...current.filter((_, i) => lower[i] !== 'public')].join(', ');
}

function headerList(value: unknown): string[] {
  const parts = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
  return parts
    .flatMap((p) => p.split(','))
    .map((p) => p.trim())
    .filter((p) => p !== '');
}
