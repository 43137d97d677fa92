import { describe, expect, it } from 'vitest';
import { persisterSessionTimeouts } from './database-startup.js';

describe('persisterSessionTimeouts', () => {
  it('cuts statements early enough that two failed attempts fit in one lease', () => {
    for (const leaseMs of [1_000, 10_000, 600_000]) {
      const t = persisterSessionTimeouts(leaseMs);
      expect(2 * t.statementTimeoutMs).toBeLessThan(leaseMs);
      expect(t.queryTimeoutMs).toBeGreaterThan(t.statementTimeoutMs);
      expect(2 * t.queryTimeoutMs).toBeLessThan(leaseMs);
      expect(t.idleInTransactionTimeoutMs).toBeLessThan(leaseMs);
      expect(t.lockTimeoutMs).toBeLessThanOrEqual(2_500);
    }
  });
});
