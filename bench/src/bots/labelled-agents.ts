/**
 * The user agents of benchmark `bots`, by label. People's are current desktop and mobile browsers, set
 * on the simulated people's browser contexts unedited; listed clients are the pinned crawler corpus
 * (`@devicelink/fastify/testing`'s `BOT_USER_AGENTS`, unedited) plus the scripted clients below.
 */

/** Stable desktop and mobile browsers: what the people and the NAT control's browsers send. */
export const PEOPLE_USER_AGENTS: readonly string[] = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:146.0) Gecko/20100101 Firefox/146.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0',
];

/** The fleet's two user agents, half each. */
export const FLEET_USER_AGENTS: readonly [windows: string, mac: string] = [
  PEOPLE_USER_AGENTS[0]!,
  PEOPLE_USER_AGENTS[1]!,
];

/** Common scripted HTTP clients, as their libraries send them. */
export const SCRIPTED_USER_AGENTS: readonly string[] = [
  'curl/8.4.0',
  'python-requests/2.31.0',
  'Go-http-client/1.1',
  'Wget/1.21.4',
  'axios/1.7.2',
];

/** Headless and driven browsers by user agent (the classifier microbenchmark's automation set). */
export const AUTOMATION_USER_AGENTS: readonly string[] = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/143.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) harvester/2.0 Chrome/120.0.6099.291 Electron/28.2.3 Safari/537.36',
];
