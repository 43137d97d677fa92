/**
 * Writes the demo's state into the page (the markup lives in index.html). Text only, never HTML from
 * the network: ids and user names go through `textContent`.
 */
import type { DeviceIdSource } from '@devicelink/sdk';
import type { Route } from './router.js';

/** What `GET /v1/session` answers (docs/protocol.md, HTTP API). */
export interface SessionAnswer {
  deviceId: string | null;
  source: string | null;
  /** The collector joined this id to the browser's earlier device by its fingerprint (inferred). */
  joined?: boolean;
  /** Times are ISO 8601 strings (docs/protocol.md: times in every answer). */
  session: { id: string; pagesVisited: number; firstSeen: string; lastSeen: string } | null;
}

const PAGES: Record<string, { heading: string; text: string }> = {
  '': {
    heading: 'Welcome',
    text: 'Move between Home, Pricing and About: every client-side navigation is a page view, counted in this device’s anonymous session. Log in to see the session converted.',
  },
  pricing: {
    heading: 'Pricing',
    text: 'Free while you self-host it. One Redis, one Postgres, or nothing at all for a first look.',
  },
  about: {
    heading: 'About',
    text: 'devicelink gives every browser a stable device id, tracks its anonymous sessions and links them to the user at login.',
  },
};

const $ = (id: string) => document.getElementById(id) as HTMLElement;

function setText(id: string, text: string): void {
  $(id).textContent = text;
}

function when(iso: string): string {
  const ms = Date.parse(iso);
  const ago = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return `${new Date(ms).toLocaleTimeString()} (${ago < 60 ? `${ago} s` : `${Math.round(ago / 60)} min`} ago)`;
}

/** Shows `route`'s content and marks its menu link. */
export function renderRoute(route: Route): void {
  const page = PAGES[route.path] ?? PAGES['']!;
  const section = $('page');
  section.replaceChildren();
  const h1 = document.createElement('h1');
  h1.textContent = page.heading;
  const p = document.createElement('p');
  p.textContent = page.text;
  section.append(h1, p);
  document.title = `${page.heading} · devicelink demo`;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a[data-route]')) {
    if (link.dataset.route === route.path) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

// How the SDK got its id (`deviceIdSource()`), in words.
const HOW: Record<DeviceIdSource, string> = {
  minted: 'minted here: a first visit (or both stores cleared)',
  stored: 'stored by an earlier visit',
  cookie: "restored from the collector's cookie (localStorage had been cleared)",
  collector: "the collector's answer (no usable localStorage)",
};

/**
 * Shows the id the SDK holds, whether it is stored, and how it came; `joined` is the collector's word
 * (`GET /v1/session`) that it joined this id to the browser's earlier device by its fingerprint.
 */
export function renderDevice(
  deviceId: string | null,
  stored: boolean,
  how: DeviceIdSource | null,
  joined = false,
): void {
  setText('device-id', deviceId ?? 'none');
  setText('device-stored', stored ? 'yes' : 'no');
  const came = how ? HOW[how] : '–';
  setText(
    'device-how',
    joined
      ? `${came}; joined by the collector to an earlier device with the same fingerprint on this network (inferred: undone if that device is seen again)`
      : came,
  );
}

/** Shows the collector's view of this device, or why there is none. */
export function renderSession(answer: SessionAnswer | null, why: string): void {
  const source = $('device-source');
  // No source is expected while signed in or without consent (no device header goes out); red only
  // when the collector did not answer.
  source.textContent = answer ? (answer.source ?? 'no device id sent') : '–';
  source.classList.toggle('off', !answer);
  const s = answer?.session ?? null;
  setText('session-pages', s ? String(s.pagesVisited) : '–');
  setText('session-id', s ? s.id : 'none');
  setText('session-first', s ? when(s.firstSeen) : '–');
  setText('session-last', s ? when(s.lastSeen) : '–');
  setText('session-note', why);
}

/** Shows the login form, or who is signed in. */
export function renderAccount(user: string | null, linkedSession?: string | null): void {
  $('login-form').hidden = user !== null;
  $('account').hidden = user === null;
  setText('user', user ?? '');
  if (linkedSession !== undefined) setText('identify-session', linkedSession ?? 'none (no live session)');
}

/** Shows the consent switch's state. */
export function renderConsent(consent: string): void {
  ($('consent-switch') as HTMLInputElement).checked = consent === 'granted';
  setText('consent-state', consent);
}

/** A message under the account card (errors; empty clears it). */
export function renderStatus(message: string): void {
  setText('status', message);
}

const log: string[] = [];

/** Prepends one line to the request log (the last 8 are kept). */
export function logRequest(line: string): void {
  log.unshift(`${new Date().toLocaleTimeString()}  ${line}`);
  log.length = Math.min(log.length, 8);
  const list = $('log');
  list.replaceChildren(
    ...log.map((text) => {
      const li = document.createElement('li');
      li.textContent = text;
      return li;
    }),
  );
}
