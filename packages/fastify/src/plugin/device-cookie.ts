/** The flags of the `device_fp` cookie (docs/protocol.md, Names), set and cleared alike. */
import type { ResolvedOptions } from './plugin-options.js';

/**
 * The `device_fp` cookie's flags. @fastify/cookie merges the app's `parseOptions` into these:
 * `signed: true` would make the value `id.signature` (a new id minted on every request) and the app's
 * `domain` would change the cookie's scope, so both are pinned (an undefined value overrides the
 * app's in that merge).
 */
export function deviceCookieFlags(options: Pick<ResolvedOptions, 'cookie'>) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: options.cookie.sameSite,
    secure: options.cookie.secure,
    signed: false,
    domain: options.cookie.domain,
    ...(options.cookie.partitioned ? { partitioned: true } : {}),
  } as const;
}
