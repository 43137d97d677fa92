// @vitest-environment happy-dom
/**
 * The axios interceptors against real HTTP servers and a real axios instance (its browser adapter,
 * under happy-dom's CORS rules). Only FingerprintJS, a browser library, is replaced.
 */
import { STORAGE_KEY } from '@devicelink/protocol';
import axios, { type AxiosInstance } from 'axios';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { attachAxios } from '../src/axios.js';
import { createDeviceLink, type DeviceLink, type DeviceLinkOptions } from '../src/index.js';
import { eventually } from './eventually.js';
import { fingerprint } from './fake-fingerprint.js';
import { serverId, startServer, type TestServer } from './test-server.js';

vi.mock('@fingerprintjs/fingerprintjs', () => import('./fake-fingerprint.js').then((m) => m.install()));

const STORED = 'stored_device_id_0001';
const COOKIE = 'cookie_device_id_0002';

let app: TestServer; // the page's own origin
let api: TestServer; // the baseURL origin
let third: TestServer; // a third party
let extra: TestServer; // an origin listed in `origins`
let collector: TestServer;
const running: DeviceLink[] = [];
const ejects: (() => void)[] = [];

beforeAll(async () => {
  [app, api, third, extra, collector] = await Promise.all([
    startServer(),
    startServer(),
    startServer(),
    startServer(),
    startServer(),
  ]);
  // happy-dom's page URL: the app's own origin is a real server too.
  (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(`${app.origin}/page`);
});
afterAll(() => Promise.all([app, api, third, extra, collector].map((s) => s.close())));
beforeEach(() => {
  localStorage.clear();
  fingerprint.reset();
  for (const s of [app, api, third, extra, collector]) {
    s.received.length = 0;
    s.answer = (req) => ({ echo: (req.headers['x-device-fingerprint'] as string | undefined) ?? serverId });
  }
});
afterEach(() => {
  for (const eject of ejects.splice(0)) eject();
  for (const dl of running.splice(0)) dl.stop();
});

function setup(options: Partial<DeviceLinkOptions> = {}): { dl: DeviceLink; http: AxiosInstance } {
  const dl = createDeviceLink({ collector: collector.origin, autoPageviews: false, ...options });
  running.push(dl);
  const http = axios.create({ baseURL: api.origin });
  ejects.push(attachAxios(http, dl));
  return { dl, http };
}

const sentId = (s: TestServer, i = -1) => s.received.at(i)?.headers['x-device-fingerprint'];
const sentFresh = (s: TestServer, i = -1) => s.received.at(i)?.headers['x-device-fresh'];

describe('axios interceptors', () => {
  test('requests to the baseURL origin carry the device header while getToken gives no token', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    const { http } = setup({ getToken: () => null });
    await http.get('/me');
    expect(sentId(api)).toBe(STORED);
  });

  test('a request with its own Authorization header gets no device header, even while getToken gives nothing', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    const { http } = setup({ getToken: () => null });
    await http.get('/me', { headers: { Authorization: 'Bearer own.jwt.token' } });
    expect(sentId(api)).toBeUndefined();
    expect(api.received.at(-1)?.headers.authorization).toBe('Bearer own.jwt.token');
    // Set on the instance's defaults, in any case: the same.
    http.defaults.headers.common.authorization = 'Bearer own.jwt.token';
    await http.get('/me');
    expect(sentId(api)).toBeUndefined();
    delete http.defaults.headers.common.authorization;
    await http.get('/me');
    expect(sentId(api)).toBe(STORED);
  });

  test('no device header while a token exists', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    let token: string | null = 'a.jwt.token';
    const { http } = setup({ getToken: () => token });
    await http.get('/me');
    expect(sentId(api)).toBeUndefined();
    token = null;
    await http.get('/me');
    expect(sentId(api)).toBe(STORED);
  });

  test("the page's own origin and configured origins get the header", async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    const { http } = setup({ origins: [extra.origin] });
    await http.get(`${app.origin}/own`);
    await http.get(`${extra.origin}/listed`);
    expect(sentId(app)).toBe(STORED);
    expect(sentId(extra)).toBe(STORED);
  });

  test('the collector origin gets the header by default, and not when other origins are configured', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    const byDefault = setup();
    await byDefault.http.get(`${collector.origin}/x`);
    expect(sentId(collector)).toBe(STORED);
    const configured = setup({ origins: [extra.origin] });
    await configured.http.get(`${collector.origin}/x`);
    expect(sentId(collector)).toBeUndefined();
  });

  test('a third-party origin gets no header and its echo is never adopted', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    third.answer = () => ({ echo: 'third_party_id_999999' });
    const { dl, http } = setup();
    await http.get(`${third.origin}/x`, { headers: {} });
    expect(sentId(third)).toBeUndefined();
    expect(third.received[0]!.headers['x-device-consent']).toBeUndefined();
    expect(dl.deviceId()).toBe(STORED);

    // Nothing stored: a fresh id would yield to a cookie's echo, but never to a third party's.
    localStorage.clear();
    const fresh = setup();
    const minted = fresh.dl.deviceId();
    await fresh.http.get(`${third.origin}/x`);
    expect(fresh.dl.deviceId()).toBe(minted);
  });

  test('with nothing stored the first request carries a minted id marked fresh, and the echo of a cookie is adopted', async () => {
    api.answer = () => ({ echo: COOKIE });
    const { dl, http } = setup();
    await http.get('/ok');
    const minted = sentId(api, 0);
    expect(minted).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(sentFresh(api, 0)).toBe('1');
    expect(dl.deviceId()).toBe(COOKIE);
    expect(dl.deviceIdSource()).toBe('cookie');
    expect(localStorage.getItem(STORAGE_KEY)).toBe(COOKIE);
    await http.get('/again');
    expect(sentId(api)).toBe(COOKIE);
    expect(sentFresh(api)).toBeUndefined();
  });

  test('a fresh id echoed back is answered: later requests carry it without the fresh flag', async () => {
    const { dl, http } = setup();
    await http.get('/first');
    const minted = dl.deviceId();
    expect(sentFresh(api)).toBe('1');
    await http.get('/second');
    expect(sentId(api)).toBe(minted);
    expect(sentFresh(api)).toBeUndefined();
    expect(dl.deviceIdSource()).toBe('minted');
  });

  test.each([401, 404, 500, 503])('the echo for a fresh id is adopted from a %i response', async (status) => {
    api.answer = () => ({ status, echo: COOKIE });
    const { dl, http } = setup();
    await expect(http.get('/fails')).rejects.toMatchObject({ response: { status } });
    expect(dl.deviceId()).toBe(COOKIE);
  });

  test('a different echo for a stored id is never adopted (the stored id wins over a cookie)', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    api.answer = () => ({ echo: COOKIE });
    const { dl, http } = setup();
    await http.get('/x');
    expect(sentFresh(api)).toBeUndefined();
    expect(dl.deviceId()).toBe(STORED);
  });

  test('where localStorage is unusable nothing is minted and the echo is adopted (the cookie carries the device)', async () => {
    const own = Object.getOwnPropertyDescriptor(window, 'localStorage')!;
    Object.defineProperty(window, 'localStorage', {
      configurable: true,
      get() {
        throw new DOMException('The operation is insecure.', 'SecurityError');
      },
    });
    try {
      const { dl, http } = setup();
      await http.get('/first');
      expect(sentId(api)).toBeUndefined();
      expect(dl.deviceId()).toBe(serverId);
      expect(dl.deviceIdSource()).toBe('collector');
      await http.get('/second');
      expect(sentId(api)).toBe(serverId);
      expect(sentFresh(api)).toBeUndefined();
    } finally {
      Object.defineProperty(window, 'localStorage', own);
    }
  });

  test('an echo for a request made with an expired token does not replace the stored id', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    // The server treats the expired token as anonymous and echoes its cookie's id.
    api.answer = () => ({ status: 401, echo: 'cookie_device_id_7777' });
    const { dl, http } = setup({ getToken: () => 'expired.jwt.token' });
    await expect(http.get('/me')).rejects.toThrow();
    expect(sentId(api)).toBeUndefined();
    expect(dl.deviceId()).toBe(STORED);
    expect(localStorage.getItem(STORAGE_KEY)).toBe(STORED);
  });

  test('junk ids from a server are never adopted', async () => {
    const { dl, http } = setup();
    const minted = dl.deviceId();
    for (const junk of [
      'null',
      'undefined',
      '[object Object]',
      'anonymous',
      '0000000000000000',
      'a b c d e f g h i j',
    ]) {
      api.answer = () => ({ echo: junk });
      await http.get('/junk');
      expect(dl.deviceId()).toBe(minted);
    }
  });

  test('app requests never wait for the fingerprint: the first goes at once with the minted id', async () => {
    // The fingerprint never finishes in this test: a request that waited for it would never be sent.
    const { dl, http } = setup();
    await http.get('/a');
    await http.get('/b');
    const minted = dl.deviceId();
    expect(api.received.map((r) => r.headers['x-device-fingerprint'])).toEqual([minted, minted]);
    await eventually(() => expect(fingerprint.loads.length).toBe(1));
    // The fingerprint is evidence for the collector alone: it never travels to the app's API.
    expect(api.received.every((r) => r.path !== '/v1/device/fingerprint')).toBe(true);
  });

  test('the request interceptor adds the headers synchronously, before axios hands the request on', () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    const { http } = setup();
    const handlers = (
      http.interceptors.request as unknown as {
        handlers: { fulfilled: (c: unknown) => any; synchronous: boolean }[];
      }
    ).handlers;
    const ours = handlers.find(Boolean)!;
    expect(ours.synchronous).toBe(true);
    const config = ours.fulfilled({ url: '/x', baseURL: api.origin, headers: new axios.AxiosHeaders() });
    expect(config).not.toBeInstanceOf(Promise);
    expect(config.headers.get('X-Device-Fingerprint')).toBe(STORED);
  });

  test('eject removes both interceptors', async () => {
    const { dl } = setup();
    const http = axios.create({ baseURL: api.origin });
    const eject = attachAxios(http, dl);
    api.answer = () => ({ echo: COOKIE });
    await http.get('/adopt');
    expect(dl.deviceId()).toBe(COOKIE);
    eject();
    api.answer = () => ({ echo: 'after_eject_id_55555' });
    await http.get('/after');
    expect(sentId(api)).toBeUndefined();
    expect(dl.deviceId()).toBe(COOKIE);
    const { request, response } = http.interceptors as unknown as Record<string, { handlers: unknown[] }>;
    expect(request!.handlers.filter(Boolean)).toEqual([]);
    expect(response!.handlers.filter(Boolean)).toEqual([]);
  });

  test('attaching touches only the given instance', async () => {
    localStorage.setItem(STORAGE_KEY, STORED);
    setup();
    await axios.get(`${api.origin}/global`);
    const other = axios.create({ baseURL: api.origin });
    await other.get('/other');
    expect(api.received.map((r) => r.headers['x-device-fingerprint'])).toEqual([undefined, undefined]);
  });

  test.each(['pending', 'denied'] as const)(
    'under %s consent requests carry X-Device-Consent: denied, no id, load no fingerprint code and store nothing',
    async (consent) => {
      const imports = fingerprint.imports;
      const { dl, http } = setup({ consent });
      await http.get('/me');
      expect(api.received[0]!.headers['x-device-consent']).toBe('denied');
      expect(sentId(api)).toBeUndefined();
      expect(dl.deviceId()).toBeNull();
      expect(fingerprint.imports).toBe(imports);
      expect(fingerprint.loads).toEqual([]);
      expect(localStorage.length).toBe(0);
    },
  );
});
