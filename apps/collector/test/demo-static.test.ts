import { describe, expect, it } from 'vitest';
import { demoDistDir } from '../src/dashboard/demo-routes.js';
import { useCollector } from './support/collector.js';

// apps/demo/dist is built by `npm test` (turbo build) before the suites run.
describe.runIf(demoDistDir() !== null)('the demo app served with DEMO=1', () => {
  const ctx = useCollector('demo', { DEMO: '1' });

  it('serves the app at /demo/ and its script', async () => {
    const page = await ctx.app.inject({ url: '/demo/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    const script = await ctx.app.inject({ url: '/demo/app.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toContain('javascript');
  });

  it('answers a client-side route opened directly (a reload of /demo/pricing) with the app', async () => {
    const page = await ctx.app.inject({ url: '/demo/pricing' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toBe((await ctx.app.inject({ url: '/demo/' })).body);
  });

  it('issues a token to a demo user and refuses a wrong password with 401', async () => {
    const ok = await ctx.app.inject({
      method: 'POST',
      url: '/demo/login',
      payload: { username: 'bob', password: 'bob' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().accessToken.split('.')).toHaveLength(3);
    const bad = await ctx.app.inject({
      method: 'POST',
      url: '/demo/login',
      payload: { username: 'bob', password: 'x' },
    });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().code).toMatch(/^DL_/);
  });
});
