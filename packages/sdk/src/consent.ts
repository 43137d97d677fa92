/** Consent states (docs/protocol.md, SDK). */

/**
 * `granted` (the default): fingerprint, store and send. `pending`: page views wait in memory and are sent
 * on grant. `denied`: page views are dropped. Under `pending` and `denied` no fingerprint code is loaded,
 * nothing is stored and requests carry `X-Device-Consent: denied`.
 */
export type Consent = 'granted' | 'pending' | 'denied';
