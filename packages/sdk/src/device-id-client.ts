/**
 * The device id as the browser knows it (docs/protocol.md, SDK):
 * - the stored id wins; with none stored, an id is minted at once, stored and used from the first
 *   request; it is fresh (`X-Device-Fresh: 1`) until the collector answers a request that carried it;
 * - a fresh id yields to the collector's cookie: when the echo for a request that carried it differs,
 *   the echo is adopted (the browser lost only localStorage); a fresh id echoed back is answered;
 * - where localStorage is unusable nothing is minted and the collector's echo is adopted: the cookie
 *   alone carries the device;
 * - any other echo is never adopted: a request made with an expired token (no header) or an old id
 *   never swaps a device's id; invalid and junk ids are never adopted;
 * - under `pending` or `denied` consent, and without `window` (server-side rendering), there is no id:
 *   nothing is read, minted or stored.
 */
import { CONSENT_DENIED, CONSENT_HEADER, DEVICE_HEADER, FRESH_HEADER } from '@devicelink/protocol';
import type { Consent } from './consent.js';
import { toDeviceId } from './device-id-rule.js';
import { FRESH_KEY, ID_KEY, type IdStorage, PENDING_KEY } from './id-storage.js';
import { mintDeviceId } from './mint-id.js';

/**
 * How the current id came: `minted` here on this page load, `stored` from an earlier one, `cookie`
 * (a minted id yielded to the collector's cookie: this browser had lost only localStorage), `collector`
 * (localStorage unusable: the id the collector echoed, from its cookie or newly made).
 */
export type DeviceIdSource = 'minted' | 'stored' | 'cookie' | 'collector';

/** The device id state of one DeviceLink. */
export interface DeviceIdClient {
  /** The id to send right now, or null (consent, no window, a reset under way, none adopted yet). */
  current(): string | null;
  /** How the current id came, or null while there is none. */
  source(): DeviceIdSource | null;
  /** True when `id` is the current id and still fresh. */
  isFresh(id: string | null): boolean;
  /**
   * The headers of a request carrying `id` (or none) under `consent` (default the current one): the
   * consent header unless granted, the device header, and `X-Device-Fresh: 1` while `id` is fresh.
   */
  requestHeaders(id: string | null, consent?: Consent): Record<string, string>;
  /** Resolves when no reset is under way (sends wait for it, so they never go with no id). */
  ready(): Promise<void>;
  /** Offers an id echoed by the collector for a request that carried `sent` (the header it sent). */
  adopt(echoed: unknown, sent: unknown): void;
  /** The current consent. */
  consent(): Consent;
  /** Changes consent; leaving `granted` forgets the id and answers it (read, never minted), else null. */
  setConsent(consent: Consent): string | null;
  /**
   * Replaces the id (reset, forget): forgets it, runs `work` with the old one (no id is sent meanwhile),
   * then mints a new id that is never fingerprinted. Without consent it only runs `work` with null.
   * `work` answers failures as values (the identity requests do): it never rejects.
   */
  replaceId<T>(work: (old: string | null) => Promise<T>): Promise<T>;
}

/**
 * Creates the client. Does nothing until first used: storage is read (and an id minted) on the first
 * `current()` under granted consent with a `window`. `evidence(id)` is called for an id minted on a
 * first visit (or after storage was lost), now or on a later page load while its evidence is pending.
 */
export function createDeviceIdClient(
  initial: Consent,
  storage: IdStorage,
  evidence: (id: string) => void,
): DeviceIdClient {
  let consent = initial;
  let id: string | null = null;
  let fresh = false;
  let src: DeviceIdSource | null = null;
  let started = false;
  let blocked: Promise<unknown> | undefined;

  const mint = (fingerprint: boolean) => {
    const next = mintDeviceId();
    // Unusable storage: mint nothing, the collector's echo (its cookie) is the id.
    if (!storage.set(ID_KEY, next)) return;
    id = next;
    fresh = true;
    src = 'minted';
    storage.set(FRESH_KEY, next);
    if (fingerprint) {
      storage.set(PENDING_KEY, next);
      evidence(next);
    }
  };
  const forget = () => {
    storage.remove(ID_KEY, FRESH_KEY, PENDING_KEY);
    id = src = null;
    fresh = started = false;
  };
  // Server-side rendering: no window, no id, and storage is never touched.
  const browser = () => !!globalThis.window;
  // Only an id is ever fresh: `fresh` is set with one and cleared when it goes.
  const isFresh = (sent: string | null) => fresh && sent === id;
  const start = () => {
    if (consent !== 'granted' || !browser() || blocked) return false;
    if (!started) {
      started = true;
      id = toDeviceId(storage.get(ID_KEY));
      if (id) {
        src = 'stored';
        fresh = storage.get(FRESH_KEY) === id;
        if (storage.get(PENDING_KEY) === id) evidence(id);
      } else mint(true);
    }
    return true;
  };

  return {
    current: () => (start() ? id : null),
    source: () => (start() ? src : null),
    isFresh,
    requestHeaders(sent, given = consent) {
      // The denial header unless consent is granted.
      const headers: Record<string, string> = given === 'granted' ? {} : { [CONSENT_HEADER]: CONSENT_DENIED };
      if (sent) headers[DEVICE_HEADER] = sent;
      if (isFresh(sent)) headers[FRESH_HEADER] = '1';
      return headers;
    },
    ready: async () => {
      while (blocked) await blocked;
    },
    adopt(echoed, sent) {
      const echo = toDeviceId(echoed);
      if (!echo || !start()) return;
      // Usable storage always holds an id once started: none, or one taken from the collector, means
      // the cookie alone carries the device. Then the echo is taken unless the request carried another id.
      if (!id || src === 'collector') {
        if (!id || sent === id) {
          id = echo;
          src = 'collector';
        }
      } else if (fresh && sent === id) {
        fresh = false;
        storage.remove(FRESH_KEY);
        if (echo !== id) {
          // The cookie won: this browser is known, its fingerprint is not needed as evidence.
          storage.remove(PENDING_KEY);
          storage.set(ID_KEY, echo);
          id = echo;
          src = 'cookie';
        }
      }
    },
    consent: () => consent,
    setConsent(next) {
      let old: string | null = null;
      if (consent === 'granted' && next !== 'granted' && browser()) {
        old = started ? id : toDeviceId(storage.get(ID_KEY));
        forget();
      }
      consent = next;
      return old;
    },
    async replaceId(work) {
      // Checked without awaiting when free, so two resets in one tick run one after the other.
      while (blocked) await blocked;
      const granted = start();
      const old = id;
      if (granted) forget();
      // What others wait for is the work itself, started a microtask later, once it is waited for; the
      // new id is minted before they resume.
      const done = Promise.resolve(old)
        .then(work)
        .finally(() => {
          blocked = undefined;
          if (granted && consent === 'granted') {
            started = true;
            mint(false);
          }
        });
      blocked = done;
      return done;
    },
  };
}
