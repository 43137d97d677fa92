/**
 * The labelled traffic of benchmark `bots`, sent to one collector: people in real
 * Chromium (a desktop or mobile user agent each, `--disable-blink-features=AutomationControlled`, 1 to 5
 * page views a visit, a returning visit) and a NAT control of 200 returning browsers behind one address
 * (HTTP clients sending what the SDK sends: 200 real browsers took minutes on the shared 2-core machine,
 * and what the control tests is the fleet job's reading of one network, not the page);
 * automation (the same Chromium with `navigator.webdriver` true, and headless Chromium with its
 * own user agent); listed clients over HTTP (the pinned crawler corpus unedited, and scripted clients);
 * a fleet over HTTP (80 sequential addresses in one /24 and 80 in one /64, one page view per fresh id,
 * Windows and Mac user agents half each, no referrer, 2 ids per second). Every page view's event id is
 * kept by group, so what the collector stored can be judged by the label it was sent with.
 */
import { randomBytes } from 'node:crypto';
import { BOT_USER_AGENTS } from '@devicelink/fastify/testing';
import { uuidv7 } from '@devicelink/protocol';
import { CHROMIUM_FLAGS, testEnv } from '@devicelink/test-env';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import type { PageServer } from '../identity/page-server.js';
import { FLEET_USER_AGENTS, PEOPLE_USER_AGENTS, SCRIPTED_USER_AGENTS } from './labelled-agents.js';

/** The labels traffic is sent under. */
export type Group = 'people' | 'nat' | 'webdriver' | 'headless' | 'listed' | 'fleet';

/** How much of each label a mode sends. */
export interface MixSize {
  /** Chromium visitors, each on its own network, a first and a returning visit. */
  people: number;
  /** Returning browsers behind one address (HTTP clients sending like the SDK). */
  nat: number;
  /** Chromium browsers with `navigator.webdriver` true and a person's user agent, two visits each. */
  webdriver: number;
  /** Headless Chromium with its default user agent, one visit each. */
  headless: number;
  /** How long the fleet sends, seconds (2 fresh ids a second). */
  fleetSeconds: number;
  /** Browser visits run at once. */
  concurrency: number;
}

export const QUICK_MIX: MixSize = {
  people: 40,
  nat: 200,
  webdriver: 20,
  headless: 20,
  fleetSeconds: 120,
  concurrency: 6,
};
export const FULL_MIX: MixSize = {
  people: 80,
  nat: 200,
  webdriver: 40,
  headless: 40,
  fleetSeconds: 30 * 60,
  concurrency: 6,
};

/** The fleet's networks: one IPv4 /24 and one IPv6 /64, 80 sequential addresses in each. */
const FLEET_ADDRESSES = 80;
const fleetAddress = (n: number): string => {
  const host = 1 + (Math.floor(n / 2) % FLEET_ADDRESSES);
  return n % 2 === 0 ? `203.0.113.${host}` : `2001:db8:f1ee:7::${host.toString(16)}`;
};

/** What was sent under one label. */
export interface GroupLedger {
  /** Event ids of the page views the collector accepted (202). */
  eventIds: string[];
  /** Device ids the label's clients used. */
  deviceIds: Set<string>;
  /** Logins (`/v1/identify` answered 200). */
  logins: number;
  /** Requests not answered 202/200, or visits that failed. */
  failures: string[];
}

/** Everything sent, by label. */
export type Ledger = Record<Group, GroupLedger>;

export const newLedger = (): Ledger =>
  Object.fromEntries(
    (['people', 'nat', 'webdriver', 'headless', 'listed', 'fleet'] as const).map((g) => [
      g,
      { eventIds: [], deviceIds: new Set<string>(), logins: 0, failures: [] },
    ]),
  ) as unknown as Ledger;

/** A device id as the SDK mints one (16 random bytes, base64url). */
const mintId = (): string => randomBytes(16).toString('base64url');

/** A small deterministic generator, so a mode sends the same mix every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Chromium as a person's browser (`navigator.webdriver` false) or as a driven one (true). */
export async function launchBrowser(driven: boolean): Promise<Browser> {
  if (!testEnv.chromiumPath) throw new Error('no Chromium: set CHROMIUM_PATH (or install /usr/bin/chromium)');
  return chromium.launch({
    executablePath: testEnv.chromiumPath,
    headless: true,
    // Playwright adds --headless; the flags are the e2e ones (--no-sandbox, --disable-gpu, no network).
    args: [
      ...CHROMIUM_FLAGS,
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      ...(driven ? [] : ['--disable-blink-features=AutomationControlled']),
    ],
  });
}

/** One simulated browser: its label, user agent (null: Chromium's own), network and visits. */
interface BrowserPlan {
  group: Group;
  key: string;
  userAgent: string | null;
  address: string;
  /** Page views of each visit. */
  visits: number[];
  /** Logs in at the end of its last visit. */
  login: boolean;
  /** The first visit comes from a search result. */
  referrer: string | null;
}

/** One visit: the app page, its page views by client-side navigation, maybe a login; the ids kept. */
async function visit(
  context: BrowserContext,
  app: PageServer,
  views: number,
  ledger: GroupLedger,
  options: { login: string | null; referrer: string | null },
): Promise<void> {
  const page = await context.newPage();
  let answered = 0;
  page.on('response', (res) => {
    const r = res.request();
    if (r.method() !== 'POST' || new URL(r.url()).pathname !== '/v1/events') return;
    let ids: string[] = [];
    try {
      const body = JSON.parse(r.postData() ?? '{}') as { events?: { id: string }[] };
      ids = (body.events ?? []).map((e) => e.id);
    } catch {
      ids = [];
    }
    if (res.status() === 202) {
      answered += ids.length;
      ledger.eventIds.push(...ids);
    } else ledger.failures.push(`events answered ${res.status()}`);
  });
  try {
    await page.goto(app.appUrl, options.referrer ? { referer: options.referrer } : {});
    await until(() => answered >= 1, 'the first page view');
    for (let i = 1; i < views; i++) {
      await page.evaluate((n) => window.bench.navigate(`/app/page-${n}`), i);
      await until(() => answered >= i + 1, `page view ${i + 1}`);
    }
    if (options.login) {
      const result = (await page.evaluate((t) => window.bench.identify(t), options.login)) as {
        userId?: string;
      };
      if (result?.userId) ledger.logins++;
      else ledger.failures.push(`identify answered ${JSON.stringify(result)}`);
    }
    const id = await page.evaluate(() => window.bench.deviceId());
    if (id) ledger.deviceIds.add(id);
  } finally {
    await page.close().catch(() => {});
  }
}

/**
 * Runs the browsers of `plans`: every first visit, then every return. Each browser is a context of its
 * own (its cookies and localStorage), kept between its visits; a visit is a page opened and closed.
 */
async function runBrowsers(
  browser: Browser,
  plans: readonly BrowserPlan[],
  app: PageServer,
  ledger: Ledger,
  token: (user: string) => string,
  concurrency: number,
): Promise<void> {
  const contexts = new Map<string, BrowserContext>();
  const rounds = Math.max(...plans.map((p) => p.visits.length));
  try {
    for (let round = 0; round < rounds; round++) {
      await pool(
        plans.filter((p) => p.visits.length > round),
        concurrency,
        async (plan) => {
          try {
            let context = contexts.get(plan.key);
            if (!context) {
              context = await browser.newContext({
                viewport: { width: 1280, height: 800 },
                ...(plan.userAgent ? { userAgent: plan.userAgent } : {}),
              });
              await context.setExtraHTTPHeaders({ 'X-Forwarded-For': plan.address });
              contexts.set(plan.key, context);
            }
            const last = round === plan.visits.length - 1;
            await visit(context, app, plan.visits[round]!, ledger[plan.group], {
              login: last && plan.login ? token(`${plan.group}-${plan.key}`) : null,
              referrer: round === 0 ? plan.referrer : null,
            });
          } catch (err) {
            ledger[plan.group].failures.push(`${plan.key}: ${(err as Error).message.split('\n')[0]}`);
          }
        },
      );
    }
  } finally {
    await Promise.all([...contexts.values()].map((c) => c.close().catch(() => {})));
  }
}

/**
 * Sends `views` page views as one HTTP client, as the SDK does: its id in the header (`X-Device-Fresh`
 * on the first request of a new id), one page view a request; then maybe a login. Answers the id.
 */
async function httpClient(
  collector: string,
  ledger: GroupLedger,
  client: {
    userAgent: string;
    address: string;
    views: number;
    login: string | null;
    pages: string;
    /** A returning client's id (default: a new one, sent fresh). */
    deviceId?: string;
    referrer?: string;
  },
): Promise<string> {
  const deviceId = client.deviceId ?? mintId();
  const fresh = client.deviceId === undefined;
  ledger.deviceIds.add(deviceId);
  const base = {
    'user-agent': client.userAgent,
    'x-forwarded-for': client.address,
    'x-device-fingerprint': deviceId,
  };
  for (let i = 0; i < client.views; i++) {
    const id = uuidv7();
    const res = await fetch(`${collector}/v1/events`, {
      method: 'POST',
      headers: {
        ...base,
        'content-type': 'application/json',
        ...(i === 0 && fresh ? { 'x-device-fresh': '1' } : {}),
      },
      body: JSON.stringify({
        events: [
          {
            type: 'pageview',
            url: `${client.pages}page-${i}`,
            id,
            ...(i === 0 && client.referrer ? { referrer: client.referrer } : {}),
          },
        ],
      }),
    }).catch((err: Error) => ({ status: 0, statusText: err.message }) as const);
    if (res.status === 202) ledger.eventIds.push(id);
    else ledger.failures.push(`events answered ${res.status}`);
  }
  if (client.login) {
    const res = await fetch(`${collector}/v1/identify`, {
      method: 'POST',
      headers: { ...base, authorization: `Bearer ${client.login}` },
    }).catch((err: Error) => ({ status: 0, statusText: err.message }) as const);
    if (res.status === 200) ledger.logins++;
    else ledger.failures.push(`identify answered ${res.status}`);
  }
  return deviceId;
}

/**
 * The NAT control: `count` browsers behind one address, each a first visit of 1 or 2 page views, then
 * (after every first visit) a return with its id and 1 or 2 more; one in ten logs in on its return.
 */
export async function runNat(
  collector: string,
  pages: string,
  count: number,
  ledger: Ledger,
  token: (user: string) => string,
): Promise<void> {
  const random = seeded(250);
  const clients = Array.from({ length: count }, (_, i) => ({
    i,
    userAgent: PEOPLE_USER_AGENTS[i % PEOPLE_USER_AGENTS.length]!,
    views: [1 + Math.floor(random() * 2), 1 + Math.floor(random() * 2)] as const,
    id: '',
  }));
  const address = '198.18.250.1';
  await pool(clients, 8, async (c) => {
    c.id = await httpClient(collector, ledger.nat, {
      userAgent: c.userAgent,
      address,
      views: c.views[0],
      login: null,
      pages,
      ...(c.i % 4 === 0 ? { referrer: 'https://news.example/' } : {}),
    });
  });
  await pool(clients, 8, async (c) => {
    await httpClient(collector, ledger.nat, {
      userAgent: c.userAgent,
      address,
      views: c.views[1],
      login: c.i % 10 === 0 ? token(`nat-${c.i}`) : null,
      pages,
      deviceId: c.id,
    });
  });
}

/** The fleet: 2 fresh ids a second for `seconds`, one page view each, alternating the two networks. */
export async function runFleet(
  collector: string,
  pages: string,
  seconds: number,
  ledger: Ledger,
): Promise<void> {
  const started = Date.now();
  const sends: Promise<string>[] = [];
  for (let n = 0; n < seconds * 2; n++) {
    const at = started + n * 500;
    if (at > Date.now()) await new Promise((r) => setTimeout(r, at - Date.now()));
    sends.push(
      httpClient(collector, ledger.fleet, {
        userAgent: FLEET_USER_AGENTS[Math.floor(n / 2) % 2]!,
        address: fleetAddress(n),
        views: 1,
        login: null,
        pages,
      }),
    );
  }
  await Promise.all(sends);
}

/** Listed clients: every corpus user agent unedited and the scripted ones, 1 to 3 page views each. */
export async function runListed(
  collector: string,
  pages: string,
  ledger: Ledger,
  token: (user: string) => string,
): Promise<void> {
  const random = seeded(20);
  const agents = [...BOT_USER_AGENTS, ...SCRIPTED_USER_AGENTS];
  await pool(
    agents.map((userAgent, i) => ({ userAgent, i })),
    8,
    async ({ userAgent, i }) => {
      await httpClient(collector, ledger.listed, {
        userAgent,
        address: `198.19.${200 + Math.floor(i / 50)}.${1 + (i % 50)}`,
        views: 1 + Math.floor(random() * 3),
        login: i % 10 === 0 ? token(`listed-${i}`) : null,
        pages,
      });
    },
  );
}

/** The browser labels: people (one Chromium), automation (another). */
export async function runBrowserGroups(
  app: PageServer,
  size: MixSize,
  ledger: Ledger,
  token: (user: string) => string,
  log: (line: string) => void,
): Promise<void> {
  const random = seeded(7);
  const views = () => 1 + Math.floor(random() * 5);
  const people: BrowserPlan[] = Array.from({ length: size.people }, (_, i) => ({
    group: 'people',
    key: `p${i}`,
    userAgent: PEOPLE_USER_AGENTS[i % PEOPLE_USER_AGENTS.length]!,
    address: `198.18.${i}.10`,
    visits: [views(), views()],
    login: i % 5 === 0,
    referrer: i % 3 === 0 ? 'https://www.google.com/' : null,
  }));
  const webdriver: BrowserPlan[] = Array.from({ length: size.webdriver }, (_, i) => ({
    group: 'webdriver',
    key: `w${i}`,
    userAgent: PEOPLE_USER_AGENTS[i % PEOPLE_USER_AGENTS.length]!,
    address: `198.19.${i}.20`,
    visits: [views(), views()],
    login: i % 4 === 0,
    referrer: null,
  }));
  const headless: BrowserPlan[] = Array.from({ length: size.headless }, (_, i) => ({
    group: 'headless',
    key: `h${i}`,
    userAgent: null,
    address: `198.19.${100 + i}.20`,
    visits: [views()],
    login: i % 5 === 0,
    referrer: null,
  }));
  const person = await launchBrowser(false);
  try {
    const t = performance.now();
    await runBrowsers(person, people, app, ledger, token, size.concurrency);
    log(`people: ${people.length} browsers in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  } finally {
    await person.close().catch(() => {});
  }
  const driven = await launchBrowser(true);
  try {
    const t = performance.now();
    await runBrowsers(driven, [...webdriver, ...headless], app, ledger, token, size.concurrency);
    log(
      `automation: ${webdriver.length + headless.length} browsers in ${((performance.now() - t) / 1000).toFixed(0)} s`,
    );
  } finally {
    await driven.close().catch(() => {});
  }
}
