/**
 * The Lua scripts as ioredis commands (`defineCommand`, which loads each by SHA and falls back to
 * EVAL; works on a Cluster too, routed by the first key). Every command takes its key count first.
 */
import type { Cluster, Redis } from 'ioredis';
import ackLua from '../scripts/ack.lua';
import aliasLua from '../scripts/alias.lua';
import appendLua from '../scripts/append.lua';
import convertLua from '../scripts/convert.lua';
import eraseLua from '../scripts/erase.lua';
import eraseUserLua from '../scripts/erase-user.lua';
import forgetUserLua from '../scripts/forget-user.lua';
import getLua from '../scripts/get.lua';
import setOnceLua from '../scripts/set-once.lua';
import touchLua from '../scripts/touch.lua';
import userAppendLua from '../scripts/user-append.lua';

type Arg = string | number;
type Command<R> = (numKeys: number, ...args: Arg[]) => Promise<R>;

/** The client with the devicelink commands defined. */
export interface DeviceLinkCommands {
  dlTouch: Command<[string, ...(string | number)[]]>;
  dlGet: Command<[string, string, string, string, string, string] | null>;
  dlConvert: Command<[string, string?]>;
  dlAlias: Command<number>;
  dlErase: Command<number>;
  dlSetOnce: Command<string>;
  dlAppend: Command<number>;
  dlAck: Command<number>;
  dlEraseUser: Command<number>;
  dlForgetUser: Command<number>;
  dlUserAppend: Command<number>;
}

/** A client (single node or Cluster) with the commands defined. */
export type CommandClient = (Redis | Cluster) & DeviceLinkCommands;

const scripts: Record<keyof DeviceLinkCommands, string> = {
  dlTouch: touchLua,
  dlGet: getLua,
  dlConvert: convertLua,
  dlAlias: aliasLua,
  dlErase: eraseLua,
  dlSetOnce: setOnceLua,
  dlAppend: appendLua,
  dlAck: ackLua,
  dlEraseUser: eraseUserLua,
  dlForgetUser: forgetUserLua,
  dlUserAppend: userAppendLua,
};

/** Defines the commands on `redis` (idempotent: a second call redefines the same scripts). */
export function defineCommands(redis: Redis | Cluster): CommandClient {
  for (const [name, lua] of Object.entries(scripts)) redis.defineCommand(name, { lua });
  return redis as CommandClient;
}
