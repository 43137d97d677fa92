/**
 * What of a chunk (the records between two erasures of a pass, `batch-writer.ts`) is written: its
 * records by kind, less what an erasure already took. An erased user's page views and links still
 * queued are dropped, not written back (the user's id stays in `erased_users` for 30 days); so is every
 * record naming a device erased earlier (its `erase` record written before these entries, e.g. entries
 * reclaimed from a dead consumer after a restart): no page view, link or edge of it comes back.
 */
import type {
  BoundaryRecord,
  EdgeRecord,
  ForgetEdgesRecord,
  LinkRecord,
  PageviewRecord,
  QueueEntry,
  UnjoinRecord,
} from '@devicelink/protocol';

/** The records of a chunk to write, by kind, in queue order. */
export interface ChunkRecords {
  pageviews: PageviewRecord[];
  links: LinkRecord[];
  edges: EdgeRecord[];
  boundaries: BoundaryRecord[];
  unjoins: UnjoinRecord[];
  withdrawals: ForgetEdgesRecord[];
}

/** The users the chunk's page views and links name, to look up among the erased. */
export function usersNamed(entries: readonly QueueEntry[]): string[] {
  const userIds = new Set<string>();
  for (const { record } of entries) {
    if (record.kind === 'pageview' || record.kind === 'link') {
      if (record.userId) userIds.add(record.userId);
    }
  }
  return [...userIds];
}

/** The devices the chunk's records name, to look up among the erased. */
export function devicesNamed(entries: readonly QueueEntry[]): string[] {
  const deviceIds = new Set<string>();
  for (const { record } of entries) {
    if (record.kind === 'pageview' || record.kind === 'link') {
      if (record.deviceId) deviceIds.add(record.deviceId);
    } else if (record.kind === 'edge' || record.kind === 'boundary') {
      deviceIds.add(record.deviceId);
      deviceIds.add(record.otherId);
    } else if (record.kind === 'unjoin' || record.kind === 'forget-edges') {
      deviceIds.add(record.deviceId);
    }
  }
  return [...deviceIds];
}

/** The records of `entries` to write: none of an erased user, none naming an erased device. */
export function keptRecords(
  entries: readonly QueueEntry[],
  erasedUsers: ReadonlySet<string>,
  erasedDevices: ReadonlySet<string>,
): ChunkRecords {
  const kept: ChunkRecords = {
    pageviews: [],
    links: [],
    edges: [],
    boundaries: [],
    unjoins: [],
    withdrawals: [],
  };
  const gone = (id: string) => erasedDevices.has(id);
  for (const { record } of entries) {
    if (record.kind === 'pageview') {
      if (record.userId && erasedUsers.has(record.userId)) continue;
      if (record.deviceId && gone(record.deviceId)) continue;
      kept.pageviews.push(record);
    } else if (record.kind === 'link') {
      if (!(erasedUsers.has(record.userId) || gone(record.deviceId))) kept.links.push(record);
    } else if (record.kind === 'edge') {
      if (!(gone(record.deviceId) || gone(record.otherId))) kept.edges.push(record);
    } else if (record.kind === 'boundary') {
      if (!(gone(record.deviceId) || gone(record.otherId))) kept.boundaries.push(record);
    } else if (record.kind === 'unjoin') {
      if (!gone(record.deviceId)) kept.unjoins.push(record);
    } else if (record.kind === 'forget-edges') {
      // A withdrawal also travels through the partitions of the ids the device shared edges with, so
      // it may reach Postgres after the device's erasure: nothing of an erased device comes back.
      if (!gone(record.deviceId)) kept.withdrawals.push(record);
    }
  }
  return kept;
}

/**
 * The devices of the chunk's links to erased users that no link of the chunk ties to a user still
 * there, with the erased user, sorted by device id: each is erased too unless Postgres links it to
 * another user (`eraseOrphanedDevices`).
 */
export function orphanCandidates(
  entries: readonly QueueEntry[],
  erasedUsers: ReadonlySet<string>,
): Array<[deviceId: string, userId: string]> {
  const keptLinkDevices = new Set<string>();
  const orphans = new Map<string, string>();
  for (const { record } of entries) {
    if (record.kind !== 'link') continue;
    if (erasedUsers.has(record.userId)) {
      if (!orphans.has(record.deviceId)) orphans.set(record.deviceId, record.userId);
    } else keptLinkDevices.add(record.deviceId);
  }
  for (const d of keptLinkDevices) orphans.delete(d);
  return [...orphans].sort(([a], [b]) => (a < b ? -1 : 1));
}
