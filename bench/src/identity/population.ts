/**
 * Who the simulated browsers are: groups of identical settings (one browser build gives identical
 * canvas, WebGL, audio and fonts, so these produce one visitorId) and distinct ones, each on a network
 * (a /24 seen through `X-Forwarded-For`), each with the role it plays in the scenarios.
 */
import type { DeviceSettings } from './sim-browser.js';

/** What a browser is there to test. */
export type Role =
  /** Return visits only. */
  | 'return'
  /** localStorage cleared (cookie kept): the minted id must yield to the cookie. */
  | 'ls-cleared'
  /** Cookies cleared (localStorage kept): the stored id wins, the cookie is set again. */
  | 'cookies-cleared'
  /** Both stores cleared with the page closed: the fingerprint must join the new id to the old device. */
  | 'both-cleared'
  /** Screen, time zone or locale changed with storage kept. */
  | 'screen-changed'
  | 'timezone-changed'
  | 'locale-changed'
  /** Identical twins on one network: `twin-a` visits first, `twin-b` arrives later and logs in. */
  | 'twin-a'
  | 'twin-b';

/** One browser to simulate. */
export interface BrowserPlan {
  key: string;
  role: Role;
  population: 'identical-apart' | 'distinct' | 'twins' | 'throttled' | 'cross-site';
  settingsGroup: string;
  settings: DeviceSettings;
  /** The /24 network, e.g. `10.2.7`; `host` is the last octet. */
  network: string;
  host: number;
  twin: string | null;
  cpuRate: number;
  crossSite: boolean;
  /** The user it logs in as (twins' second browser, during the merge window). */
  userId: string | null;
}

const SHARED: Record<string, DeviceSettings> = {
  office: {
    width: 1920,
    height: 1080,
    pixelRatio: 1,
    timezone: 'Europe/Berlin',
    locale: 'de-DE',
    touch: false,
    cores: 8,
  },
  laptop: {
    width: 1440,
    height: 900,
    pixelRatio: 2,
    timezone: 'America/New_York',
    locale: 'en-US',
    touch: false,
    cores: 8,
  },
  phone: {
    width: 390,
    height: 844,
    pixelRatio: 3,
    timezone: 'America/Los_Angeles',
    locale: 'en-US',
    touch: true,
    cores: 6,
  },
  tablet: {
    width: 820,
    height: 1180,
    pixelRatio: 2,
    timezone: 'Europe/Paris',
    locale: 'fr-FR',
    touch: true,
    cores: 8,
  },
};

const ZONES = ['Asia/Tokyo', 'Europe/London', 'America/Chicago', 'Australia/Sydney', 'America/Sao_Paulo'];
const LOCALES = ['ja-JP', 'en-GB', 'es-MX', 'en-AU', 'pt-BR', 'it-IT', 'nl-NL'];

/** Settings no other browser of the run has (a screen width of its own, among others). */
function distinct(i: number): DeviceSettings {
  return {
    width: 1200 + 24 * i,
    height: 700 + 12 * i,
    pixelRatio: [1, 1.25, 1.5, 2][i % 4]!,
    timezone: ZONES[i % ZONES.length]!,
    locale: LOCALES[i % LOCALES.length]!,
    touch: i % 3 === 0,
    cores: [2, 4, 6, 12, 16][i % 5]!,
  };
}

/** The settings after a `*-changed` role's change. */
export function changedSettings(role: Role, s: DeviceSettings): DeviceSettings {
  if (role === 'screen-changed')
    return { ...s, width: s.width + 300, height: s.height + 100, pixelRatio: 2.5 };
  if (role === 'timezone-changed') return { ...s, timezone: 'Pacific/Auckland' };
  if (role === 'locale-changed') return { ...s, locale: 'sv-SE' };
  return s;
}

/** The browsers of a run; `scale` multiplies every population (1 quick, 2 full). */
export function population(scale: number): BrowserPlan[] {
  const plans: BrowserPlan[] = [];
  let unique = 0;
  const add = (
    p: Omit<BrowserPlan, 'key' | 'twin' | 'userId' | 'cpuRate' | 'crossSite'> & Partial<BrowserPlan>,
  ) => {
    plans.push({
      key: `${p.population}-${plans.filter((x) => x.population === p.population).length + 1}`,
      twin: null,
      userId: null,
      cpuRate: 1,
      crossSite: false,
      ...p,
    });
  };
  const rolesOf = (mix: [Role, number][]) => mix.flatMap(([role, n]) => Array<Role>(n * scale).fill(role));

  // Identical browsers, each on its own network: joins must find the one on the same network only.
  for (const [i, role] of rolesOf([
    ['ls-cleared', 3],
    ['cookies-cleared', 3],
    ['both-cleared', 4],
    ['return', 2],
  ]).entries()) {
    add({
      role,
      population: 'identical-apart',
      settingsGroup: 'office',
      settings: SHARED.office!,
      network: `10.2.${i}`,
      host: 10,
    });
  }
  // Distinct browsers, several on each of two office networks.
  for (const [i, role] of rolesOf([
    ['both-cleared', 4],
    ['screen-changed', 1],
    ['timezone-changed', 1],
    ['locale-changed', 1],
    ['ls-cleared', 2],
    ['cookies-cleared', 2],
    ['return', 1],
  ]).entries()) {
    const n = unique++;
    add({
      role,
      population: 'distinct',
      settingsGroup: `distinct-${n}`,
      settings: distinct(n),
      network: `10.3.${i % 2}`,
      host: 20 + i,
    });
  }
  // Twins: two identical browsers on one network; pairs of one group sit on different networks.
  for (let p = 0; p < 4 * scale; p++) {
    const group = p % 2 === 0 ? 'phone' : 'laptop';
    const network = `10.1.${p}`;
    const a = `twins-${2 * p + 1}`;
    const b = `twins-${2 * p + 2}`;
    add({
      role: 'twin-a',
      population: 'twins',
      settingsGroup: group,
      settings: SHARED[group]!,
      network,
      host: 10,
      twin: b,
    });
    add({
      role: 'twin-b',
      population: 'twins',
      settingsGroup: group,
      settings: SHARED[group]!,
      network,
      host: 11,
      twin: a,
      userId: `user-${b}`,
    });
  }
  // First visits and the clearing of both stores at 6x CPU throttling.
  for (let i = 0; i < 6 * scale; i++) {
    const same = i % 2 === 0;
    const n = same ? 0 : unique++;
    add({
      role: 'both-cleared',
      population: 'throttled',
      settingsGroup: same ? 'tablet' : `distinct-${n}`,
      settings: same ? SHARED.tablet! : distinct(n),
      network: `10.5.${i}`,
      host: 10,
      cpuRate: 6,
    });
  }
  // The collector on another site than the app (localhost vs 127.0.0.1).
  for (const [i, role] of rolesOf([
    ['ls-cleared', 3],
    ['cookies-cleared', 2],
    ['both-cleared', 3],
  ]).entries()) {
    add({
      role,
      population: 'cross-site',
      settingsGroup: 'laptop',
      settings: SHARED.laptop!,
      network: `10.4.${i}`,
      host: 10,
      crossSite: true,
    });
  }
  return plans;
}
