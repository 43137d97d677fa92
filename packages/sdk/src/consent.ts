/** Consent states (docs/protocol.md, SDK). */
import { CONSENT_DENIED, CONSENT_HEADER } from '@devicelink/protocol';

/**
 * `granted` (the default): fingerprint, store and send. `pending`: page views wait in memory and are sent
 * on grant. `denied`: page views are dropped. Under `pending` and `denied` no fingerprint code is loaded,
 * nothing is stored and requests carry `X-Device-Consent: denied`.
 */
export type Consent = 'granted' | 'pending' | 'denied';

/** Headers a request carries for `consent`: the denial header unless consent is granted. */
export function consentHeaders(consent: Consent): Record<string, string> {
  return consent === 'granted' ? {} : { [CONSENT_HEADER]: CONSENT_DENIED };
}
