import { createMemoryStore } from '../src/memory/memory-store.js';
import { deviceAdminContract } from './device-admin.contract.js';
import { deviceIdentityContract } from './device-identity.contract.js';
import { deviceStoreContract } from './device-store.contract.js';
import { partitionLeasesContract } from './partition-leases.contract.js';
import { queueConsumerContract } from './queue-consumer.contract.js';
import { rateLimitContract } from './rate-limits.contract.js';
import { harnessOf, type MakeHarness } from './store-harness.js';

// Memory time is injected, so expiry tests move the clock instead of waiting.
const memory: MakeHarness = async (o = {}) => {
  let now = Date.now();
  const store = createMemoryStore({ ...o, now: () => now });
  return harnessOf(store, {
    passTime(ms) {
      now += ms;
    },
    async keysOf() {
      return null;
    },
    close: () => store.close(),
  });
};

deviceStoreContract('memory', memory);
deviceAdminContract('memory', memory);
deviceIdentityContract('memory', memory);
queueConsumerContract('memory', memory);
partitionLeasesContract('memory', memory);
rateLimitContract('memory', memory);
