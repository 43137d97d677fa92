/**
 * The collector's admin device detail (`GET /v1/admin/devices/:id`), read from the test process with
 * the admin token: Postgres is the source of every report, so this is where persisted page views,
 * sessions, links, edges and the resolved browser are checked.
 */
import { ADMIN_TOKEN } from './collector-process.js';

/** The parts of the admin device detail the tests read. */
export interface DeviceDetail {
  deviceId: string;
  liveSession: { sessionId: string; pagesVisited: number } | null;
  persisted: {
    pageViews: number;
    sessions: { id: string; source: string; pageViews: number; convertedUserId: string | null }[];
  };
  links: { userId: string; linkedAt: string }[];
  edges: { deviceId: string; otherId: string; kind: 'cookie' | 'yield' | 'join'; inferred: boolean }[];
  /** The ids of the device's browser (cookie edges and standing joins), the earliest first. */
  browser: { canonicalId: string; devices: { deviceId: string; inferred: boolean }[] };
}

/** Reads the detail of `deviceId`; throws on any answer but 200. */
export async function deviceDetail(collector: string, deviceId: string): Promise<DeviceDetail> {
  const res = await fetch(`${collector}/v1/admin/devices/${encodeURIComponent(deviceId)}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  if (res.status !== 200) throw new Error(`admin detail answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as DeviceDetail;
}
