/// <reference lib="dom" />
/**
 * The app page every simulated browser of the identity benchmark loads: the SDK as an app installs it
 * (`createDeviceLink` with automatic page views), each page view sent at once (`batch.size` 1) so the
 * first request's time is the SDK's start. `window.bench` lets the harness navigate, log in and read
 * the SDK's state; the harness reads request times from the Resource Timing entries.
 */
import { createDeviceLink } from '@devicelink/sdk';

declare global {
  interface Window {
    /** Written into the page by the page server: where the collector is. */
    BENCH_CONFIG: { collector: string };
    bench: {
      deviceId(): string | null;
      source(): string | null;
      /** A client-side navigation: the next page view. */
      navigate(path: string): void;
      identify(token: string): Promise<unknown>;
      flush(): Promise<void>;
      /** Errors the SDK reported through `onError`. */
      errors: string[];
    };
  }
}

const errors: string[] = [];
const dl = createDeviceLink({
  collector: window.BENCH_CONFIG.collector,
  batch: { size: 1 },
  onError: (e) => errors.push(`${e.name}: ${e.message}`),
});

window.bench = {
  deviceId: () => dl.deviceId(),
  source: () => dl.deviceIdSource(),
  navigate: (path) => history.pushState(null, '', path),
  identify: (token) => dl.identify(token),
  flush: () => dl.flush(),
  errors,
};
