/**
 * The OpenAPI document's frame (@fastify/swagger fills in the paths from the route schemas) and the
 * options of the browsable reference at `/docs` (@fastify/swagger-ui). The HTTP API is described in
 * docs/protocol.md; test/openapi-conformance.test.ts checks the server's answers against the document.
 */
import type { FastifySwaggerUiOptions } from '@fastify/swagger-ui';
import type { CollectorConfig } from '../config/collector-config.js';

/** The tags of the operations (`tagOperation` gives each route its tag). */
const TAGS = [
  { name: 'ingest', description: 'Page views and identify (the SDK calls these).' },
  {
    name: 'admin',
    description: 'Device detail, erasure, stats, dead letters and the audit log (`ADMIN_TOKEN`).',
  },
  {
    name: 'insights',
    description: 'The dashboard’s read routes, journeys and exports (`ADMIN_TOKEN` or `DASHBOARD_TOKEN`).',
  },
  { name: 'operations', description: 'Health and metrics.' },
];

/** The security schemes routes refer to: the dashboard and metrics tokens only when configured. */
function securitySchemes(config: CollectorConfig) {
  return {
    adminToken: {
      type: 'http' as const,
      scheme: 'bearer',
      description: 'The `ADMIN_TOKEN` of the collector.',
    },
    ...(config.dashboardToken
      ? {
          dashboardToken: {
            type: 'http' as const,
            scheme: 'bearer',
            description: 'The read-only `DASHBOARD_TOKEN` of the collector (read routes only).',
          },
        }
      : {}),
    userToken: {
      type: 'http' as const,
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'A JWT of your identity provider (`JWT_SECRET`, `JWT_PUBLIC_KEY` or `JWT_JWKS_URL`).',
    },
    ...(config.metricsToken
      ? {
          metricsToken: {
            type: 'http' as const,
            scheme: 'bearer',
            description: 'The `METRICS_TOKEN` of the collector.',
          },
        }
      : {}),
  };
}

/**
 * The `openapi` option of @fastify/swagger: info, and the security schemes routes refer to
 * (`adminToken`, `dashboardToken`, `userToken`, `metricsToken`).
 */
export function openapiDocument(config: CollectorConfig) {
  return {
    openapi: '3.0.3',
    info: {
      title: 'devicelink collector',
      version: '0.1.0',
      description:
        'Page views, conversion and erasure of the devicelink collector. Admin routes need ' +
        '`Authorization: Bearer <ADMIN_TOKEN>` and exist only when ADMIN_TOKEN is set; the read routes ' +
        '(insights, journeys, exports, device detail) also take the read-only DASHBOARD_TOKEN. Errors are ' +
        '`{statusCode, code, error, message}` with `DL_` codes; every time is ISO 8601.',
      license: { name: 'MIT' },
    },
    tags: TAGS,
    components: { securitySchemes: securitySchemes(config) },
  };
}

/** The tag of each route, by method and path: the reference at `/docs` groups operations under these. */
function routeTag(method: string, url: string): 'ingest' | 'admin' | 'insights' | 'operations' {
  // The read routes the dashboard token opens: insights, the bulk export, a user's journey and its export.
  if (/^\/v1\/admin\/(insights|export)\//.test(url)) return 'insights';
  if (method === 'GET' && url.startsWith('/v1/admin/users/')) return 'insights';
  if (url.startsWith('/v1/admin/')) return 'admin';
  if (url.startsWith('/v1/')) return 'ingest';
  return 'operations';
}

/**
 * @fastify/swagger's `transform`: every operation gets the tag of its path (the route schemas carry
 * none, so /docs showed four empty sections), keeping a tag a route sets itself.
 */
export function tagOperation({
  schema,
  url,
  route,
}: {
  schema: unknown;
  url: string;
  route: { method: string | string[] };
}) {
  const own = (schema ?? {}) as { tags?: string[] };
  const method = [route.method].flat()[0] ?? 'GET';
  return { schema: { ...own, tags: own.tags ?? [routeTag(method, url)] }, url };
}

/**
 * The one inline `<style>` swagger-ui 5 (bundled by @fastify/swagger-ui 6.1) adds while it starts, by
 * its hash: refused, it was the console error of /docs. A new swagger-ui may add another; the e2e test
 * of /docs fails on any console error.
 */
const SWAGGER_UI_INLINE_STYLE = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

/**
 * Removes from a CSP what would let the page reach another origin (fonts, styles, the validator), and
 * allows swagger-ui's one inline style by its hash (never `'unsafe-inline'`).
 */
function sameOriginOnly(csp: string): string {
  return csp
    .replace(/ https:/g, '')
    .replace(/ validator\.swagger\.io/g, '')
    .replace(/ ?upgrade-insecure-requests;/g, '')
    .replace(/style-src 'self'/, `style-src 'self' ${SWAGGER_UI_INLINE_STYLE}`);
}

/**
 * `/docs`: swagger-ui's files from the package (no CDN), a Content-Security-Policy that allows this
 * origin only, and no online validator (it would send the document to another origin).
 */
export function swaggerUiOptions(): FastifySwaggerUiOptions {
  return {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: sameOriginOnly,
    validatorUrl: false,
    uiConfig: { deepLinking: true, persistAuthorization: false },
  };
}
