/**
 * One store object out of a backend's session side and queue side, so a host app passes one object
 * and can never pair a store with another store's queue.
 */
import type { PartitionLeases, QueueConsumer, QueueRecord } from '@devicelink/protocol';
import type { DeviceAdmin } from './device-admin.js';
import type { DeviceStore } from './device-store.js';
import { kAppend, type TestAppendable } from './test-append.js';

/** A store with every side: request path, admin, queue consumer and partition leases. */
export type CompleteStore = DeviceStore & DeviceAdmin & QueueConsumer & PartitionLeases;

/** A queue side that can also append (test-only; kept under {@link kAppend}). */
export interface AppendingQueue extends QueueConsumer {
  append(partitionKey: string, records: QueueRecord[]): Promise<void>;
}

/** The methods of every side on one object (bound, so they can be passed around). */
export function composeStore(
  sessions: DeviceStore & DeviceAdmin,
  queue: AppendingQueue,
  leases: PartitionLeases,
  conversionLookbackDays: number,
): CompleteStore & TestAppendable {
  return {
    conversionLookbackDays,
    touch: (input) => sessions.touch(input),
    convert: (deviceId, userId) => sessions.convert(deviceId, userId),
    recordEdge: (edge) => sessions.recordEdge(edge),
    replaceDevice: (input) => sessions.replaceDevice(input),
    noteMinted: (deviceId, place) => sessions.noteMinted(deviceId, place),
    recordFingerprint: (input) => sessions.recordFingerprint(input),
    withdrawRecovery: (deviceId) => sessions.withdrawRecovery(deviceId),
    queueUserEvents: (userId, records, limits) => sessions.queueUserEvents(userId, records, limits),
    limit: (limits) => sessions.limit(limits),
    dailySalt: (day) => sessions.dailySalt(day),
    session: (deviceId) => sessions.session(deviceId),
    erase: (deviceId) => sessions.erase(deviceId),
    eraseUser: (userId) => sessions.eraseUser(userId),
    forgetUser: (deviceId, userId) => sessions.forgetUser(deviceId, userId),
    partitions: queue.partitions,
    read: (partition, consumer, count, options) => queue.read(partition, consumer, count, options),
    reclaim: (partition, consumer, minIdleMs, count) => queue.reclaim(partition, consumer, minIdleMs, count),
    ack: (partition, ids, options) => queue.ack(partition, ids, options),
    takeOver: (partition, consumer) => queue.takeOver(partition, consumer),
    depth: (partition) => queue.depth(partition),
    oldest: (partition) => queue.oldest(partition),
    removeConsumer: (partition, consumer) => queue.removeConsumer(partition, consumer),
    heartbeat: (member, ttlMs, info) => leases.heartbeat(member, ttlMs, info),
    members: () => leases.members(),
    leave: (member) => leases.leave(member),
    acquireLease: (partition, member, ttlMs) => leases.acquireLease(partition, member, ttlMs),
    renewLease: (partition, member, ttlMs) => leases.renewLease(partition, member, ttlMs),
    releaseLease: (partition, member) => leases.releaseLease(partition, member),
    leaseOwners: () => leases.leaseOwners(),
    [kAppend]: (partitionKey, records) => queue.append(partitionKey, records),
  };
}
