// @vitest-environment happy-dom
/**
 * Bounds on what the page-view queue keeps and sends: a collector that never answers, a queue that waits
 * under pending consent, what of a URL leaves the browser, and the collector's request limits (1 to 100
 * events, 64 KiB, URLs of at most 2,048 characters). Timing tests use fake timers around a stubbed
 * `fetch` (happy-dom's fetch cannot run under fake timers); the rest go to a real HTTP server.
 */
import { STORAGE_KEY } from '@devicelink/protocol';
import { afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { useDeviceLinks, useTestServer } from './test-server.js';

vi.mock('@fingerprintjs/fingerprintjs', () => import('./fake-fingerprint.js').then((m) => m.install()));

const STORED = 'stored_device_id_0001';
const collector = useTestServer();
// The page-view queue waits for the automation signals chunk before its first request: loaded once
// here, its import resolves within the fake timers' microtask flushes below.
beforeAll(async () => {
  await import('../src/automation-signals.js');
});
beforeEach(() => {
  localStorage.setItem(STORAGE_KEY, STORED);
  collector().received.length = 0;
  collector().answer = () => ({ status: 202 });
});
afterEach(() => {
  localStorage.clear();
});
// Registered after the clear above, so each DeviceLink stops before it (hooks after a test run last first).
const start = useDeviceLinks(collector);

const eventBodies = () =>
  collector()
    .received.filter((r) => r.path === '/v1/events')
    .map((r) => r.body);
const sent = () => eventBodies().flatMap((b) => JSON.parse(b).events as { url: string; referrer?: string }[]);

/** Replaces `fetch` with `answer` for one test, recording each call's URLs. */
function stubFetch(answer: (n: number) => Response | Promise<never>) {
  const calls: string[][] = [];
  const original = globalThis.fetch;
  globalThis.fetch = vi.fn(async (_url: string, init: RequestInit) => {
    calls.push(JSON.parse(init.body as string).events.map((e: { url: string }) => e.url));
    return answer(calls.length);
  }) as unknown as typeof fetch;
  return { calls, restore: () => (globalThis.fetch = original) };
}

describe('retries', () => {
  test('an unreachable collector is given up on after 8 attempts, with a backoff between them', async () => {
    vi.useFakeTimers();
    const { calls, restore } = stubFetch((n) =>
      n <= 8 ? Promise.reject(new TypeError('Failed to fetch')) : new Response('{}', { status: 202 }),
    );
    try {
      const dl = start({ batch: { size: 1, delayMs: 1000 } });
      dl.pageview('/blocked');
      await vi.advanceTimersByTimeAsync(0);
      expect(calls).toHaveLength(1);
      // Backoff 1, 2, 4, 8, 16, 30, 30 s: the eighth attempt is the last.
      await vi.advanceTimersByTimeAsync(999);
      expect(calls).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(90_000);
      expect(calls).toHaveLength(8);
      await vi.advanceTimersByTimeAsync(600_000);
      expect(calls).toHaveLength(8);
      // A later page view is still tried (and sent: nothing is left waiting).
      dl.pageview('/later');
      await vi.advanceTimersByTimeAsync(0);
      expect(calls.at(-1)).toEqual(['/later']);
      expect(calls).toHaveLength(9);
    } finally {
      restore();
      vi.useRealTimers();
    }
  });

  test('a full batch waits for a scheduled retry instead of cancelling its backoff', async () => {
    vi.useFakeTimers();
    const { calls, restore } = stubFetch((n) => new Response('{}', { status: n === 1 ? 503 : 202 }));
    try {
      const dl = start({ batch: { size: 1, delayMs: 1000 } });
      dl.pageview('/a');
      await vi.advanceTimersByTimeAsync(0);
      expect(calls).toEqual([['/a']]);
      // Regression: reaching the batch size used to flush at once, bypassing the backoff.
      dl.pageview('/b');
      dl.pageview('/c');
      await vi.advanceTimersByTimeAsync(999);
      expect(calls).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls.slice(1)).toEqual([['/a', '/b', '/c']]);
    } finally {
      restore();
      vi.useRealTimers();
    }
  });

  test('at most 500 page views wait under pending consent; the oldest are dropped', async () => {
    const dl = start({ consent: 'pending', batch: { size: 100, delayMs: 60_000 } });
    for (let i = 0; i < 600; i++) dl.pageview(`/p${i}`);
    dl.setConsent('granted');
    await dl.flush();
    const urls = sent().map((e) => e.url);
    expect(urls).toHaveLength(500);
    expect(urls[0]).toBe('/p100');
    expect(urls.at(-1)).toBe('/p599');
  });
});

describe('what leaves the browser', () => {
  test('the fragment is dropped and the referrer is reduced to its origin', async () => {
    const dl = start({ batch: { size: 100, delayMs: 60_000 } });
    dl.pageview('https://app.example.com/callback?utm_source=x#access_token=secret');
    dl.pageview('https://app.example.com/home');
    await dl.flush();
    expect(sent()).toEqual([
      expect.objectContaining({ url: 'https://app.example.com/callback?utm_source=x' }),
      expect.objectContaining({ url: 'https://app.example.com/home', referrer: 'https://app.example.com' }),
    ]);
    expect(eventBodies().join('')).not.toContain('secret');
  });

  test('a page view whose URL is over 2,048 characters is dropped alone, not with its batch', async () => {
    // The collector refuses a whole batch with a 400 when one URL is too long.
    const dl = start({ batch: { size: 100, delayMs: 60_000 } });
    dl.pageview('/before');
    dl.pageview(`/${'x'.repeat(2048)}`);
    dl.pageview(`/${'y'.repeat(2047)}#${'z'.repeat(100)}`);
    dl.pageview('/after');
    await dl.flush();
    expect(sent().map((e) => e.url.slice(0, 7))).toEqual(['/before', `/${'y'.repeat(6)}`, '/after']);
  });

  test('a batch of long URLs is split so that no request body reaches 64 KiB', async () => {
    const dl = start({ batch: { size: 100, delayMs: 60_000 } });
    for (let i = 0; i < 100; i++) dl.pageview(`/${i}/${'u'.repeat(1500)}`);
    await dl.flush();
    const bodies = eventBodies();
    expect(bodies.length).toBeGreaterThan(1);
    for (const b of bodies) expect(new Blob([b]).size).toBeLessThan(64 * 1024);
    expect(sent()).toHaveLength(100);
  });

  test('keepalive is used only by the flush when the page goes away', async () => {
    const seen = vi.spyOn(globalThis, 'fetch');
    const beacon = Object.getOwnPropertyDescriptor(navigator, 'sendBeacon');
    Object.defineProperty(navigator, 'sendBeacon', { configurable: true, value: () => false });
    try {
      const dl = start({ batch: { size: 100, delayMs: 60_000 } });
      dl.pageview('/during');
      await dl.flush();
      dl.pageview('/leaving');
      window.dispatchEvent(new Event('pagehide'));
      await vi.waitFor(() => expect(sent()).toHaveLength(2), { timeout: 10_000 });
      expect(seen.mock.calls.map(([, init]) => Boolean(init?.keepalive))).toEqual([false, true]);
    } finally {
      seen.mockRestore();
      if (beacon) Object.defineProperty(navigator, 'sendBeacon', beacon);
      else delete (navigator as { sendBeacon?: unknown }).sendBeacon;
    }
  });
});

describe('consent and repeats', () => {
  test('a page viewed under denied consent is sent when viewed again after consent is granted', async () => {
    const dl = start({ consent: 'denied', batch: { size: 100, delayMs: 60_000 } });
    dl.pageview('/here');
    dl.setConsent('granted');
    // Regression: the dropped view was remembered as the last one, so this was taken for a repeat.
    dl.pageview('/here');
    await dl.flush();
    expect(sent().map((e) => e.url)).toEqual(['/here']);
  });
});
