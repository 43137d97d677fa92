/**
 * `corsOptions()`: the app's @fastify/cors options with what devicelink needs merged in, so the SDK's
 * header may be sent and read, its DELETE requests (`reset()`, `forget()`, consent withdrawal) pass
 * their preflight, and the cookie travels cross-origin.
 */
import { CONSENT_HEADER, DEVICE_HEADER, FRESH_HEADER, REPLACES_HEADER } from '@devicelink/protocol';

/** The subset of @fastify/cors options this helper touches; everything else passes through. */
export interface CorsHeaderOptions {
  methods?: string | string[];
  allowedHeaders?: string | string[];
  exposedHeaders?: string | string[];
  credentials?: boolean;
}

/** The app's options with devicelink's header lists (always arrays) and `credentials: true`. */
export type MergedCorsOptions<T> = Omit<T, keyof CorsHeaderOptions> & {
  methods: string[];
  allowedHeaders?: string[];
  exposedHeaders: string[];
  credentials: true;
};

/** Headers clients send to devicelink routes. */
export const DEVICELINK_ALLOWED_HEADERS = [
  DEVICE_HEADER,
  CONSENT_HEADER,
  FRESH_HEADER,
  REPLACES_HEADER,
] as const;
/**
 * Methods the SDK uses cross-origin. @fastify/cors allows `GET,HEAD,POST` by default, so without DELETE
 * a logout's `reset()` failed its preflight and the next person kept the previous id.
 */
const DEVICELINK_METHODS = ['GET', 'HEAD', 'POST', 'DELETE'] as const;
/** Headers devicelink answers with that scripts must be able to read. */
export const DEVICELINK_EXPOSED_HEADERS = [DEVICE_HEADER] as const;

/**
 * Returns `appOptions` with GET, HEAD, POST and DELETE added to `methods` (@fastify/cors's default is
 * `GET,HEAD,POST`, kept when the app sets none), `X-Device-Fingerprint`, `X-Device-Consent`,
 * `X-Device-Fresh` and `X-Device-Replaces` added to `allowedHeaders`, `X-Device-Fingerprint` to `exposedHeaders`, and
 * `credentials: true`. The app's own values stay
 * (string or array form). When the app sets no `allowedHeaders` it stays unset: @fastify/cors then
 * reflects the preflight's `Access-Control-Request-Headers`, which already allows ours, and an
 * explicit list would silently refuse the app's other headers (e.g. `Content-Type: application/json`).
 *
 * @example
 * await app.register(cors, corsOptions({ origin: ['https://shop.example'], allowedHeaders: ['Content-Type', 'Authorization'] }));
 */
export function corsOptions<T extends object = Record<string, never>>(appOptions?: T): MergedCorsOptions<T> {
  const app = (appOptions ?? {}) as T & CorsHeaderOptions;
  const merged = {
    ...app,
    methods: union(app.methods, DEVICELINK_METHODS, (m) => m.toUpperCase()),
    exposedHeaders: union(app.exposedHeaders, DEVICELINK_EXPOSED_HEADERS),
    credentials: true as const,
  };
  if (app.allowedHeaders === undefined) return merged as MergedCorsOptions<T>;
  return {
    ...merged,
    allowedHeaders: union(app.allowedHeaders, DEVICELINK_ALLOWED_HEADERS),
  } as MergedCorsOptions<T>;
}

/** `existing` (array or comma-separated) with `add` appended where missing, compared by `key`. */
function union(
  existing: string | string[] | undefined,
  add: readonly string[],
  key = (h: string) => h.toLowerCase(),
): string[] {
  const list = (Array.isArray(existing) ? existing : typeof existing === 'string' ? existing.split(',') : [])
    .map((h) => h.trim())
    .filter((h) => h !== '');
  const seen = new Set(list.map(key));
  for (const h of add) if (!seen.has(key(h))) list.push(h);
  return list;
}
