import { createMemoryStores } from '../src/stores/memory-session-store.js';
import { eventQueueContract } from './event-queue.contract.js';
import { sessionStoreContract } from './session-store.contract.js';
import type { MakeHarness } from './store-harness.js';

// Memory time is injected, so expiry tests move the clock instead of waiting.
const memory: MakeHarness = async (o = {}) => {
  let now = Date.now();
  const stores = createMemoryStores({ ...o, now: () => now });
  return {
    ...stores,
    passTime(ms) {
      now += ms;
    },
    async keysOf() {
      return null;
    },
  };
};

sessionStoreContract('memory', memory);
eventQueueContract('memory', memory);
