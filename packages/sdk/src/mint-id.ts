/**
 * A new device id: 128 random bits from `crypto.getRandomValues`, base64url (22 characters), valid by
 * the protocol's id rules (docs/protocol.md, Device id). Never derived from the browser: two identical
 * devices get different ids.
 */
import { toDeviceId } from './device-id-rule.js';

/** Mints an id. */
export function mintDeviceId(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
    // One character repeated 22 times is refused by the rules; 2^-122 of draws, so the loop never spins.
    if (toDeviceId(id)) return id;
  }
}
