import { storeContracts } from './store-contracts.js';
import { memoryHarness } from './store-harness.js';

storeContracts('memory', memoryHarness);
