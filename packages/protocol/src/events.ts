/**
 * The `POST /v1/events` body: types and the parser. Bad input is data (`{ ok: false, … }`) with a
 * message that says what is wrong; the parser never throws, whatever JSON value it is given.
 */

import { toDeviceId } from './device-id.js';
import { isConsentDenied } from './names.js';
import type { OnNormalised } from './text-normalisation.js';
import { DEFAULT_QUERY_ALLOWLIST, MAX_HOST_LENGTH, storedPageUrl, storedReferrer } from './url-rules.js';
import { isConstantUuid, isUuid } from './uuid-v7.js';

/** Largest accepted body, bytes (64 KiB). A literal: esbuild keeps an unused `64 * 1024` in bundles. */
export const MAX_BODY_BYTES = 65_536;
/** Most events in one request. */
export const MAX_EVENTS_PER_REQUEST = 100;
/** Latest client clock accepted, Unix ms (the largest time a `Date` holds). */
export const MAX_EVENT_TS = 8.64e15;
/** Event types a client may send. */
export const CLIENT_EVENT_TYPES = ['pageview'] as const;
/** Record types the collector writes to its queue itself; refused from clients. */
export const INTERNAL_RECORD_TYPES = [
  'link',
  'alias',
  'edge',
  'unjoin',
  'forget-edges',
  'erase',
  'session',
] as const;

/** A page view as a client sends it. */
export interface PageviewInput {
  type: 'pageview';
  url: string;
  referrer?: string;
  /** Event id (UUID; the SDK sends UUIDv7), reused on retry so the event counts once. */
  id?: string;
  /** Client clock, Unix milliseconds. */
  ts?: number;
}

/** A page view after the contract's URL rules: what is queued and stored. */
export interface PageviewEvent {
  type: 'pageview';
  /** Stored form of the URL (`storedPageUrl`). */
  url: string;
  /** Referrer origin (`storedReferrer`), or null. */
  referrer: string | null;
  /** Event id (lower-case UUID), or null when the client sent none (the server then makes one). */
  id: string | null;
  /** Client clock, Unix milliseconds, or null. */
  clientTs: number | null;
}

/** The events body after parsing. */
export interface EventsBody {
  /** A valid `deviceId` from the body (beacons cannot set headers), else null. */
  deviceId: string | null;
  /** True when the body says `"consent":"denied"` (any case, like the header). */
  consentDenied: boolean;
  events: PageviewEvent[];
}

/** Why a body was refused; `code` is the HTTP error code to answer with (400). */
export interface BodyError {
  code:
    | 'DL_INVALID_BODY'
    | 'DL_NO_EVENTS'
    | 'DL_TOO_MANY_EVENTS'
    | 'DL_INVALID_EVENT'
    | 'DL_EVENT_TYPE_REFUSED'
    | 'DL_INVALID_URL';
  message: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: BodyError };

export interface ParseOptions {
  /** Query parameters kept in stored URLs; default the five `utm_*`. */
  queryAllowlist?: readonly string[];
  /** Told of each URL, referrer or query value made well-formed or cut (a metric counts them). */
  onNormalised?: OnNormalised;
}

const fail = (code: BodyError['code'], message: string): { ok: false; error: BodyError } => ({
  ok: false,
  error: { code, message },
});

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses a decoded JSON body (or the text of a `text/plain` beacon) into events.
 *
 * @example
 * const r = parseEventsBody(JSON.parse(text));
 * if (!r.ok) reply.code(400).send(r.error);
 */
export function parseEventsBody(input: unknown, options: ParseOptions = {}): ParseResult<EventsBody> {
  let body = input;
  if (typeof body === 'string') {
    const parsed = parseJsonText(body);
    if (!parsed.ok) return parsed;
    body = parsed.value;
  }
  if (!isObject(body)) return fail('DL_INVALID_BODY', 'body must be a JSON object with an "events" array');
  const { events } = body;
  if (!Array.isArray(events)) return fail('DL_INVALID_BODY', '"events" must be an array');
  if (events.length === 0) return fail('DL_NO_EVENTS', '"events" must hold at least one event');
  if (events.length > MAX_EVENTS_PER_REQUEST) {
    return fail(
      'DL_TOO_MANY_EVENTS',
      `at most ${MAX_EVENTS_PER_REQUEST} events per request, got ${events.length}`,
    );
  }
  if (body.consent !== undefined && typeof body.consent !== 'string') {
    return fail('DL_INVALID_BODY', '"consent" must be a string');
  }
  const rules: UrlOptions = {
    allowlist: options.queryAllowlist ?? DEFAULT_QUERY_ALLOWLIST,
    onNormalised: options.onNormalised,
  };
  const out: PageviewEvent[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < events.length; i++) {
    const r = parseEvent(events[i], i, rules);
    if (!r.ok) return r;
    // The same id twice in one batch is one event (a retry merged into a batch).
    if (r.value.id !== null) {
      if (seen.has(r.value.id)) continue;
      seen.add(r.value.id);
    }
    out.push(r.value);
  }
  return {
    ok: true,
    value: {
      deviceId: toDeviceId(body.deviceId),
      consentDenied: isConsentDenied(body.consent),
      events: out,
    },
  };
}

/** Why a body with `__proto__`, or `constructor` holding `prototype`, anywhere in it is refused. */
export const POISONED_BODY_MESSAGE =
  'body contains a forbidden key ("__proto__", or "constructor" with "prototype"); remove it';

/**
 * Parses JSON text the way Fastify's JSON body parser does (secure-json-parse, protoAction and
 * constructorAction `error`): a `__proto__` key, or a `constructor` key whose object has a `prototype`
 * key, anywhere in the document, refuses the whole text. The `text/plain` beacon path uses this, so a
 * beacon and a JSON request are refused for the same inputs (docs/protocol.md, HTTP API).
 *
 * @example
 * const r = parseJsonText('{"__proto__":{"x":1}}'); // { ok: false, error: { code: 'DL_INVALID_BODY', … } }
 */
export function parseJsonText(text: string): ParseResult<unknown> {
  let poisoned = false;
  let value: unknown;
  try {
    value = JSON.parse(text, (key: string, v: unknown) => {
      if (key === '__proto__') poisoned = true;
      else if (key === 'constructor' && isObject(v) && Object.hasOwn(v, 'prototype')) poisoned = true;
      return v;
    });
  } catch {
    return fail('DL_INVALID_BODY', 'body is not valid JSON');
  }
  if (poisoned) return fail('DL_INVALID_BODY', POISONED_BODY_MESSAGE);
  return { ok: true, value };
}

interface UrlOptions {
  allowlist: readonly string[];
  onNormalised: OnNormalised | undefined;
}

function parseEvent(e: unknown, i: number, rules: UrlOptions): ParseResult<PageviewEvent> {
  const at = `events[${i}]`;
  if (!isObject(e)) return fail('DL_INVALID_EVENT', `${at} must be an object`);
  if (typeof e.type !== 'string') return fail('DL_INVALID_EVENT', `${at}.type must be a string`);
  if ((INTERNAL_RECORD_TYPES as readonly string[]).includes(e.type)) {
    return fail(
      'DL_EVENT_TYPE_REFUSED',
      `${at}.type "${e.type}" is an internal record type; clients send "pageview"`,
    );
  }
  if (e.type !== 'pageview') {
    return fail(
      'DL_EVENT_TYPE_REFUSED',
      `${at}.type "${e.type.slice(0, 40)}" is unknown; only "pageview" is accepted`,
    );
  }
  const url = parseUrlField(e.url, `${at}.url`, rules);
  if (!url.ok) return url;
  let referrer: string | null = null;
  if (e.referrer !== undefined && e.referrer !== null && e.referrer !== '') {
    if (typeof e.referrer !== 'string') return fail('DL_INVALID_EVENT', `${at}.referrer must be a string`);
    referrer = storedReferrer(e.referrer, rules.onNormalised);
  }
  let id: string | null = null;
  if (e.id !== undefined) {
    if (!isUuid(e.id)) return fail('DL_INVALID_EVENT', `${at}.id must be a UUID`);
    // A constant id would be shared by every client that picks it: one subject's page view with it is
    // kept, and anyone could squat it (docs/protocol.md, Persistence). Fresh ids only.
    if (isConstantUuid(e.id)) {
      return fail(
        'DL_INVALID_EVENT',
        `${at}.id is the nil UUID or another constant id (one hex digit repeated); send a fresh UUIDv7 per event`,
      );
    }
    id = e.id.toLowerCase();
  }
  let clientTs: number | null = null;
  if (e.ts !== undefined) {
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || e.ts < 0 || e.ts > MAX_EVENT_TS) {
      return fail('DL_INVALID_EVENT', `${at}.ts must be Unix milliseconds`);
    }
    clientTs = Math.floor(e.ts);
  }
  return { ok: true, value: { type: 'pageview', url: url.value, referrer, id, clientTs } };
}

function parseUrlField(value: unknown, at: string, rules: UrlOptions): ParseResult<string> {
  if (typeof value !== 'string' || value === '') {
    return fail('DL_INVALID_EVENT', `${at} must be a non-empty string`);
  }
  // Over-long and ill-formed URLs are kept, normalised; one that names no page is refused.
  const stored = storedPageUrl(value, rules.allowlist, rules.onNormalised);
  if (stored === null) {
    return fail(
      'DL_INVALID_URL',
      `${at} must be an http(s) URL or a path (with a host of at most ${MAX_HOST_LENGTH} characters)`,
    );
  }
  return { ok: true, value: stored };
}
