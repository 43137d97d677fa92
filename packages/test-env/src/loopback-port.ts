/**
 * Free loopback ports for servers a test or bench starts itself (Redis servers of its own).
 */
import { createServer } from 'node:net';

/** True when `port` can be bound on 127.0.0.1 now. */
const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

/**
 * A random port in 20000-49999 that is free (and, with `busOffset`, so is port + busOffset: a Redis
 * Cluster node's bus port), not in `taken`; added to `taken`.
 */
export async function freeLoopbackPort(taken = new Set<number>(), busOffset = 0): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port)) continue;
    if ((await portFree(port)) && (busOffset === 0 || (await portFree(port + busOffset)))) {
      taken.add(port);
      return port;
    }
  }
}
