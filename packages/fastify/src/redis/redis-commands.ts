/**
 * The Lua scripts as ioredis commands (`defineCommand`, which loads each by SHA and falls back to
 * EVAL; works on a Cluster too, routed by the first key). Each script is defined with its fixed key
 * count, so a command takes its keys first, then its arguments: ioredis routes and auto-pipelines a
 * custom command by its first argument, which must therefore be a key (with the key count first, every
 * script call looked like key "4" or "1" to a Cluster's auto-pipeline and landed on the wrong shard).
 */
import type { Cluster, Redis } from 'ioredis';
import ackLua from './scripts/ack.lua';
import aliasLua from './scripts/alias.lua';
import appendLua from './scripts/append.lua';
import convertLua from './scripts/convert.lua';
import eraseLua from './scripts/erase.lua';
import eraseUserLua from './scripts/erase-user.lua';
import forgetUserLua from './scripts/forget-user.lua';
import groupLua from './scripts/group.lua';
import leaseLua from './scripts/lease.lua';
import membersLua from './scripts/members.lua';
import readLua from './scripts/read.lua';
import sessionLua from './scripts/session.lua';
import setOnceLua from './scripts/set-once.lua';
import takeoverLua from './scripts/takeover.lua';
import touchLua from './scripts/touch.lua';
import userAppendLua from './scripts/user-append.lua';

type Arg = string | number;
/** Keys first (as many as the script's key count), then the script's ARGV. */
type Command<R> = (...keysThenArgs: Arg[]) => Promise<R>;

/** The client with the devicelink commands defined. */
export interface DeviceLinkCommands {
  dlTouch: Command<[string, ...(string | number)[]]>;
  dlSession: Command<[string, string, string, string, string, string] | null>;
  dlConvert: Command<[string, string?]>;
  dlAlias: Command<number>;
  dlErase: Command<number>;
  dlSetOnce: Command<string>;
  dlAppend: Command<number>;
  dlAck: Command<number>;
  dlEraseUser: Command<number>;
  dlForgetUser: Command<number>;
  dlUserAppend: Command<number>;
  dlGroup: Command<number>;
  dlLease: Command<number>;
  dlMembers: Command<string[]>;
  dlRead: Command<unknown>;
  dlTakeover: Command<[number, number]>;
}

/** A client (single node or Cluster) with the commands defined. */
export type CommandClient = (Redis | Cluster) & DeviceLinkCommands;

// Script and key count (the `KEYS:` line at the top of each script); every caller passes exactly these.
const scripts: Record<keyof DeviceLinkCommands, [lua: string, numberOfKeys: number]> = {
  dlTouch: [touchLua, 4],
  dlSession: [sessionLua, 1],
  dlConvert: [convertLua, 4],
  dlAlias: [aliasLua, 3],
  dlErase: [eraseLua, 6],
  dlSetOnce: [setOnceLua, 1],
  dlAppend: [appendLua, 1],
  dlAck: [ackLua, 2],
  dlEraseUser: [eraseUserLua, 2],
  dlForgetUser: [forgetUserLua, 2],
  dlUserAppend: [userAppendLua, 2],
  dlGroup: [groupLua, 1],
  dlLease: [leaseLua, 1],
  dlMembers: [membersLua, 2],
  dlRead: [readLua, 2],
  dlTakeover: [takeoverLua, 2],
};

/** Defines the commands on `redis` (idempotent: a second call redefines the same scripts). */
export function defineCommands(redis: Redis | Cluster): CommandClient {
  for (const [name, [lua, numberOfKeys]] of Object.entries(scripts)) {
    redis.defineCommand(name, { lua, numberOfKeys });
  }
  return redis as CommandClient;
}
