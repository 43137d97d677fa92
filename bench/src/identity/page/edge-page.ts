/// <reference lib="dom" />
/**
 * The app page of the identity benchmark's edge rows (logout on a shared computer, two tabs at once):
 * the SDK as the SDK README shows it with an API on another origin: `createDeviceLink` with the
 * collector and the API as origins, an axios instance for the API with `attachAxios`, the app's token
 * for its API and `getToken`, page views sent one by one. Built against the current SDK, and for the
 * two-tab row also against an older SDK build (same source, the package aliased). `window.edge` lets
 * the harness drive it.
 */
import { createDeviceLink } from '@devicelink/sdk';
import { attachAxios } from '@devicelink/sdk/axios';
import axios from 'axios';

declare global {
  interface Window {
    /** Written into the page by the page server: where the collector and the app's API are. */
    EDGE_CONFIG: { collector: string; api: string };
    edge: {
      deviceId(): string | null;
      source(): string | null;
      /** A client-side navigation: the next page view. */
      navigate(path: string): void;
      /** Logs in: the app keeps the token (its API requests and `getToken`), then `identify`. */
      logIn(token: string): Promise<unknown>;
      /** Logs out: the app drops its token, then `reset()` or `forget()`; answers ok or the status. */
      logOut(how: 'reset' | 'forget'): Promise<{ ok: true } | { status: number }>;
      /** `GET <api><path>` through the axios glue; answers the API's JSON. */
      api(path: string): Promise<unknown>;
      flush(): Promise<void>;
      /** Errors the SDK reported through `onError`. */
      errors: string[];
    };
  }
}

const { collector, api } = window.EDGE_CONFIG;
const errors: string[] = [];
let token: string | null = null;
const dl = createDeviceLink({
  collector,
  origins: api ? [collector, api] : [collector],
  getToken: () => token,
  batch: { size: 1 },
  onError: (e) => errors.push(`${e.name}: ${e.message}`),
});
const client = axios.create({ baseURL: api || location.origin, withCredentials: true });
client.interceptors.request.use((config) => {
  if (token) config.headers.set('Authorization', `Bearer ${token}`);
  return config;
});
attachAxios(client, dl);

window.edge = {
  deviceId: () => dl.deviceId(),
  source: () => dl.deviceIdSource(),
  navigate: (path) => history.pushState(null, '', path),
  logIn(t) {
    token = t;
    return dl.identify(t);
  },
  async logOut(how) {
    token = null;
    const r = await (how === 'reset' ? dl.reset() : dl.forget());
    return 'error' in r ? { status: r.error.status } : { ok: true };
  },
  api: (path) => client.get(path).then((r) => r.data),
  flush: () => dl.flush(),
  errors,
};
