/**
 * The device id as the browser knows it (docs/protocol.md, SDK):
 * - the stored id wins; with none stored, an id is minted at once and used from the first request; it
 *   is fresh (`X-Device-Fresh: 1`) until the collector answers a request that carried it;
 * - one browser, one id: a minted id is stored only if no other tab stored one first (under a Web Lock
 *   where the browser has one), and every use re-reads localStorage and takes a different stored id
 *   (two tabs opened at once; a reset, or a yield to the cookie, in another tab); the SDK's own sends
 *   wait for the first write, app requests never wait;
 * - a fresh id yields to the collector's cookie: when the echo for a request that carried it differs,
 *   the echo is adopted (the browser lost only localStorage); echoed back, the id stands, and only then
 *   is its fingerprint evidence computed;
 * - where localStorage is unusable nothing is minted and the collector's echo is adopted: the cookie
 *   alone carries the device;
 * - an id minted by reset, forget or a grant after a withdrawal replaces another: it is never fresh, so
 *   it never yields to the old cookie nor adopts an echo, and goes with `X-Device-Replaces: <old id>`
 *   (never in a beacon) until the collector answers a request that carried it with a 2xx;
 * - any other echo is never adopted: a request made with an expired token (no header) or an old id
 *   never swaps a device's id; invalid and junk ids are never adopted;
 * - under `pending` or `denied` consent, under Global Privacy Control (`navigator.globalPrivacyControl`)
 *   unless the user granted consent with `setConsent('granted')`, and without `window` (server-side
 *   rendering), there is no id: nothing is read, minted or stored.
 */
import {
  CONSENT_DENIED,
  CONSENT_GRANTED,
  CONSENT_HEADER,
  DEVICE_HEADER,
  FRESH_HEADER,
  REPLACES_HEADER,
} from '@devicelink/protocol';
import type { Consent } from './consent.js';
import { toDeviceId } from './device-id-rule.js';
import { FRESH_KEY, ID_KEY, type IdStorage, PENDING_KEY, REPLACES_KEY } from './id-storage.js';
import { mintDeviceId } from './mint-id.js';

/**
 * How the current id came: `minted` here on this page load, `stored` from an earlier one (or another
 * tab that stored it first), `cookie`
 * (a minted id yielded to the collector's cookie: this browser had lost only localStorage), `collector`
 * (localStorage unusable: the id the collector echoed, from its cookie or newly made).
 */
export type DeviceIdSource = 'minted' | 'stored' | 'cookie' | 'collector';

/** The device id state of one DeviceLink. */
export interface DeviceIdClient {
  /** The id to send right now, or null (consent, no window, a reset under way, none adopted yet). */
  current_(): string | null;
  /** How the current id came, or null while there is none. */
  source_(): DeviceIdSource | null;
  /**
   * The headers of a request carrying `id` (or none) under `consent` (default the current one): the
   * consent header (`denied` unless granted; `granted` when an explicit grant overrides GPC), the device
   * header, and for the current id `X-Device-Fresh: 1` while fresh and `X-Device-Replaces` while the
   * replacement is unanswered.
   */
  requestHeaders_(id: string | null, consent?: Consent): Record<string, string>;
  /**
   * Resolves when no reset is under way and a first-visit id is written (the SDK's own sends wait for
   * it, so they never go with no id, nor with an id another tab's overrides). Starts the client (reads
   * storage, mints on a first visit) when nothing used the id yet.
   */
  ready_(): Promise<void>;
  /**
   * Offers an id echoed for a request that carried `sent` (the header it sent); `ok` when the collector
   * answered it with a 2xx (which ends the replacement marker).
   */
  adopt_(echoed: unknown, sent: unknown, ok?: boolean): void;
  /** The consent in force: `denied` under Global Privacy Control unless granted by `setConsent`. */
  consent(): Consent;
  /**
   * Changes consent (`granted` here is the user's own grant, which overrides GPC); leaving `granted`
   * forgets the id and answers it (read, never minted), else null. The next grant mints a new id.
   */
  setConsent(consent: Consent): string | null;
  /**
   * Replaces the id (reset, forget): forgets it, runs `work` with the old one (no id is sent meanwhile),
   * then mints a new id that replaces it (above) and is never fingerprinted. Without consent it only
   * runs `work` with null.
   * `work` answers failures as values (the identity requests do): it never rejects.
   */
  replaceId_<T>(work: (old: string | null) => Promise<T>): Promise<T>;
}

/**
 * Creates the client. Does nothing until first used: storage is read (and an id minted) on the first
 * `current_()` under granted consent with a `window`. `evidence(id)` is called for an id minted on a
 * first visit (or after storage was lost) once the collector answered that it stands, then or on a
 * later page load while its evidence is pending.
 */
export function createDeviceIdClient(
  initial: Consent,
  storage: IdStorage,
  evidence: (id: string) => void,
): DeviceIdClient {
  let consent = initial;
  // setConsent('granted'): the user's own grant in the site's consent UI, which overrides GPC.
  let explicit = false;
  let id: string | null = null;
  let fresh = false;
  let src: DeviceIdSource | null = null;
  let started = false;
  let blocked: Promise<unknown> | undefined;
  // The first-visit write under a Web Lock: the SDK's own sends wait for it.
  let claiming: Promise<unknown> | undefined;
  // Ends the hold of the Web Lock after this tab stored its id: called at the id's first answer.
  let answered: (() => void) | undefined;
  // The id the current one replaced (reset, forget, a grant after a withdrawal), until answered 2xx.
  let replaces: string | null = null;
  // After a withdrawal: the id the next grant replaces (null: none known), so it starts a new id.
  let withdrawn: string | null | undefined;

  // Global Privacy Control (https://privacycg.github.io/gpc-spec/): a denial unless the user granted.
  const gpc = () =>
    (globalThis.navigator as { globalPrivacyControl?: unknown } | undefined)?.globalPrivacyControl === true;
  const effective = (): Consent => (consent === 'granted' && !explicit && gpc() ? 'denied' : consent);
  // A stored id, with its state: fresh, or the id it replaced while that is unanswered.
  const take = (other: string) => {
    id = other;
    src = 'stored';
    fresh = storage.get(FRESH_KEY) === other;
    replaces = fresh ? null : toDeviceId(storage.get(REPLACES_KEY));
  };
  // A first visit's id is stored only if no other tab stored one first; else that one is taken.
  const claim = (next: string) => {
    if (id !== next) return;
    const other = toDeviceId(storage.get(ID_KEY));
    if (other && other !== next) take(other);
    else if (storage.set(ID_KEY, next)) {
      storage.set(PENDING_KEY, next);
      if (fresh) storage.set(FRESH_KEY, next);
      // Answered, and it stood, before the lock let this write happen (an app request needs no id
      // written): its evidence was not due then, it is now.
      else evidence(next);
    } else {
      // Unusable storage: nothing minted, the collector's echo (its cookie) is the id.
      id = src = null;
      fresh = false;
    }
  };
  // `replaced` given (reset, forget, re-grant; null when no old id is known): written at once, never
  // fresh, never fingerprinted. Not given (a first visit): fresh, claimed.
  const mint = (replaced?: string | null) => {
    const next = mintDeviceId();
    id = next;
    src = 'minted';
    fresh = replaced === undefined;
    if (fresh) {
      // "Write only if absent", atomic across tabs where the browser has Web Locks; elsewhere written
      // now, and a later write by another tab is taken on the next use while the id is fresh.
      const locks = globalThis.navigator?.locks;
      // The lock is named by the key it guards. Having stored its id, a tab holds it until the
      // collector answered that id (its cookie is then set), at most 5 s: Chromium may grant the lock
      // to another tab before this write reaches that tab's localStorage (seen under load), and that
      // tab's first request then carries the cookie, to which its own fresh id yields (a yield edge
      // ties the two) instead of going out beside this one with no cookie.
      if (locks)
        claiming = new Promise<void>((done) => {
          locks
            .request(ID_KEY, () => {
              claim(next);
              done();
              if (id === next && fresh)
                return new Promise<void>((end) => {
                  answered = end;
                  setTimeout(end, 5000);
                });
            })
            .catch(() => done(claim(next)));
        });
      else claim(next);
    } else {
      // Kept in memory even where storage is unusable: the old cookie must not come back.
      storage.set(ID_KEY, next);
      replaces = replaced!;
      if (replaced) storage.set(REPLACES_KEY, replaced);
    }
  };
  const forget = () => {
    storage.remove(ID_KEY, FRESH_KEY, PENDING_KEY, REPLACES_KEY);
    id = src = replaces = null;
    fresh = started = false;
  };
  // Server-side rendering: no window, no id, and storage is never touched.
  const browser = () => !!globalThis.window;
  const start = () => {
    if (effective() !== 'granted' || !browser() || blocked) return false;
    if (!started) {
      started = true;
      const stored = toDeviceId(storage.get(ID_KEY));
      // A grant after a withdrawal: a new id, never the withdrawn one (nor the cookie's).
      if (withdrawn !== undefined) mint(withdrawn);
      else if (stored) {
        take(stored);
        // Evidence still owed for an id that stood; a fresh one waits for its answer.
        if (!fresh && storage.get(PENDING_KEY) === stored) evidence(stored);
      } else mint();
      withdrawn = undefined;
    } else {
      // One browser, one id: another tab stored another one (two tabs minting at once: the first
      // stored wins; a reset or a yield to the cookie there). Read on every use; nothing waits.
      const other = toDeviceId(storage.get(ID_KEY));
      if (other && other !== id) take(other);
    }
    return true;
  };

  return {
    current_: () => (start() ? id : null),
    source_: () => (start() ? src : null),
    requestHeaders_(sent, given = effective()) {
      const headers: Record<string, string> =
        given !== 'granted'
          ? { [CONSENT_HEADER]: CONSENT_DENIED }
          : gpc()
            ? { [CONSENT_HEADER]: CONSENT_GRANTED }
            : {};
      if (sent) headers[DEVICE_HEADER] = sent;
      // Only an id is ever fresh or a replacement: both are cleared when it goes.
      if (sent === id) {
        if (fresh) headers[FRESH_HEADER] = '1';
        if (replaces) headers[REPLACES_HEADER] = replaces;
      }
      return headers;
    },
    ready_: async () => {
      while (blocked) await blocked;
      // Started here, not at the send's first use of the id: a first visit's id is minted now and its
      // claim waited for (else the first page view went with this tab's own id before the Web Lock
      // decided, under an id no edge ties to the browser when another tab stored first).
      start();
      await claiming;
    },
    adopt_(echoed, sent, ok) {
      if (ok && sent === id && replaces) {
        replaces = null;
        storage.remove(REPLACES_KEY);
      }
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
        answered?.();
        fresh = false;
        storage.remove(FRESH_KEY);
        if (echo !== id) {
          // The cookie won: this browser is known, its fingerprint is not needed as evidence.
          storage.remove(PENDING_KEY);
          storage.set(ID_KEY, echo);
          id = echo;
          src = 'cookie';
          // The id stands: now its evidence is worth computing (not before: it may have yielded).
        } else if (storage.get(PENDING_KEY) === id) evidence(id);
      }
    },
    consent: effective,
    setConsent(next) {
      let old: string | null = null;
      if (effective() === 'granted' && next !== 'granted' && browser()) {
        old = started ? id : toDeviceId(storage.get(ID_KEY));
        withdrawn = replaces || old;
        forget();
      }
      explicit = next === 'granted';
      consent = next;
      return old;
    },
    async replaceId_(work) {
      // Checked without awaiting when free, so two resets in one tick run one after the other.
      while (blocked) await blocked;
      const granted = start();
      const old = id;
      // A replacement not yet answered: the collector's cookie still holds the id it replaced.
      const marker = replaces || old;
      if (granted) forget();
      // What others wait for is the work itself, started a microtask later, once it is waited for; the
      // new id is minted before they resume.
      const done = Promise.resolve(old)
        .then(work)
        .finally(() => {
          blocked = undefined;
          if (granted && effective() === 'granted') {
            started = true;
            mint(marker);
          }
        });
      blocked = done;
      return done;
    },
  };
}
