/**
 * The load generator of the ingest cells: Debian's `wrk` (C, one thread, so the client costs a
 * fraction of a core where autocannon saturated one), driven by `bench/wrk/ingest.lua`: a device of a
 * pool of {@link WRK_DEVICES} (header and matching cookie) and fresh event ids on every request. The
 * script prints one `DL_RESULT` JSON line at the end, read here. `ensureWrk` installs it with apt-get
 * when it is missing.
 */
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LoadResult } from './load.js';

const run = promisify(execFile);

/** Device ids the script spreads requests over. */
export const WRK_DEVICES = 5_000;
const SCRIPT = join(import.meta.dirname, '..', 'wrk', 'ingest.lua');

/** The path of `wrk`, installed with apt-get when absent (the bench's one system dependency). */
export function ensureWrk(): string {
  const find = () => {
    try {
      return execFileSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).trim() || null;
    } catch {
      return null;
    }
  };
  const found = find();
  if (found) return found;
  console.log('wrk not found: installing it (apt-get install -y wrk)');
  const [command, ...args] = [
    ...(process.getuid?.() === 0 ? [] : ['sudo']),
    'apt-get',
    'install',
    '-y',
    'wrk',
  ];
  try {
    execFileSync(command!, args, { stdio: 'inherit' });
  } catch (err) {
    throw new Error(
      `wrk is missing and apt-get could not install it (${(err as Error).message}): install wrk`,
    );
  }
  const installed = find();
  if (!installed) throw new Error('wrk is still missing after apt-get install wrk');
  return installed;
}

/** The first `count` device ids the wrk script sends (`dev` and the number on 29 digits). */
export function wrkDeviceIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `dev${String(i + 1).padStart(29, '0')}`);
}

/** One wrk run. */
export interface WrkOptions {
  url: string;
  connections: number;
  seconds: number;
  eventsPerRequest: number;
  /** A request without an answer in this time counts as a timeout, seconds (default 5). */
  timeoutSeconds?: number;
  /** The first this many of {@link wrkDeviceIds} (default {@link WRK_DEVICES}). */
  devices?: number;
}

/** What wrk measured, with its latency percentiles (all answers, any status). */
export interface WrkResult extends LoadResult {
  maxMs: number;
  timeouts: number;
}

interface DlResult {
  requests: number;
  duration_us: number;
  non2xx: number;
  connect_errors: number;
  read_errors: number;
  write_errors: number;
  timeouts: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
}

/** Runs wrk (one thread) against `POST /v1/events` for `seconds`. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const { stdout } = await run(
    'wrk',
    [
      '-t1',
      `-c${options.connections}`,
      // Whole seconds only (wrk parses an integer); the measured duration comes back in the result.
      `-d${Math.max(1, Math.round(options.seconds))}s`,
      `--timeout`,
      `${options.timeoutSeconds ?? 5}s`,
      '-s',
      SCRIPT,
      options.url,
    ],
    {
      env: {
        ...process.env,
        DL_DEVICES: String(options.devices ?? WRK_DEVICES),
        DL_EVENTS: String(options.eventsPerRequest),
      },
      maxBuffer: 1 << 20,
    },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('DL_RESULT '));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const r = JSON.parse(line.slice('DL_RESULT '.length)) as DlResult;
  const seconds = r.duration_us / 1e6;
  // wrk counts a request as "non-2xx/3xx" by status; socket errors and timeouts separately.
  const total2xx = r.requests - r.non2xx;
  return {
    connections: options.connections,
    eventsPerRequest: options.eventsPerRequest,
    seconds,
    reqPerSec: total2xx / seconds,
    eventsPerSec: (total2xx * options.eventsPerRequest) / seconds,
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    maxMs: r.max_us / 1000,
    failures: r.non2xx + r.connect_errors + r.read_errors + r.write_errors + r.timeouts,
    timeouts: r.timeouts,
    total2xx,
  };
}
