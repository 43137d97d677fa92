/**
 * The device id as the browser knows it (../shared/CONTRACT.md, SDK):
 * - the stored id wins, and no fingerprint is computed while one is stored;
 * - with none stored, an id echoed by the server is adopted at once but is provisional (kept in memory),
 *   and the fingerprint replaces it when it finishes (the next request carries it, the collector records
 *   the alias); if the fingerprint fails, the echo is the best id there is and is stored;
 * - an echo is adopted only when nothing is stored or the request carried the stored id, so a request made
 *   with an expired token never swaps a device's id; invalid and junk ids are never adopted;
 * - under `pending` or `denied` consent there is no id: nothing is read, fingerprinted or stored.
 */
import { toDeviceId } from '@devicelink/protocol';
import type { Consent } from './consent.js';
import { createFingerprint, type FingerprintResult } from './fingerprint.js';
import { createIdStorage, type IdStorage } from './id-storage.js';

/** The device id state of one DeviceLink. */
export interface DeviceIdClient {
  /** The id known right now (stored, fingerprinted or provisional), or null. Never waits. */
  current(): string | null;
  /**
   * The id once the first fingerprint is done, waiting for it at most `waitMs` (a budget shared by all
   * calls: after it has passed, calls answer at once with what is known).
   */
  ready(waitMs: number): Promise<string | null>;
  /** Offers an id echoed by the server for a request that carried `sent` (the header it sent, if any). */
  adopt(echoed: unknown, sent: unknown): void;
  /** The current consent. */
  consent(): Consent;
  /** Changes consent; leaving `granted` forgets and unstores the id. */
  setConsent(consent: Consent): void;
}

/**
 * Creates the client. Does nothing until first used: storage is read and the fingerprint started on the
 * first `current()`, `ready()` or `adopt()` under granted consent.
 */
export function createDeviceIdClient(
  initial: Consent,
  storage: IdStorage = createIdStorage(),
  fingerprint: () => Promise<FingerprintResult> = createFingerprint(),
): DeviceIdClient {
  let consent = initial;
  let id: string | null = null;
  let provisional = false;
  let started = false;
  let fingerprintDone = false;
  let run: Promise<void> | undefined;
  let wait: Promise<unknown> | undefined;

  const save = (value: string) => {
    id = value;
    provisional = false;
    storage.write(value);
  };
  const stored = () => (provisional ? null : id);

  const start = () => {
    if (consent !== 'granted') return false;
    if (!started) {
      started = true;
      id = storage.read();
    }
    if (!stored()) {
      run ??= fingerprint().then((r) => {
        fingerprintDone = true;
        if (consent !== 'granted' || stored()) return;
        const next = ('id' in r && toDeviceId(r.id)) || id;
        if (next) save(next);
      });
    }
    return true;
  };

  return {
    current: () => (start() ? id : null),
    async ready(waitMs) {
      if (start() && run && !fingerprintDone) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        wait ??= Promise.race([run, new Promise((r) => (timer = setTimeout(r, waitMs)))]).finally(() =>
          clearTimeout(timer),
        );
        await wait;
      }
      return this.current();
    },
    adopt(echoed, sent) {
      const echo = toDeviceId(echoed);
      if (!start() || !echo || echo === id) return;
      const kept = stored();
      if (kept) {
        if (sent === kept) save(echo);
      } else if (fingerprintDone) {
        save(echo);
      } else {
        id = echo;
        provisional = true;
      }
    },
    consent: () => consent,
    setConsent(next) {
      if (consent === 'granted' && next !== 'granted') {
        storage.clear();
        id = null;
        provisional = started = fingerprintDone = false;
        run = wait = undefined;
      }
      consent = next;
    },
  };
}
