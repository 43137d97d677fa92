/**
 * How a queue record is stored in a stream entry. Fields: `r` the record as JSON with null fields
 * left out; for records written by the session scripts also `t` (server time from Redis `TIME`, ms:
 * `serverTs` of a page view, `ts` of the others) and `s` (the session id of a page view or link).
 */
import type { EdgeKind, PageviewRecord, QueueRecord, TrafficClass } from '@devicelink/protocol';

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
  if (raw.kind === 'pageview') return decodePageview(raw, t, s);
  return decodeTimedRecord(raw, t ?? (raw.ts as number), s);
}

/** A field left out of the JSON for being null. */
const orNull = <T>(v: unknown): T | null => (v === undefined ? null : (v as T));

/** A page view, with the server time `t` and the session id `s` its script stored beside the JSON. */
function decodePageview(raw: Record<string, unknown>, t: number | null, s: string | null): PageviewRecord {
  return {
    kind: 'pageview',
    eventId: raw.eventId as string,
    deviceId: orNull(raw.deviceId),
    userId: orNull(raw.userId),
    sessionId: s ?? orNull(raw.sessionId),
    source: orNull(raw.source),
    visitorHash: orNull(raw.visitorHash),
    userAgent: orNull(raw.userAgent),
    url: raw.url as string,
    referrer: orNull(raw.referrer),
    clientTs: orNull(raw.clientTs),
    serverTs: t ?? (raw.serverTs as number),
    ...(raw.trafficClass === undefined ? {} : { trafficClass: raw.trafficClass as TrafficClass }),
    ...(raw.trafficReason === undefined ? {} : { trafficReason: raw.trafficReason as string }),
    ...(raw.networkHash === undefined ? {} : { networkHash: raw.networkHash as string }),
  };
}

/** Any record but a page view, at `ts` (its script's server time, else its own). */
function decodeTimedRecord(raw: Record<string, unknown>, ts: number, s: string | null): QueueRecord {
  const deviceId = raw.deviceId as string;
  switch (raw.kind) {
    case 'link':
      return {
        kind: 'link',
        deviceId,
        userId: raw.userId as string,
        ts,
        sessionId: s ?? orNull(raw.sessionId),
      };
    case 'edge':
      return { kind: 'edge', edge: raw.edge as EdgeKind, deviceId, otherId: raw.otherId as string, ts };
    case 'boundary':
      return { kind: 'boundary', deviceId, otherId: raw.otherId as string, ts };
    case 'unjoin':
      return { kind: 'unjoin', deviceId, ts };
    case 'forget-edges':
      return { kind: 'forget-edges', deviceId, ts };
    case 'erase':
      return { kind: 'erase', deviceId, ts };
    case 'erase-user':
      return { kind: 'erase-user', userId: raw.userId as string, ts };
    default:
      throw new TypeError(`unknown queue record kind ${JSON.stringify(raw.kind)}`);
  }
}
