/**
 * What the demo itself remembers in localStorage: the signed-in user's token and the visitor's consent
 * choice. (The SDK keeps the device id under its own key, `devicelink:device-id`.) A consent choice is
 * kept even when it is "denied": remembering the refusal is what stops tracking on the next visit.
 */
import type { Consent } from '@devicelink/sdk';

const TOKEN_KEY = 'devicelink-demo:token';
const CONSENT_KEY = 'devicelink-demo:consent';

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    // Blocked storage (privacy settings): the demo simply forgets between visits.
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // See read().
  }
}

/** The signed-in user's access token, or null. */
export const storedToken = (): string | null => read(TOKEN_KEY);

/** Remembers (or, with null, forgets) the access token. */
export const storeToken = (token: string | null): void => write(TOKEN_KEY, token);

/** The remembered consent choice; `granted` (the SDK's default) when none was made. */
export function storedConsent(): Consent {
  const value = read(CONSENT_KEY);
  return value === 'denied' || value === 'pending' ? value : 'granted';
}

/** Remembers the consent choice. */
export const storeConsent = (consent: Consent): void => write(CONSENT_KEY, consent);

/** Whether the SDK has a device id stored (the demo shows it; it never writes that key). */
export function sdkIdStored(): boolean {
  return read('devicelink:device-id') !== null;
}
