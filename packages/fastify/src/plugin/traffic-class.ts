/**
 * Traffic classification (docs/protocol.md, Bots and automation): a pure function of the User-Agent
 * header and the page's own automation signals, run on every tracked request and on fingerprint
 * evidence. The user agent is read against a maintained list (`isbot`, Unlicense) and the driven-browser
 * markers it files under "bot" or misses; a small LRU memo keeps repeated user agents at a map lookup.
 */
import type { AutomationSignal, TrafficClass } from '@devicelink/protocol';
import { AUTOMATION_SIGNALS, MAX_TRAFFIC_REASON } from '@devicelink/protocol';
import { isbotMatch } from 'isbot';
import { LRUCache } from 'lru-cache';

/** A class and why: `ua:<what matched>`, `sdk:<signal>`, `allowlist:<entry>`; null reason for a plain human. */
export interface Classification {
  class: TrafficClass;
  reason: string | null;
}

/** Options of {@link createTrafficClassifier}. */
export interface TrafficClassifierOptions {
  /**
   * User-agent substrings (case-insensitive) of the operator's own monitors or apps: a user agent
   * holding one is `human` whatever else it matches (`BOT_ALLOWLIST`).
   */
  allowlist?: readonly string[];
  /** User agents remembered (default 10,000). */
  memo?: number;
}

/** Classifies a request; the same answer for the same input, memoised by user agent. */
export interface TrafficClassifier {
  /**
   * The class of a request from its User-Agent header and, when the page sent them, its automation
   * signals. Signals only ever add a mark: they never clear a user agent that is marked.
   */
  classify(userAgent: string | undefined | null, signals?: readonly AutomationSignal[]): Classification;
}

/**
 * Driven browsers and their toolkits, checked before the list: isbot files some of them under "bot"
 * (HeadlessChrome, PhantomJS) and misses others (Electron, Cypress). Lower case, matched as substrings.
 */
const AUTOMATION_MARKERS: readonly string[] = [
  'headlesschrome',
  'headless',
  'phantomjs',
  'slimerjs',
  'electron/',
  'puppeteer',
  'playwright',
  'selenium',
  'webdriver',
  'chromedriver',
  'nightmare',
  'cypress/',
  'zombie.js',
  'htmlunit',
];

/**
 * Crawlers and scripted clients the list is checked for here too, so the reason names them and an
 * upgrade of the list that drops one is caught by the tests. Lower case, matched as substrings.
 */
const BOT_MARKERS: readonly string[] = [
  'chatgpt-user',
  'gptbot',
  'bytespider',
  'facebookexternalhit',
  'python-requests',
  'python-urllib',
  'go-http-client',
  'curl/',
  'wget/',
];

/**
 * Longest user agent read: real browsers send a few hundred characters; a longer one is junk and is a
 * bot without running the list's pattern over it (it would take a fifth of a millisecond at 16 KB).
 */
export const MAX_CLASSIFIED_USER_AGENT = 1_024;

const HUMAN: Classification = Object.freeze({ class: 'human', reason: null });
const MISSING: Classification = Object.freeze({ class: 'bot', reason: 'ua:missing' });
const OVERSIZE: Classification = Object.freeze({ class: 'bot', reason: 'ua:oversize' });

const reasonOf = (prefix: string, what: string): string =>
  `${prefix}:${what.toLowerCase()}`.slice(0, MAX_TRAFFIC_REASON);

/**
 * The class of a user agent alone, without memo or allowlist (pure; the bench times it).
 *
 * @example
 * classifyUserAgent('curl/8.4.0'); // { class: 'bot', reason: 'ua:curl/' }
 */
export function classifyUserAgent(userAgent: string | undefined | null): Classification {
  if (typeof userAgent !== 'string' || userAgent.trim() === '') return MISSING;
  if (userAgent.length > MAX_CLASSIFIED_USER_AGENT) return OVERSIZE;
  const lower = userAgent.toLowerCase();
  for (const marker of AUTOMATION_MARKERS) {
    if (lower.includes(marker)) return { class: 'automation', reason: reasonOf('ua', marker) };
  }
  for (const marker of BOT_MARKERS) {
    if (lower.includes(marker)) return { class: 'bot', reason: reasonOf('ua', marker) };
  }
  const match = isbotMatch(userAgent);
  return match === null ? HUMAN : { class: 'bot', reason: reasonOf('ua', match) };
}

/** The signals of `value` that are known, without repeats (anything else a client sends is ignored). */
export function automationSignals(value: unknown): AutomationSignal[] {
  if (!Array.isArray(value)) return [];
  const known = AUTOMATION_SIGNALS as readonly unknown[];
  return [...new Set(value.filter((s): s is AutomationSignal => known.includes(s)))];
}

/**
 * A classifier with its allowlist and memo.
 *
 * @example
 * const traffic = createTrafficClassifier({ allowlist: ['UptimeRobot'] });
 * traffic.classify(request.headers['user-agent']).class; // 'human' | 'bot' | 'automation'
 */
export function createTrafficClassifier(options: TrafficClassifierOptions = {}): TrafficClassifier {
  const allowlist = (options.allowlist ?? []).map((entry) => entry.toLowerCase()).filter((e) => e !== '');
  const memo = new LRUCache<string, Classification>({ max: options.memo ?? 10_000 });

  function byUserAgent(userAgent: string | undefined | null): Classification {
    if (typeof userAgent !== 'string' || userAgent.length > MAX_CLASSIFIED_USER_AGENT) {
      return classifyUserAgent(userAgent);
    }
    const known = memo.get(userAgent);
    if (known !== undefined) return known;
    let result: Classification | undefined;
    if (allowlist.length > 0) {
      const lower = userAgent.toLowerCase();
      const entry = allowlist.find((e) => lower.includes(e));
      if (entry !== undefined)
        result = Object.freeze({ class: 'human', reason: reasonOf('allowlist', entry) });
    }
    result ??= Object.freeze(classifyUserAgent(userAgent));
    memo.set(userAgent, result);
    return result;
  }

  return {
    classify(userAgent, signals = []) {
      const byAgent = byUserAgent(userAgent);
      // The user agent's mark stands; the page's signals can only add one, and an allow-listed monitor
      // (the operator's own headless check) stays counted.
      if (byAgent.class !== 'human' || byAgent.reason !== null || signals.length === 0) return byAgent;
      return { class: 'automation', reason: reasonOf('sdk', signals[0]!) };
    },
  };
}
