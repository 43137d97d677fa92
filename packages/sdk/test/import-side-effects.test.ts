/**
 * The built files, imported in a plain Node process (no DOM): importing throws nothing and touches no
 * global, as server-side rendering needs (the same check as FingerprintJS's `check:ssr`).
 * Needs the build: turbo runs it before `test`; run `pnpm --filter @devicelink/sdk build` by hand otherwise.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

// Runs in the child: snapshots every own property of globalThis (and process listeners), imports the
// four built files, snapshots again and reports the difference.
const script = `
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const dist = process.argv[1];
const snapshot = () => {
  const out = new Map();
  for (const key of Reflect.ownKeys(globalThis)) {
    const d = Object.getOwnPropertyDescriptor(globalThis, key);
    out.set(key, d && ('value' in d ? d.value : d.get));
  }
  return out;
};
const listeners = () => process.eventNames().map((n) => String(n) + ':' + process.listenerCount(n)).join(',');
const before = snapshot();
const beforeListeners = listeners();
const esm = await import(pathToFileURL(dist + 'index.js').href);
const esmAxios = await import(pathToFileURL(dist + 'axios.js').href);
const require = createRequire(import.meta.url);
const cjs = require(dist + 'index.cjs');
const cjsAxios = require(dist + 'axios.cjs');
const after = snapshot();
const changed = [];
for (const [key, value] of after) if (!before.has(key) || !Object.is(before.get(key), value)) changed.push(String(key));
for (const key of before.keys()) if (!after.has(key)) changed.push(String(key));
console.log(JSON.stringify({
  changed,
  listenersChanged: listeners() !== beforeListeners,
  hasDom: typeof window !== 'undefined' || typeof document !== 'undefined',
  exports: [Object.keys(esm).sort(), Object.keys(esmAxios).sort(), Object.keys(cjs).sort(), Object.keys(cjsAxios).sort()],
}));
`;

describe('built files under plain Node', () => {
  test('importing the ESM and CJS builds of both entries throws nothing and touches no global', () => {
    expect(existsSync(`${dist}index.js`), 'dist is missing: build @devicelink/sdk first').toBe(true);
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, dist], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    const report = JSON.parse(out.trim().split('\n').at(-1)!);
    expect(report.hasDom).toBe(false);
    expect(report.changed).toEqual([]);
    expect(report.listenersChanged).toBe(false);
    const core = [
      'CollectorError',
      'DeviceLinkError',
      'FingerprintError',
      'PageviewsDroppedError',
      'createDeviceLink',
      'isDeviceLinkError',
    ];
    expect(report.exports).toEqual([core, ['attachAxios'], core, ['attachAxios']]);
  });

  test('under server-side rendering every method answers without loading FingerprintJS, touching storage or sending identify', () => {
    // A localStorage and a fetch that record any use (Node 22+ may have a localStorage of its own), and
    // a module hook that records any import of FingerprintJS.
    const ssr = `
      const used = [];
      globalThis.localStorage = new Proxy({}, { get: (_, key) => { used.push('localStorage.' + String(key)); return () => null; } });
      globalThis.fetch = async (url) => { used.push('fetch ' + url); return new Response('{}'); };
      const { registerHooks } = await import('node:module');
      registerHooks?.({ resolve(specifier, context, next) {
        if (specifier.includes('fingerprintjs')) used.push('import ' + specifier);
        return next(specifier, context);
      } });
      const { createDeviceLink } = await import(${JSON.stringify(`${dist}index.js`)});
      const dl = createDeviceLink({ collector: 'https://collect.example.com', onError: (e) => used.push('error ' + e.name) });
      dl.pageview('/ssr');
      const result = {
        deviceId: dl.deviceId(),
        source: dl.deviceIdSource(),
        consent: dl.consent(),
        headers: dl.headersFor('/api/me'),
        thirdParty: dl.headersFor('https://other.example/x'),
      };
      dl.receive('/api/me', undefined, null, 'echoed_device_id_0002');
      result.afterEcho = dl.deviceId();
      await dl.flush();
      result.reset = await dl.reset();
      result.forget = await dl.forget();
      dl.setConsent('denied');
      dl.setConsent('granted');
      const identified = await dl.identify('t');
      result.identify = 'error' in identified ? [identified.error.name, identified.error.status, identified.error.message] : 'ok';
      dl.stop();
      await new Promise((r) => setTimeout(r, 50));
      // Nothing at all: identify on a server sends no request (the token stays where it is).
      result.used = used;
      console.log(JSON.stringify(result));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', ssr], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({
      deviceId: null,
      source: null,
      consent: 'granted',
      headers: {},
      thirdParty: {},
      afterEcho: null,
      reset: { ok: true },
      forget: { ok: true },
      identify: ['CollectorError', 0, 'identify: no window (server-side rendering), nothing sent'],
      used: [],
    });
  });
});
