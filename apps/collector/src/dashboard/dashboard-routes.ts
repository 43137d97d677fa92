/**
 * The dashboard's files at `/dashboard/` (README.md, The dashboard), from `apps/dashboard/dist`, registered
 * only when `ADMIN_TOKEN` or `DASHBOARD_TOKEN` is set (else 404). The page holds no secret: it asks for a
 * token and keeps it in the tab's sessionStorage, sending it as a bearer header to the read routes.
 *
 * Every answer under /dashboard/ carries a strict Content-Security-Policy: scripts, styles and requests
 * from this origin only, no inline script or style, no framing, no form posts, no other origin.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { appDistDir } from './app-dist.js';

/** The dashboard's Content-Security-Policy. */
const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** `apps/dashboard/dist` when it holds a built page, or null. */
function dashboardDistDir(): string | null {
  const dist = appDistDir('dashboard');
  return dist && existsSync(join(dist, 'index.html')) ? dist : null;
}

/** Options of {@link dashboardRoutes}. */
export interface DashboardRouteOptions {
  /** `NODE_ENV=production`: the source map is not served (it would publish the dashboard's source). */
  production: boolean;
}

/** Registers the dashboard's static files with their security headers (own scope). */
export async function dashboardRoutes(app: FastifyInstance, options: DashboardRouteOptions): Promise<void> {
  app.addHook('onSend', async (request, reply) => {
    if (!request.url.startsWith('/dashboard')) return;
    reply.header('content-security-policy', DASHBOARD_CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    reply.header('cache-control', 'no-store');
  });
  const dist = dashboardDistDir();
  // Files, not API: kept out of the OpenAPI document.
  const hide = { schema: { hide: true } };
  app.get('/dashboard', hide, async (_request, reply) => reply.redirect('/dashboard/'));
  if (!dist) {
    app.log.warn('the dashboard is not built (apps/dashboard/dist); build it with npm run build');
    app.get('/dashboard/', hide, async (_request, reply) =>
      reply.code(503).type('text/plain').send('the dashboard is not built: run npm run build'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dist,
    prefix: '/dashboard/',
    index: ['index.html'],
    decorateReply: false,
    // In production the map answers 404 like any missing file.
    allowedPath: (path) => !(options.production && path.endsWith('.map')),
  });
}
