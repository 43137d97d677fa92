/**
 * JWKS fetches are bounded whatever tokens arrive (apps/collector/README.md, JWKS fetches): one fetch at
 * start, then at most one per 30 s cooldown for the whole set, none for a kid the fresh set lacks, and none
 * ever from the anonymous tracking route. A real local JWKS server counts the fetches; the cooldown runs on a
 * fake clock (only `Date` is faked: sockets and timers stay real).
 */
import { randomUUID } from 'node:crypto';
import { waitFor } from '@devicelink/test-env';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { JwksKeySet } from '../src/auth/jwks-key-set.js';
import { eventsBody, useCollector } from './support/collector.js';
import { claims, jwksServer, signJwt } from './support/jwt.js';

describe('the JWKS key set', () => {
  let jwks: Awaited<ReturnType<typeof jwksServer>>;
  let keys: JwksKeySet;
  beforeAll(async () => {
    jwks = await jwksServer();
  });
  afterAll(() => jwks.close());
  afterEach(() => {
    keys?.stop();
    vi.useRealTimers();
  });

  async function started() {
    vi.useFakeTimers({ toFake: ['Date'] });
    const before = jwks.fetches();
    keys = new JwksKeySet({ url: jwks.url });
    keys.start();
    await keys.key('key-1', 'RS256', { fetch: true });
    expect(jwks.fetches() - before).toBe(1);
    return before + 1;
  }

  it('gives up a fetch from a key server that never answers after 1 s by default, refusing the token', async () => {
    // A server that accepts the connection and never answers: only the fetch's own timeout ends it.
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const hung = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const port = (hung.address() as import('node:net').AddressInfo).port;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // jose times a fetch out with AbortSignal.timeout, whose timer no fake clock reaches: this stand-in
    // runs on the faked setTimeout.
    const timeout = vi.spyOn(AbortSignal, 'timeout').mockImplementation((ms) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), ms);
      return controller.signal;
    });
    try {
      keys = new JwksKeySet({ url: `http://127.0.0.1:${port}/jwks.json` });
      const verdict = keys.key('key-1', 'RS256', { fetch: true }).then(
        () => 'accepted',
        (err: { message: string }) => err.message,
      );
      // Awaited as an event, not polled: the timers are fake here.
      if (sockets.length === 0) await new Promise((resolve) => hung.once('connection', resolve));
      vi.advanceTimersByTime(999);
      expect(await Promise.race([verdict, Promise.resolve('pending')])).toBe('pending');
      vi.advanceTimersByTime(1);
      expect(await verdict).toMatch(/no answer in 1000 ms/);
    } finally {
      timeout.mockRestore();
      vi.useRealTimers();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => hung.close(resolve));
    }
  });

  it('refuses a kid the fresh set lacks without fetching', async () => {
    const fetched = await started();
    await expect(keys.key('not-there', 'RS256', { fetch: true })).rejects.toMatchObject({
      code: 'DL_TOKEN_INVALID',
    });
    expect(jwks.fetches()).toBe(fetched);
  });

  it('fetches at most once per cooldown for the whole set, whatever kids arrive', async () => {
    const fetched = await started();
    vi.advanceTimersByTime(31_000);
    const kids = Array.from({ length: 50 }, () => randomUUID());
    await Promise.allSettled(kids.map((kid) => keys.key(kid, 'RS256', { fetch: true })));
    expect(jwks.fetches()).toBe(fetched + 1);
    vi.advanceTimersByTime(29_000);
    await Promise.allSettled(kids.map((kid) => keys.key(kid, 'RS256', { fetch: true })));
    expect(jwks.fetches()).toBe(fetched + 1);
    vi.advanceTimersByTime(2_000);
    await Promise.allSettled(kids.map((kid) => keys.key(kid, 'RS256', { fetch: true })));
    expect(jwks.fetches()).toBe(fetched + 2);
  });

  it('finds a rotated-in key with one fetch once the cooldown passed, and never fetches for a caller that may not', async () => {
    const fetched = await started();
    jwks.addKey('key-rotated');
    vi.advanceTimersByTime(31_000);
    await expect(keys.key('key-rotated', 'RS256', { fetch: false })).rejects.toMatchObject({
      code: 'DL_TOKEN_INVALID',
    });
    expect(jwks.fetches()).toBe(fetched);
    expect(await keys.key('key-rotated', 'RS256', { fetch: true })).toContain('BEGIN PUBLIC KEY');
    expect(jwks.fetches()).toBe(fetched + 1);
  });

  it('asks a failing key server at most once per cooldown, naming its answer in the refusal', async () => {
    const failing = await jwksServer({ failing: true });
    try {
      vi.useFakeTimers({ toFake: ['Date'] });
      keys = new JwksKeySet({ url: failing.url });
      keys.start();
      await waitFor(() => failing.fetches() === 1, { what: 'the start-up fetch' });
      const kids = Array.from({ length: 20 }, () => randomUUID());
      const refusals = await Promise.allSettled(kids.map((kid) => keys.key(kid, 'RS256', { fetch: true })));
      expect(refusals.map((r) => r.status === 'rejected' && String(r.reason.message))).toEqual(
        kids.map(() => expect.stringMatching(/last fetch: HTTP 503/)),
      );
      expect(failing.fetches()).toBe(1);
      vi.advanceTimersByTime(31_000);
      await Promise.allSettled(kids.map((kid) => keys.key(kid, 'RS256', { fetch: true })));
      expect(failing.fetches()).toBe(2);
    } finally {
      await failing.close();
    }
  });

  it('refuses a key used with another algorithm than the set names', async () => {
    await started();
    await expect(keys.key('key-1', 'ES256', { fetch: true })).rejects.toMatchObject({
      code: 'DL_TOKEN_INVALID',
    });
  });
});

describe('JWKS fetches of a collector', () => {
  let jwks: Awaited<ReturnType<typeof jwksServer>>;
  beforeAll(async () => {
    jwks = await jwksServer();
  });
  afterAll(() => jwks.close());
  const ctx = useCollector('jwks', () => ({ JWT_JWKS_URL: jwks.url }));
  const randomKid = () => signJwt('RS256', claims(), jwks.privateKey, { kid: randomUUID() });
  /** Waits for the key set's start-up fetch; the fetch count then. */
  const startupFetches = async () => {
    await waitFor(() => jwks.fetches() >= 1, { what: 'the start-up fetch' });
    return jwks.fetches();
  };
  /** One page view with `token` as the bearer. */
  const eventsAs = (token: string) =>
    ctx.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${token}` },
      payload: eventsBody(1),
    });

  it('50 tokens with random kids on /v1/events fetch nothing and count as anonymous', async () => {
    const before = await startupFetches();
    for (let i = 0; i < 50; i++) {
      const res = await eventsAs(randomKid());
      expect(res.statusCode).toBe(202);
      expect(res.json().userId).toBeUndefined();
    }
    expect(jwks.fetches()).toBe(before);
  });

  it('a token whose key is in hand is the user on /v1/events, without a fetch', async () => {
    const before = await startupFetches();
    const res = await eventsAs(
      signJwt('RS256', claims({ sub: 'user-3' }), jwks.privateKey, { kid: 'key-1' }),
    );
    expect(res.json()).toMatchObject({ tracked: true, userId: 'user-3' });
    expect(jwks.fetches()).toBe(before);
  });

  it('50 identify calls with random kids right after start cost no fetch (the set is fresh) and are 401', async () => {
    const before = await startupFetches();
    for (let i = 0; i < 50; i++) {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/v1/identify',
        headers: { authorization: `Bearer ${randomKid()}` },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('DL_TOKEN_INVALID');
    }
    expect(jwks.fetches()).toBe(before);
  });
});
