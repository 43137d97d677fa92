/**
 * How a queue record is stored in a stream entry. Fields: `r` the record as JSON with null fields
 * left out; for records written by the session scripts also `t` (server time from Redis `TIME`, ms:
 * `serverTs` of a page view, `ts` of the others) and `s` (the session id of a page view or link).
 */
import type { EdgeKind, QueueRecord, TrafficClass } from '@devicelink/protocol';

/** The JSON of a record with null fields dropped (they are restored by {@link decodeRecord}). */
export function encodeRecord(record: object): string {
  // Records are flat. Copying without the nulls keeps JSON.stringify on its fast path, which a replacer
  // function turns off (this showed at 3.6% of the collector's CPU profile).
  const kept: Record<string, unknown> = {};
  for (const key in record) {
    const value = (record as Record<string, unknown>)[key];
    if (value !== null && value !== undefined) kept[key] = value;
  }
  return JSON.stringify(kept);
}

/** Turns the fields of a stream entry (`[name, value, …]`) back into a queue record. */
export function decodeRecord(fields: readonly string[]): QueueRecord {
  let r = '{}';
  let t: number | null = null;
  let s: string | null = null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1]!;
    if (name === 'r') r = value;
    else if (name === 't') t = Number(value);
    else if (name === 's') s = value;
  }
  const raw = JSON.parse(r) as Record<string, unknown>;
  const or = <T>(v: unknown, fallback: T): T => (v === undefined ? fallback : (v as T));
  switch (raw.kind) {
    case 'pageview':
      return {
        kind: 'pageview',
        eventId: raw.eventId as string,
        deviceId: or(raw.deviceId, null),
        userId: or(raw.userId, null),
        sessionId: s ?? or(raw.sessionId, null),
        source: or(raw.source, null),
        visitorHash: or(raw.visitorHash, null),
        userAgent: or(raw.userAgent, null),
        url: raw.url as string,
        referrer: or(raw.referrer, null),
        clientTs: or(raw.clientTs, null),
        serverTs: t ?? (raw.serverTs as number),
        ...(raw.trafficClass === undefined ? {} : { trafficClass: raw.trafficClass as TrafficClass }),
        ...(raw.trafficReason === undefined ? {} : { trafficReason: raw.trafficReason as string }),
        ...(raw.networkHash === undefined ? {} : { networkHash: raw.networkHash as string }),
      };
    case 'link':
      return {
        kind: 'link',
        deviceId: raw.deviceId as string,
        userId: raw.userId as string,
        ts: t ?? (raw.ts as number),
        sessionId: s ?? or(raw.sessionId, null),
      };
    case 'edge':
      return {
        kind: 'edge',
        edge: raw.edge as EdgeKind,
        deviceId: raw.deviceId as string,
        otherId: raw.otherId as string,
        ts: t ?? (raw.ts as number),
      };
    case 'boundary':
      return {
        kind: 'boundary',
        deviceId: raw.deviceId as string,
        otherId: raw.otherId as string,
        ts: t ?? (raw.ts as number),
      };
    case 'unjoin':
      return { kind: 'unjoin', deviceId: raw.deviceId as string, ts: t ?? (raw.ts as number) };
    case 'forget-edges':
      return { kind: 'forget-edges', deviceId: raw.deviceId as string, ts: t ?? (raw.ts as number) };
    case 'erase':
      return { kind: 'erase', deviceId: raw.deviceId as string, ts: t ?? (raw.ts as number) };
    case 'erase-user':
      return { kind: 'erase-user', userId: raw.userId as string, ts: t ?? (raw.ts as number) };
    default:
      throw new TypeError(`unknown queue record kind ${JSON.stringify(raw.kind)}`);
  }
}
