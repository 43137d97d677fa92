/**
 * {@link PartitionLeases} on Redis: one string key per partition lease, in the partition's slot (the
 * queue scripts check it in the same step as a read or an ack), and the membership in one zset and one
 * hash under the `{persisters}` tag. Expiry is on Redis' clock (`PX`, `TIME`), shared by every member.
 */
import type { LeaseMember, PartitionLeases } from '@devicelink/protocol';
import type { CommandClient } from './redis-commands.js';
import type { RedisKeys } from './redis-keys.js';

/** {@link PartitionLeases} on Redis. Built by `createRedisStore`. */
export class RedisLeases implements PartitionLeases {
  readonly partitions: number;
  readonly #redis: CommandClient;
  readonly #keys: RedisKeys;

  constructor(redis: CommandClient, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
    this.partitions = keys.partitions;
  }

  heartbeat(member: string, ttlMs: number, info: string): Promise<LeaseMember[]> {
    return this.#members('beat', member, ttlMs, info);
  }

  members(): Promise<LeaseMember[]> {
    return this.#members('list', '', 0, '');
  }

  async leave(member: string): Promise<void> {
    await this.#members('leave', member, 0, '');
  }

  async acquireLease(partition: number, member: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.dlLease(this.#keys.lease(partition), 'acquire', member, ttlMs)) === 1;
  }

  async renewLease(partition: number, member: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.dlLease(this.#keys.lease(partition), 'renew', member, ttlMs)) === 1;
  }

  async releaseLease(partition: number, member: string): Promise<boolean> {
    return (await this.#redis.dlLease(this.#keys.lease(partition), 'release', member, 0)) === 1;
  }

  leaseOwners(): Promise<(string | null)[]> {
    // One GET per partition (one slot each on a Cluster), issued together: auto-pipelined.
    return Promise.all(
      Array.from({ length: this.partitions }, (_, p) => this.#redis.get(this.#keys.lease(p))),
    );
  }

  async #members(op: string, member: string, ttlMs: number, info: string): Promise<LeaseMember[]> {
    const { members, info: infoKey } = this.#keys.members();
    const flat = await this.#redis.dlMembers(members, infoKey, op, member, ttlMs, info);
    const out: LeaseMember[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ member: flat[i]!, info: flat[i + 1]! });
    return out.sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
  }
}
