/**
 * The Lua scripts as ioredis commands (`defineCommand`, which loads each by SHA and falls back to
 * EVAL; works on a Cluster too, routed by the first key). Each script is defined with its fixed key
 * count, so a command takes its keys first, then its arguments: ioredis routes and auto-pipelines a
 * custom command by its first argument, which must therefore be a key (with the key count first, every
 * script call looked like key "4" or "1" to a Cluster's auto-pipeline and landed on the wrong shard).
 */
import type { Cluster, Redis } from 'ioredis';
import ackLua from './scripts/ack.lua';
import appendLua from './scripts/append.lua';
import convertLua from './scripts/convert.lua';
import edgeLua from './scripts/edge.lua';
import eraseLua from './scripts/erase.lua';
import eraseUserLua from './scripts/erase-user.lua';
import forgetUserLua from './scripts/forget-user.lua';
import fpBeginLua from './scripts/fp-begin.lua';
import fpCapLua from './scripts/fp-cap.lua';
import fpClaimLua from './scripts/fp-claim.lua';
import fpDecideLua from './scripts/fp-decide.lua';
import fpDropLua from './scripts/fp-drop.lua';
import fpMarkLua from './scripts/fp-mark.lua';
import fpRefreshLua from './scripts/fp-refresh.lua';
import fpReleaseLua from './scripts/fp-release.lua';
import fpRevokeLua from './scripts/fp-revoke.lua';
import groupLua from './scripts/group.lua';
import leaseLua from './scripts/lease.lua';
import limitLua from './scripts/limit.lua';
import limitsLua from './scripts/limits.lua';
import membersLua from './scripts/members.lua';
import mintLua from './scripts/mint.lua';
import readLua from './scripts/read.lua';
import replaceLua from './scripts/replace.lua';
import sessionLua from './scripts/session.lua';
import setOnceLua from './scripts/set-once.lua';
import takeoverLua from './scripts/takeover.lua';
import touchLua from './scripts/touch.lua';
import userAppendLua from './scripts/user-append.lua';
import withdrawLua from './scripts/withdraw.lua';

type Arg = string | number;
/** Keys first (as many as the script's key count), then the script's ARGV. */
type Command<R> = (...keysThenArgs: Arg[]) => Promise<R>;

/** The client with the devicelink commands defined. */
export interface DeviceLinkCommands {
  dlTouch: Command<[string, ...(string | number)[]]>;
  dlLimit: Command<number[]>;
  dlSession: Command<[string, string, string, string, string, string] | null>;
  dlConvert: Command<[string, string?]>;
  dlEdge: Command<number>;
  dlReplace: Command<number>;
  dlMint: Command<number>;
  dlFpBegin: Command<[string, string?, string?, string?]>;
  dlFpDecide: Command<string[]>;
  dlFpClaim: Command<number>;
  dlFpMark: Command<number>;
  dlFpRevoke: Command<[string, number]>;
  dlFpRelease: Command<number>;
  dlFpDrop: Command<string[]>;
  dlFpRefresh: Command<number>;
  dlFpCap: Command<number>;
  dlWithdraw: Command<number>;
  dlErase: Command<number>;
  dlSetOnce: Command<string>;
  dlAppend: Command<number>;
  dlAck: Command<number>;
  dlEraseUser: Command<number>;
  dlForgetUser: Command<number>;
  dlUserAppend: Command<[string, number, number, number]>;
  dlGroup: Command<number>;
  dlLease: Command<number>;
  dlMembers: Command<string[]>;
  dlRead: Command<unknown>;
  dlTakeover: Command<[number, number]>;
}

/** A client (single node or Cluster) with the commands defined. */
export type CommandClient = (Redis | Cluster) & DeviceLinkCommands;

// The scripts that count rate limits in their own step start with the `dl_limits` function.
const limited = (lua: string): string => `${limitsLua}\n${lua}`;

// Script and key count (the `KEYS:` line at the top of each script); every caller passes exactly these.
const scripts: Record<keyof DeviceLinkCommands, [lua: string, numberOfKeys: number]> = {
  dlTouch: [limited(touchLua), 10],
  dlLimit: [limited(limitLua), 2],
  dlSession: [sessionLua, 1],
  dlConvert: [convertLua, 4],
  dlEdge: [edgeLua, 3],
  dlReplace: [replaceLua, 7],
  dlMint: [mintLua, 2],
  dlFpBegin: [fpBeginLua, 2],
  dlFpDecide: [fpDecideLua, 1],
  dlFpClaim: [fpClaimLua, 3],
  dlFpMark: [fpMarkLua, 2],
  dlFpRevoke: [fpRevokeLua, 1],
  dlFpRelease: [fpReleaseLua, 2],
  dlFpDrop: [fpDropLua, 1],
  dlFpRefresh: [fpRefreshLua, 1],
  dlFpCap: [fpCapLua, 1],
  dlWithdraw: [withdrawLua, 3],
  dlErase: [eraseLua, 7],
  dlSetOnce: [setOnceLua, 1],
  dlAppend: [appendLua, 1],
  dlAck: [ackLua, 2],
  dlEraseUser: [eraseUserLua, 2],
  dlForgetUser: [forgetUserLua, 2],
  dlUserAppend: [limited(userAppendLua), 4],
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
