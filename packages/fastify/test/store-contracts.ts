/** Every store contract, registered at once for one implementation. */
import { deviceAdminContract } from './device-admin.contract.js';
import { deviceIdentityContract } from './device-identity.contract.js';
import { deviceReplacementContract } from './device-replacement.contract.js';
import { deviceStoreContract } from './device-store.contract.js';
import { partitionLeasesContract } from './partition-leases.contract.js';
import { queueConsumerContract } from './queue-consumer.contract.js';
import { rateLimitContract } from './rate-limits.contract.js';
import type { MakeHarness } from './store-harness.js';

/** Registers the DeviceStore, DeviceAdmin, identity, QueueConsumer, rate-limit and lease contracts. */
export function storeContracts(name: string, make: MakeHarness): void {
  deviceStoreContract(name, make);
  deviceAdminContract(name, make);
  deviceIdentityContract(name, make);
  deviceReplacementContract(name, make);
  queueConsumerContract(name, make);
  rateLimitContract(name, make);
  partitionLeasesContract(name, make);
}
