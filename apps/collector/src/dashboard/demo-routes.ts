/**
 * Demo mode (`DEMO=1`, refused in production and with a JWT key): `POST /demo/login` for the demo
 * users, answering a token signed with the key made at start-up, and the demo app's built files at
 * `/demo/` when `apps/demo/dist` exists.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { DemoLoginError } from '../http/errors.js';
import { errorResponses } from '../http/route-schemas.js';
import { appDistDir } from './app-dist.js';

/** The demo users; their passwords are public on purpose (the demo is never run in production). */
const DEMO_USERS: Readonly<Record<string, string>> = { alice: 'alice', bob: 'bob' };

/** `apps/demo/dist` of the repository this file runs from (source or bundled), or null. */
export function demoDistDir(): string | null {
  return appDistDir('demo');
}

/** Registers the demo login and static files. */
export async function demoRoutes(app: FastifyInstance, options: { verifier: TokenVerifier }): Promise<void> {
  const sign = options.verifier.sign;
  if (!sign) throw new Error('demo routes need the demo signing key');
  app.post<{ Body: { username: string; password: string } }>(
    '/demo/login',
    {
      schema: {
        description: 'Demo users only: returns an access token signed with the key made at start-up.',
        body: {
          type: 'object',
          properties: {
            username: { type: 'string', maxLength: 100 },
            password: { type: 'string', maxLength: 100 },
          },
          required: ['username', 'password'],
        },
        response: {
          200: {
            type: 'object',
            description: 'A token for `POST /v1/identify`, valid one hour.',
            properties: { accessToken: { type: 'string' } },
            required: ['accessToken'],
            additionalProperties: false,
          },
          ...errorResponses(400, 401, 413, 415),
        },
      },
    },
    async (request) => {
      const { username, password } = request.body;
      if (!Object.hasOwn(DEMO_USERS, username) || DEMO_USERS[username] !== password)
        throw new DemoLoginError();
      return { accessToken: await sign(username) };
    },
  );
  const dist = demoDistDir();
  if (dist) {
    // Files are routed one by one (wildcard off) so every other /demo/* path, a client-side route
    // such as /demo/pricing opened or reloaded directly, gets the app's index.html.
    await app.register(fastifyStatic, {
      root: dist,
      prefix: '/demo/',
      index: ['index.html'],
      wildcard: false,
    });
    // The demo's pages are no API: kept out of the OpenAPI document.
    const hide = { schema: { hide: true } };
    app.get('/demo', hide, async (_request, reply) => reply.redirect('/demo/'));
    app.get('/demo/*', hide, async (_request, reply) => reply.type('text/html').sendFile('index.html'));
  } else {
    app.log.warn('DEMO=1 but apps/demo/dist does not exist: build it with npm run demo');
  }
}
