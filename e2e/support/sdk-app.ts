/**
 * A minimal app as a site would write it: the SDK's built ESM (`packages/sdk/dist`, unbundled, loaded
 * through an import map with axios and FingerprintJS), `createDeviceLink` with the collector and the
 * app's API as origins, an axios instance for the API with `attachAxios`, `onError` recorded, and login
 * through the collector's demo route. Served by a plain Node server on its own host; the page exposes
 * `window.e2eApp` for the tests to drive.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize } from 'node:path';
import type { RunningServer } from './static-servers.js';

const require = createRequire(import.meta.url);
const SDK_DIST = join(dirname(require.resolve('@devicelink/sdk/package.json')), 'dist');
const AXIOS_ESM = join(dirname(require.resolve('axios/package.json')), 'dist/esm/axios.js');
const FINGERPRINT_ESM = join(
  dirname(createRequire(SDK_DIST).resolve('@fingerprintjs/fingerprintjs/package.json')),
  'dist/fp.esm.js',
);

declare global {
  interface Window {
    /** What the e2e app exposes (see APP_SCRIPT). */
    e2eApp?: {
      dl: import('@devicelink/sdk').DeviceLink;
      /** The app's axios instance for its API (baseURL the API). */
      api: import('axios').AxiosInstance;
      /** Every error `onError` received: name, message and the collector status when there is one. */
      errors: { name: string; message: string; status?: number }[];
      /** Logs `user` in at the collector's demo route and calls identify; answers identify's result. */
      logIn(user: string): Promise<unknown>;
      logOut(): void;
    };
  }
}

/** Where the app finds the collector and its API. */
export interface AppOrigins {
  collector: string;
  api: string;
}

const APP_SCRIPT = `
import { createDeviceLink } from '@devicelink/sdk';
import { attachAxios } from '@devicelink/sdk/axios';
import axios from 'axios';
const { collector, api: apiOrigin } = window.E2E_ORIGINS;
let token = null;
const errors = [];
const dl = createDeviceLink({
  collector,
  origins: [collector, apiOrigin],
  getToken: () => token,
  onError: (e) => errors.push({ name: e.name, message: e.message, status: e.status }),
});
const api = axios.create({ baseURL: apiOrigin, withCredentials: true });
api.interceptors.request.use((r) => { if (token) r.headers.set('Authorization', 'Bearer ' + token); return r; });
attachAxios(api, dl);
window.e2eApp = {
  dl, api, errors,
  async logIn(user) {
    const res = await fetch(collector + '/demo/login', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: user, password: user }),
    });
    token = (await res.json()).accessToken;
    return dl.identify(token);
  },
  logOut() { token = null; },
};
`;

function page(origins: AppOrigins): string {
  const imports = {
    '@devicelink/sdk': '/sdk/index.js',
    '@devicelink/sdk/axios': '/sdk/axios.js',
    axios: '/vendor/axios.js',
    '@fingerprintjs/fingerprintjs': '/vendor/fp.esm.js',
  };
  return `<!doctype html><html><head><meta charset="utf-8"><title>e2e app</title>
<script type="importmap">${JSON.stringify({ imports })}</script>
<script>window.E2E_ORIGINS = ${JSON.stringify(origins)};</script>
<script type="module">${APP_SCRIPT}</script></head><body><h1>e2e app</h1></body></html>`;
}

/** The file a path names: the SDK's dist, the two vendored modules, or null. */
function fileOf(path: string): string | null {
  if (path === '/vendor/axios.js') return AXIOS_ESM;
  if (path === '/vendor/fp.esm.js') return FINGERPRINT_ESM;
  if (!path.startsWith('/sdk/') || extname(path) !== '.js') return null;
  const file = normalize(join(SDK_DIST, path.slice('/sdk/'.length)));
  return file.startsWith(SDK_DIST) ? file : null;
}

/**
 * Serves the app on 127.0.0.1 and a free port (the browser reaches it by a host name mapped there);
 * `origins` is read per request, so the app can start before the servers whose CORS lists name it.
 */
export async function serveSdkApp(origins: () => AppOrigins): Promise<RunningServer> {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(origins()));
      return;
    }
    const file = fileOf(path);
    const body = file ? await readFile(file).catch(() => null) : null;
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
