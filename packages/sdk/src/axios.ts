/**
 * `@devicelink/sdk/axios`: interceptors for one axios instance, working with the DeviceLink they are
 * given. Requests never wait: they carry whatever id is known at that moment. Nothing global is touched.
 */
import { DEVICE_HEADER } from '@devicelink/protocol';
import type { AxiosError, AxiosInstance, AxiosResponse } from 'axios';
import type { DeviceLink } from './device-link.js';

/**
 * Installs a request interceptor (the device header to the app's own origins while anonymous, that is
 * while `getToken()` gives nothing and the request has no `Authorization` header of its own; the consent
 * header while consent is not granted or an explicit grant overrides GPC) and a response interceptor (adopts echoed ids from 2xx
 * and error responses alike). Returns a function that ejects both.
 *
 * @example
 * const eject = attachAxios(api, dl);
 * // later, e.g. in a test or on teardown
 * eject();
 */
export function attachAxios(instance: AxiosInstance, dl: DeviceLink): () => void {
  const { request, response } = instance.interceptors;
  const req = request.use(
    (config) => {
      // A request with its own Authorization is signed in: no device header, whatever getToken says.
      const headers = dl.headersFor(config.url, config.baseURL, config.headers.has('Authorization'));
      for (const name in headers) config.headers.set(name, headers[name]);
      return config;
    },
    undefined,
    // Lets axios send the request in the same tick: our interceptor never awaits anything.
    { synchronous: true },
  );
  const echo = (r: AxiosResponse | undefined) => {
    const c = r?.config;
    if (c)
      dl.receive(c.url, c.baseURL, c.headers?.get(DEVICE_HEADER), r.headers?.[DEVICE_HEADER.toLowerCase()]);
  };
  const res = response.use(
    (r) => {
      echo(r);
      return r;
    },
    (error: AxiosError) => {
      echo(error?.response);
      return Promise.reject(error);
    },
  );
  return () => {
    request.eject(req);
    response.eject(res);
  };
}
