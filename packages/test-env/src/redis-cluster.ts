/**
 * A throw-away three-node Redis Cluster on loopback ports, started from the local `redis-server`
 * (cluster mode, no persistence) and joined with `redis-cli --cluster create`. Used by the vitest
 * global setups of the plugin and the collector; `REDIS_CLUSTER_NODES`, when set, is used instead.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { freeLoopbackPort } from './loopback-port.js';
import { hasServices, testEnv } from './test-env.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

/** True when `bin` is an executable name found on PATH. */
export const onPath = (bin: string): boolean =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => existsSync(join(dir, bin)));

/** A running cluster: its comma-separated seeds and how to stop it (a no-op for REDIS_CLUSTER_NODES). */
export interface TestRedisCluster {
  seeds: string;
  stop(): Promise<void>;
}

/**
 * Starts a cluster, or returns null (after a line saying the `who` suites are skipped) when Redis is
 * not available. Under REQUIRE_SERVICES=1 a missing Redis is an error instead.
 */
export async function startRedisCluster(who: string): Promise<TestRedisCluster | null> {
  if (testEnv.redisClusterNodes) return { seeds: testEnv.redisClusterNodes, stop: async () => {} };
  if (!hasServices('redis') || !onPath('redis-server') || !onPath('redis-cli')) {
    if (testEnv.requireServices) {
      throw new Error(
        'REQUIRE_SERVICES=1 but redis-server/redis-cli are missing: cannot start a Redis Cluster',
      );
    }
    console.warn(`[${who}] redis-server not available: skipping the Redis Cluster tests`);
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), `dl-${who}-cluster-`));
  const taken = new Set<number>();
  const ports = [
    await freeLoopbackPort(taken, 10_000),
    await freeLoopbackPort(taken, 10_000),
    await freeLoopbackPort(taken, 10_000),
  ];
  const children: ChildProcess[] = ports.map((port) =>
    spawn(
      'redis-server',
      // biome-ignore format: one option per pair reads better
      ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
       '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir,
       '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: 'ignore' },
    ),
  );
  const stop = async () => {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r)))),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      await waitFor(
        async () => (await run('redis-cli', ['-p', String(port), 'ping'])).stdout.includes('PONG'),
        { what: `redis-server on ${port}` },
      );
    }
    const seeds = ports.map((p) => `127.0.0.1:${p}`);
    await run('redis-cli', ['--cluster', 'create', ...seeds, '--cluster-replicas', '0', '--cluster-yes']);
    for (const port of ports) {
      await waitFor(
        async () =>
          (await run('redis-cli', ['-p', String(port), 'cluster', 'info'])).stdout.includes(
            'cluster_state:ok',
          ),
        { what: `cluster_state:ok on ${port}` },
      );
    }
    return { seeds: seeds.join(','), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
