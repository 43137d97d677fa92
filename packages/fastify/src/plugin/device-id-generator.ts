/**
 * The server tier's ids: 128 random bits as base64url (22 characters), from Node's CSPRNG.
 * Bytes are drawn in blocks so the hot path makes one `randomBytes` call per 256 ids.
 */
import { randomBytes } from 'node:crypto';
import { isValidDeviceId } from '@devicelink/protocol';

const ID_BYTES = 16;
const POOL_IDS = 256;
let pool = Buffer.alloc(0);
let offset = 0;

/** A new random device id (128 bits, base64url); always passes `isValidDeviceId`. */
export function generateDeviceId(): string {
  for (;;) {
    if (offset + ID_BYTES > pool.length) {
      pool = randomBytes(ID_BYTES * POOL_IDS);
      offset = 0;
    }
    const id = pool.subarray(offset, offset + ID_BYTES).toString('base64url');
    offset += ID_BYTES;
    // One character repeated 22 times is refused by the contract; the odds are 2^-122, but the
    // generator must never hand out an id the validator would treat as absent.
    if (isValidDeviceId(id)) return id;
  }
}
