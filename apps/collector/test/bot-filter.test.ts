/**
 * Bots and automation through the collector (docs/protocol.md, Bots and automation): page views of a
 * crawler, a headless browser and a page reporting `navigator.webdriver` are stored with their class,
 * and every figure (stats, roll-up series, conversion, paths, top pages), the journey and the bulk
 * export leave them out unless asked for all traffic; the excluded-traffic route shows them.
 */
import { DEFAULT_FLEET_OPTIONS } from '@devicelink/persister';
import { uuidv7 } from '@devicelink/protocol';
import { hasServices, waitFor } from '@devicelink/test-env';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/collector-config.js';
import { deviceId, useCollector } from './support/collector.js';
import { claims, signJwt } from './support/jwt.js';

const ADMIN = 'bots-admin-token-0123456789abcdef01';
const SECRET = 'bots-jwt-secret-0123456789abcdef012345';
const HOUR = 3_600_000;
const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36';
const HEADLESS = CHROME.replace('Chrome/', 'HeadlessChrome/');

const hour = (offset: number) => new Date(Math.floor(Date.now() / HOUR) * HOUR + offset * HOUR).toISOString();
const RANGE = `from=${hour(-23)}&to=${hour(1)}`;

describe('BOT_FILTER, BOT_ALLOWLIST and the FLEET_ thresholds', () => {
  it('default to on with no allowlist, and refuse a bad value naming the variable', () => {
    expect(loadConfig({}).botFilter).toEqual({ enabled: true, allowlist: [], fleet: DEFAULT_FLEET_OPTIONS });
    expect(loadConfig({ BOT_FILTER: 'off', BOT_ALLOWLIST: 'UptimeRobot, my-check' }).botFilter).toMatchObject(
      {
        enabled: false,
        allowlist: ['UptimeRobot', 'my-check'],
      },
    );
    expect(loadConfig({ FLEET_MIN_IDS: '500', FLEET_WINDOW_MINUTES: '30' }).botFilter.fleet).toMatchObject({
      minIds: 500,
      windowMinutes: 30,
    });
    expect(() => loadConfig({ FLEET_MIN_SHARE_PERCENT: '120' })).toThrow(/FLEET_MIN_SHARE_PERCENT/);
    expect(() => loadConfig({ BOT_FILTER: 'maybe' })).toThrow(/BOT_FILTER/);
    expect(() => loadConfig({ BOT_ALLOWLIST: 'ok-check,ab' })).toThrow(/BOT_ALLOWLIST/);
  });
});

describe.runIf(hasServices('postgres'))('the bot filter at read time', () => {
  const ctx = useCollector('bots', { ADMIN_TOKEN: ADMIN, JWT_SECRET: SECRET, BOT_FILTER: 'on' });
  const get = (url: string) =>
    ctx.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN}` } });
  const send = async (
    device: string,
    userAgent: string,
    urls: string[],
    extra: Record<string, unknown> = {},
  ) => {
    for (const url of urls) {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'x-device-fingerprint': device, 'user-agent': userAgent },
        payload: { ...extra, events: [{ type: 'pageview', url, id: uuidv7(), clientTs: Date.now() }] },
      });
      expect(res.statusCode).toBe(202);
    }
  };
  const identify = async (device: string, userAgent: string, sub: string) => {
    await new Promise((r) => setTimeout(r, 3));
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/identify',
      headers: {
        'x-device-fingerprint': device,
        'user-agent': userAgent,
        authorization: `Bearer ${signJwt('HS256', claims({ sub }), SECRET)}`,
      },
    });
    expect(res.statusCode).toBe(200);
  };
  const person = `person-${uuidv7()}`;
  const script = `script-${uuidv7()}`;

  it('counts people only, and everything with traffic=all', async () => {
    const human = deviceId();
    await send(human, CHROME, ['https://shop.test/a', 'https://shop.test/b']);
    await identify(human, CHROME, person);
    await send(deviceId(), 'curl/8.4.0', ['https://shop.test/robots']);
    const headless = deviceId();
    await send(headless, HEADLESS, ['https://shop.test/a']);
    await identify(headless, HEADLESS, script);
    await send(deviceId(), CHROME, ['https://shop.test/driven'], { automation: ['webdriver'] });

    const all = await waitFor(
      async () => {
        const c = (await get(`/v1/admin/insights/conversion?${RANGE}&traffic=all`)).json();
        return c.sessionsStarted === 4 && c.convertedSessions === 2 ? c : null;
      },
      { what: 'every session persisted', timeoutMs: 30_000 },
    );
    expect(all.conversionRate).toBe(0.5);
    // 0 conversions counted from non-human sessions.
    expect((await get(`/v1/admin/insights/conversion?${RANGE}`)).json()).toMatchObject({
      sessionsStarted: 1,
      convertedSessions: 1,
      conversionRate: 1,
    });
    const stats = (await get(`/v1/admin/stats?${RANGE}`)).json();
    expect(stats).toMatchObject({ sessionsStarted: 1, convertedSessions: 1, devices: 1 });
    expect((await get(`/v1/admin/stats?${RANGE}&traffic=all`)).json()).toMatchObject({
      sessionsStarted: 4,
      convertedSessions: 2,
      devices: 4,
    });

    const totals = async (traffic: string) => {
      const series = (await get(`/v1/admin/insights/timeseries?${RANGE}&bucket=hour${traffic}`)).json();
      const sum = (k: string) => series.points.reduce((n: number, p: Record<string, number>) => n + p[k]!, 0);
      return [sum('pageViewsAnonymous'), sum('sessions'), sum('convertedSessions')];
    };
    expect(await totals('')).toEqual([2, 1, 1]);
    expect(await totals('&traffic=all')).toEqual([5, 4, 2]);
    const top = (await get(`/v1/admin/insights/top?${RANGE}`)).json();
    expect(top.pages.map((p: { key: string }) => p.key).sort()).toEqual([
      'https://shop.test/a',
      'https://shop.test/b',
    ]);
    expect(top.pages.find((p: { key: string }) => p.key === 'https://shop.test/a').pageViews).toBe(1);
    const paths = (await get(`/v1/admin/insights/paths?${RANGE}&traffic=all`)).json();
    expect(paths.entryPages.find((p: { key: string }) => p.key === 'https://shop.test/a')).toMatchObject({
      sessions: 2,
      convertedSessions: 2,
    });
    expect(
      (await get(`/v1/admin/insights/paths?${RANGE}`))
        .json()
        .entryPages.find((p: { key: string }) => p.key === 'https://shop.test/a'),
    ).toMatchObject({ sessions: 1, convertedSessions: 1 });
  });

  it('leaves a non-human session out of the journey and the bulk export unless asked', async () => {
    expect((await get(`/v1/admin/users/${script}`)).json()).toMatchObject({ steps: [], sessions: [] });
    const journey = (await get(`/v1/admin/users/${script}?traffic=all`)).json();
    expect(journey.steps.map((s: { url: string }) => s.url)).toEqual(['https://shop.test/a']);
    expect((await get(`/v1/admin/users/${person}`)).json().steps).toHaveLength(2);

    const rows = async (traffic: string) =>
      (await get(`/v1/admin/export/pageviews?${RANGE}${traffic}`)).body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { url: string; trafficClass: string });
    expect((await rows('')).map((r) => r.trafficClass)).toEqual(['human', 'human']);
    const every = await rows('&traffic=all');
    expect(every).toHaveLength(5);
    expect(every.filter((r) => r.trafficClass !== 'human').map((r) => [r.url, r.trafficClass])).toEqual([
      ['https://shop.test/robots', 'bot'],
      ['https://shop.test/a', 'automation'],
      ['https://shop.test/driven', 'automation'],
    ]);
    // The device detail names each session's class and reason.
    const curl = every.find((r) => r.trafficClass === 'bot') as unknown as { deviceId: string };
    const detail = (await get(`/v1/admin/devices/${curl.deviceId}`)).json();
    expect(detail.persisted.sessions).toMatchObject([{ trafficClass: 'bot', trafficReason: 'ua:curl/' }]);
    // The user's own export is everything stored about them, with its class.
    const doc = (await get(`/v1/admin/users/${script}/export`)).json();
    expect(doc.sessions).toMatchObject([{ trafficClass: 'automation', trafficReason: 'ua:headlesschrome' }]);
  });

  it('shows what was excluded, by class and by user agent', async () => {
    const excluded = (await get(`/v1/admin/insights/excluded?${RANGE}`)).json();
    expect(excluded.byClass).toEqual([
      { trafficClass: 'automation', sessions: 2, pageViews: 2 },
      { trafficClass: 'bot', sessions: 1, pageViews: 1 },
    ]);
    expect(excluded.topUserAgents).toContainEqual({
      userAgent: 'curl/8.4.0',
      trafficClass: 'bot',
      reason: 'ua:curl/',
      sessions: 1,
    });
    expect(excluded.topUserAgents).toContainEqual({
      userAgent: CHROME,
      trafficClass: 'automation',
      reason: 'sdk:webdriver',
      sessions: 1,
    });
  });

  it('leaves programs out of the identity figures unless asked: their devices, logins and edges', async () => {
    const figures = async (traffic = '') => (await get(`/v1/admin/insights/identity${traffic}`)).json();
    // So far: the Chrome device that logged in is a person's; curl, the headless browser (and its
    // login) and the driven page are programs.
    await waitFor(async () => ((await figures('?traffic=all')).devices === 4 ? true : null), {
      what: 'the four devices persisted',
      timeoutMs: 30_000,
    });
    expect(await figures('?traffic=all')).toMatchObject({ devices: 4, users: 2 });
    expect(await figures()).toMatchObject({ devices: 1, users: 1, serverMadeIds: 0 });
    // A device seen driven in one session and as a person in the next (after a login ended the first)
    // is a person's: one human session is enough, and its login counts.
    const both = deviceId();
    const mixed = `mixed-${uuidv7()}`;
    await send(both, CHROME, ['https://shop.test/c'], { automation: ['webdriver'] });
    await identify(both, CHROME, mixed);
    await send(both, CHROME, ['https://shop.test/d']);
    await waitFor(async () => ((await figures()).devices === 2 ? true : null), {
      what: "the mixed device's human session persisted",
      timeoutMs: 30_000,
    });
    expect(await figures()).toMatchObject({ devices: 2, users: 2 });
    expect(await figures('?traffic=all')).toMatchObject({ devices: 5, users: 3 });
    expect((await get('/v1/admin/insights/identity?traffic=bots')).statusCode).toBe(400);
  });

  it('answers 400 for a traffic parameter it does not know', async () => {
    const res = await get(`/v1/admin/stats?${RANGE}&traffic=bots`);
    expect(res.statusCode).toBe(400);
  });
});
