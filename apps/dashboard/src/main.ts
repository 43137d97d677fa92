/**
 * The dashboard page: sign-in with a token (kept in this tab's sessionStorage), the controls (range,
 * bucket, time zone) and the panels. Every request goes to this collector's documented read routes.
 */
import { Api, ApiError, storedToken, storeToken } from './api-client.js';
import { emptyUnlessExcluded, excludedPanel, fetchExcluded } from './excluded-panel.js';
import { showDevice, showJourney } from './lookup.js';
import {
  conversionPanel,
  identityPanel,
  pathsPanel,
  runPanel,
  topPanel,
  trafficPanel,
  type View,
} from './panels.js';
import { type Bucket, DEFAULT_PRESET, defaultBucket, rangeOf, wallDate } from './time-range.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let api: Api | null = null;

function signedOut(message = ''): void {
  api = null;
  storeToken(null);
  $('board').hidden = true;
  $('controls').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-status').textContent = message;
  $<HTMLInputElement>('token').value = '';
}

function currentView(): View | null {
  if (!api) return null;
  const tz = $<HTMLInputElement>('tz').value.trim() || 'UTC';
  const preset = $<HTMLSelectElement>('range').value;
  let range: { from: Date; to: Date };
  try {
    range = rangeOf(preset, tz, new Date(), {
      from: $<HTMLInputElement>('custom-from').value,
      to: $<HTMLInputElement>('custom-to').value,
    });
  } catch {
    // A zone the browser does not know: ask in UTC, the collector answers whether it knows the zone.
    range = rangeOf(preset, 'UTC', new Date());
  }
  const traffic = $<HTMLInputElement>('all-traffic').checked ? 'all' : 'human';
  return { api, ...range, bucket: $<HTMLSelectElement>('bucket').value as Bucket, tz, traffic };
}

function refresh(): void {
  const view = currentView();
  if (!view) return;
  $('range-caption').textContent =
    `From ${view.from.toISOString()} to ${view.to.toISOString()} (UTC), shown per ${view.bucket} in ${view.tz}.`;
  const onAuth = () => signedOut('The token was refused.');
  const excluded = fetchExcluded(view);
  // Unread when every panel has data: a failure is the excluded panel's to show, not unhandled.
  excluded.catch(() => {});
  const empty = emptyUnlessExcluded(view, excluded);
  void runPanel('panel-traffic', (p) => trafficPanel(view, p), onAuth, empty);
  void runPanel('panel-conversion', (p) => conversionPanel(view, p), onAuth, empty);
  void runPanel('panel-paths', (p) => pathsPanel(view, p), onAuth, empty);
  void runPanel('panel-top', (p) => topPanel(view, p), onAuth, empty);
  void runPanel(
    'panel-excluded',
    (p) => excludedPanel(p, excluded),
    onAuth,
    'Nothing was excluded in this range.',
  );
  void runPanel('panel-identity', (p) => identityPanel(view, p), onAuth);
}

async function signIn(token: string): Promise<void> {
  const candidate = new Api(token);
  const status = $('sign-in-status');
  status.textContent = 'Checking…';
  try {
    await candidate.get('/v1/admin/insights/identity');
  } catch (err) {
    status.textContent =
      err instanceof ApiError && err.status === 401
        ? 'This token was refused.'
        : `Could not sign in: ${err instanceof Error ? err.message : String(err)}`;
    storeToken(null);
    return;
  }
  api = candidate;
  storeToken(token);
  status.textContent = '';
  $<HTMLInputElement>('token').value = '';
  $('sign-in').hidden = true;
  $('board').hidden = false;
  $('controls').hidden = false;
  refresh();
}

function setUp(): void {
  const tz = $<HTMLInputElement>('tz');
  tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const zones =
    (Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  const list = $('tz-list');
  for (const z of ['UTC', ...zones]) {
    const o = document.createElement('option');
    o.value = z;
    list.append(o);
  }
  $<HTMLSelectElement>('range').value = DEFAULT_PRESET;
  $<HTMLSelectElement>('bucket').value = defaultBucket(DEFAULT_PRESET);
  const today = wallDate(new Date(), tz.value);
  $<HTMLInputElement>('custom-to').value = today;
  $<HTMLInputElement>('custom-from').value = today;

  $('sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void signIn($<HTMLInputElement>('token').value.trim());
  });
  $('controls').addEventListener('submit', (e) => {
    e.preventDefault();
    refresh();
  });
  $('range').addEventListener('change', () => {
    const preset = $<HTMLSelectElement>('range').value;
    $('custom-from-label').hidden = preset !== 'custom';
    $('custom-to-label').hidden = preset !== 'custom';
    if (preset !== 'custom') $<HTMLSelectElement>('bucket').value = defaultBucket(preset);
  });
  $('sign-out').addEventListener('click', () => signedOut());
  // Back from another tab (the demo, clicked through): the same preset again, up to this minute.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') refresh();
  });
  $('lookup-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $<HTMLInputElement>('lookup-id').value.trim();
    const kind = $<HTMLSelectElement>('lookup-kind').value;
    if (!api || !id) return;
    const current = api;
    void runPanel(
      'panel-lookup',
      (panel) => {
        const result = panel.querySelector<HTMLElement>('[data-result]')!;
        const traffic = $<HTMLInputElement>('all-traffic').checked ? 'all' : 'human';
        return kind === 'device'
          ? showDevice(current, id, result)
          : showJourney(current, id, result, traffic);
      },
      () => signedOut('The token was refused.'),
      'Nothing is stored for this id.',
    );
  });

  const token = storedToken();
  if (token) void signIn(token);
}

setUp();
