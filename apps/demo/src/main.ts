/**
 * The devicelink demo: the SDK wired exactly as the README shows (an axios instance with `attachAxios`,
 * automatic page views, `identify` after login), plus panels that show what happens. For the e2e tests
 * and for poking around in the console, `window.devicelinkDemo` holds the axios instance and the SDK.
 */
import { createDeviceLink, type DeviceLink } from '@devicelink/sdk';
import { attachAxios } from '@devicelink/sdk/axios';
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import { readDemoConfig } from './demo-config.js';
import { sdkIdStored, storeConsent, storedConsent, storedToken, storeToken } from './demo-storage.js';
import { startRouter } from './router.js';
import {
  logRequest,
  renderAccount,
  renderConsent,
  renderDevice,
  renderRoute,
  renderSession,
  renderStatus,
  type SessionAnswer,
} from './views.js';

declare global {
  interface Window {
    /** The demo's axios instance and DeviceLink, for tests and the console. */
    devicelinkDemo?: { api: AxiosInstance; dl: DeviceLink };
  }
}

const config = readDemoConfig();
let token = storedToken();

// The app's API client. With the collector on another origin, credentials let its cookie travel.
const api = axios.create({ baseURL: config.collector, withCredentials: true });
const dl = createDeviceLink({
  collector: config.collector,
  getToken: () => token,
  consent: storedConsent(),
  ...(config.batchDelayMs ? { batch: { delayMs: config.batchDelayMs } } : {}),
});
// The app's own login header; the SDK's interceptor leaves the device header off while there is a token.
api.interceptors.request.use((request) => {
  if (token) request.headers.set('Authorization', `Bearer ${token}`);
  return request;
});
attachAxios(api, dl);
api.interceptors.response.use(
  (response) => {
    describe(response.config, response.status);
    return response;
  },
  (error: unknown) => {
    if (isAxiosError(error) && error.config) describe(error.config, error.response?.status ?? 0);
    return Promise.reject(error);
  },
);
window.devicelinkDemo = { api, dl };

/** One line of the request log: what the request carried, which is the point of the demo. */
function describe(request: { method?: string; url?: string; headers?: any }, status: number): void {
  const sent = (name: string) => Boolean(request.headers?.get?.(name));
  const carried = [
    sent('X-Device-Fingerprint') && 'X-Device-Fingerprint',
    sent('X-Device-Fresh') && 'X-Device-Fresh',
    sent('Authorization') && 'Authorization',
    sent('X-Device-Consent') && 'X-Device-Consent: denied',
  ].filter(Boolean);
  logRequest(
    `${(request.method ?? 'get').toUpperCase()} ${request.url} → ${status || 'failed'}  [${carried.join(', ') || 'no device or auth header'}]`,
  );
}

/** The `sub` of a JWT, for display only (the collector verifies the token, the page never needs to). */
function userOf(jwt: string | null): string | null {
  if (!jwt) return null;
  try {
    const payload = jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/');
    return String(JSON.parse(atob(payload)).sub ?? 'signed in');
  } catch {
    return 'signed in';
  }
}

async function refreshSession(): Promise<void> {
  renderDevice(dl.deviceId(), sdkIdStored(), dl.deviceIdSource());
  try {
    const { data } = await api.get<SessionAnswer>('/v1/session');
    const why =
      dl.consent() !== 'granted'
        ? 'Not tracked: consent is not granted.'
        : token
          ? 'Paused while signed in: requests carry Authorization, not the device id.'
          : 'Live from GET /v1/session; page views are sent in small batches.';
    renderSession(data, why);
  } catch (err) {
    renderSession(null, `The collector did not answer (${(err as Error).message}).`);
  }
  renderDevice(dl.deviceId(), sdkIdStored(), dl.deviceIdSource());
}

async function logIn(username: string, password: string): Promise<void> {
  renderStatus('');
  try {
    const { data } = await api.post<{ accessToken: string }>('/demo/login', { username, password });
    token = data.accessToken;
    storeToken(token);
    const linked = await dl.identify(token);
    renderAccount(userOf(token), 'error' in linked ? null : linked.sessionId);
    if ('error' in linked) renderStatus(`Signed in, but identify failed: ${linked.error.message}`);
  } catch (err) {
    const status = isAxiosError(err) ? err.response?.status : undefined;
    renderStatus(status === 401 || status === 400 ? 'Wrong user name or password.' : 'Login failed.');
  }
  void refreshSession();
}

function logOut(): void {
  token = null;
  storeToken(null);
  renderAccount(null);
  void refreshSession();
}

function wire(): void {
  const form = document.getElementById('login-form') as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const fields = new FormData(form);
    void logIn(String(fields.get('username') ?? ''), String(fields.get('password') ?? ''));
  });
  document.getElementById('logout-button')!.addEventListener('click', logOut);
  document.getElementById('refresh-session')!.addEventListener('click', () => void refreshSession());
  document.getElementById('consent-switch')!.addEventListener('change', (event) => {
    const consent = (event.target as HTMLInputElement).checked ? 'granted' : 'denied';
    dl.setConsent(consent);
    storeConsent(consent);
    renderConsent(consent);
    // Under "denied" this request carries X-Device-Consent: denied, and the collector clears its cookie.
    void refreshSession();
  });
  document.getElementById('clear-storage')!.addEventListener('click', () => {
    localStorage.clear();
    // A fresh load of the home page: a server without a fallback for client-side routes would answer a
    // reload of /demo/pricing with a 404.
    location.replace(config.basePath + location.search);
  });
}

renderConsent(dl.consent());
renderAccount(userOf(token));
wire();
startRouter(config.basePath, (route) => {
  renderRoute(route);
  // Page views leave in batches; the panel catches up after the next one.
  void refreshSession();
});
// Keeps the session panel live while the tab is visible.
setInterval(() => {
  if (document.visibilityState === 'visible') void refreshSession();
}, 2000);
