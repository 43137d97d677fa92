/**
 * The memory store's snapshot of its session state (embedded mode keeps live sessions through
 * a restart: apps/collector/README.md, Two deployment shapes): live sessions, the 10-minute event-id dedupe,
 * tombstones, last links, alias dedupe and the daily salts, each entry with its absolute expiry. Written
 * beside the queue journal on a timer and at `close()` (to a temporary file, then renamed over the old one,
 * so a crash mid-write leaves the previous snapshot), read back when the store is created. The queue itself
 * is in the journal; a crash loses at most the session changes since the last snapshot, never an event.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { DeviceSource } from '@devicelink/protocol';

/** A live session as the memory store keeps it. */
export interface StoredSession {
  sessionId: string;
  source: DeviceSource;
  visitorHash: string | null;
  firstSeen: number;
  lastSeen: number;
  pagesVisited: number;
}

/** `[key, value, expiresAt]` entries of one map. */
type Entries<V> = Array<[string, V, number]>;

/** The file's content (version 1). */
export interface SessionSnapshot {
  v: 1;
  sessions: Entries<StoredSession>;
  /** Event ids seen per device: `[eventId, time seen]`. */
  seen: Entries<Array<[string, number]>>;
  tombstones: Entries<true>;
  userTombstones: Entries<true>;
  lastLinked: Entries<string>;
  edges: Entries<string[]>;
  /** Daily salts, base64. */
  salts: Entries<string>;
}

/** The snapshot at `path`, or null when there is none or it cannot be read (state starts empty). */
export function readSessionSnapshot(path: string): SessionSnapshot | null {
  if (!existsSync(path)) return null;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<SessionSnapshot>;
    return parsed.v === 1 ? (parsed as SessionSnapshot) : null;
  } catch {
    // A snapshot is a convenience: the queue (the journal) holds every event, so a broken one is
    // skipped rather than stopping the start.
    return null;
  }
}

/** Writes `snapshot` to `path` atomically (a temporary file renamed over it). */
export function writeSessionSnapshot(path: string, snapshot: SessionSnapshot): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(snapshot));
  renameSync(tmp, path);
}
