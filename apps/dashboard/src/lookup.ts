/**
 * The lookup: a user id shows the user's journey (the anonymous page views of the sessions converted
 * to the user, then the signed-in ones, per device, in time order, a page at a time); a device id shows
 * its sessions, links, edges and browser. Ids and URLs are shown as text.
 */
import type { DeviceDetail, JourneyPage } from '@devicelink/protocol/schemas';
import type { Api } from './api-client.js';
import { el, show, table } from './dom.js';

const when = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : null);

/**
 * Shows the journey of `userId` in `result`, with a button for the next page; `traffic` as the figures
 * have it (`all` with "Include bots and automation", else people only).
 */
export async function showJourney(
  api: Api,
  userId: string,
  result: HTMLElement,
  traffic: 'all' | 'human',
): Promise<boolean> {
  const first = await api.get<JourneyPage>(`/v1/admin/users/${encodeURIComponent(userId)}`, {
    limit: 100,
    traffic,
  });
  const heading = el('h3');
  heading.append('Journey of ', el('code', userId));
  const sessions = table(
    'Sessions converted to this user (anonymous before the login)',
    ['Session', 'Device', 'Started', 'Page views', 'Converted at', 'How'],
    (first.sessions ?? []).map((s) => [
      s.sessionId,
      s.deviceId,
      when(s.firstSeen),
      s.pageViews,
      when(s.convertedAt),
      s.inferred ? 'inferred join' : 'login',
    ]),
    { textColumns: [0, 1], id: 'journey-sessions-table' },
  );
  const links = table(
    'Logins: the devices linked to this user',
    ['Device', 'Linked at'],
    (first.links ?? []).map((l) => [l.deviceId, when(l.linkedAt)]),
    { textColumns: [0], id: 'journey-links-table' },
  );
  const pageOf = (cursor?: string) =>
    api.get<JourneyPage>(`/v1/admin/users/${encodeURIComponent(userId)}`, { cursor, limit: 100, traffic });
  const [steps, more] = stepsTable(first, pageOf);
  show(result, heading, sessions, links, steps, more);
  // A user with only a link (their page views all excluded from this scope) is still stored.
  return first.steps.length > 0 || (first.sessions?.length ?? 0) > 0 || (first.links?.length ?? 0) > 0;
}

/** The journey's page views, the first page's and, at each click of its button, the next page's. */
function stepsTable(
  first: JourneyPage,
  pageOf: (cursor: string | undefined) => Promise<JourneyPage>,
): [HTMLTableElement, HTMLButtonElement] {
  const steps = table(
    'Page views in time order',
    ['Time (UTC)', 'Signed in', 'Device', 'Session', 'Page', 'Referrer'],
    [],
    { textColumns: [2, 3, 4, 5], id: 'journey-table' },
  );
  const body = steps.tBodies[0]!;
  const more = el('button', 'More page views', 'secondary');
  more.type = 'button';
  const append = (page: JourneyPage) => {
    for (const s of page.steps) {
      const tr = el('tr');
      tr.dataset.signedIn = String(s.signedIn);
      tr.append(
        el('td', when(s.at)),
        el('td', s.signedIn ? 'yes' : 'no (before login)'),
        el('td', s.deviceId ?? '–', 'text'),
        el('td', s.sessionId ?? '–', 'text'),
        el('td', s.url, 'text'),
        el('td', s.referrer ?? '–', 'text'),
      );
      body.append(tr);
    }
    more.hidden = page.nextCursor === null;
    more.dataset.cursor = page.nextCursor ?? '';
  };
  append(first);
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      append(await pageOf(more.dataset.cursor));
    } finally {
      more.disabled = false;
    }
  });
  return [steps, more];
}

/** Shows the sessions, links, edges and browser of `deviceId` in `result`. */
export async function showDevice(api: Api, deviceId: string, result: HTMLElement): Promise<boolean> {
  const d = await api.get<DeviceDetail>(`/v1/admin/devices/${encodeURIComponent(deviceId)}`);
  const heading = el('h3');
  heading.append('Device ', el('code', deviceId));
  show(
    result,
    heading,
    table(
      'Sessions',
      ['Session', 'Source', 'Started', 'Page views', 'Converted to'],
      d.persisted.sessions.map((s) => [s.id, s.source, when(s.firstSeen), s.pageViews, s.convertedUserId]),
      { textColumns: [0, 4], id: 'device-sessions-table' },
    ),
    table(
      'Links (logins)',
      ['User', 'Linked at'],
      d.links.map((l) => [l.userId, when(l.linkedAt)]),
      {
        textColumns: [0],
        id: 'device-links-table',
      },
    ),
    table(
      'Edges',
      ['Device', 'Other id', 'Kind', 'First seen'],
      // A join is a fingerprint inference (revocable), not an observed fact: it says so.
      d.edges.map((e) => [
        e.deviceId,
        e.otherId,
        e.inferred ? `${e.kind} (inferred)` : e.kind,
        when(e.firstSeen),
      ]),
      { textColumns: [0, 1], id: 'device-edges-table' },
    ),
    table(
      `Browser (ids resolved to ${d.browser.canonicalId})`,
      ['Device', 'Reached', 'First seen'],
      d.browser.devices.map((m) => [
        m.deviceId,
        m.inferred ? 'through a fingerprint join (inferred)' : 'cookie or yield edge',
        m.firstSeen === null ? null : when(m.firstSeen),
      ]),
      { textColumns: [0], id: 'device-browser-table' },
    ),
  );
  return d.persisted.sessions.length > 0 || d.links.length > 0 || d.edges.length > 0;
}
