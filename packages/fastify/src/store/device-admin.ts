/**
 * `DeviceAdmin`: erasure and the live-session read (docs/protocol.md, Erasure), taken by admin code
 * (the collector's admin routes), never by the plugin. Implemented by every backend beside
 * `DeviceStore`; checked by `test/device-admin.contract.ts`.
 */
import type { LiveSession } from './device-store.js';

/** Erasure and the live-session read of a store. */
export interface DeviceAdmin {
  /** The live session, or null when there is none (expired, converted, erased). */
  session(deviceId: string): Promise<LiveSession | null>;
  /**
   * Erasure: removes every key of the device, leaves a 30-day tombstone (later touches answer
   * `erased`), and queues an erase record behind anything already queued for it.
   */
  erase(deviceId: string): Promise<void>;
  /**
   * User erasure, the user's part: leaves a 30-day user tombstone (later `queueUserEvents` and
   * `convert` for the user answer `erased`) and queues an `erase-user` record in the user id's
   * partition. The caller erases the user's unshared devices with `erase` and calls `forgetUser` for
   * the devices the user shares.
   */
  eraseUser(userId: string): Promise<void>;
  /**
   * User erasure on a device the user shares with another user: forgets the user as the device's last
   * linked user and queues an `erase-user` record in the device's partition, behind the device's
   * queued entries (so sessions converted to the user that are still queued are removed too).
   */
  forgetUser(deviceId: string, userId: string): Promise<void>;
}
