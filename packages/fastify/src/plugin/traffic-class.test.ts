import { describe, expect, it } from 'vitest';
import { BOT_USER_AGENTS } from './bot-user-agents.fixture.js';
import {
  automationSignals,
  classifyUserAgent,
  createTrafficClassifier,
  MAX_CLASSIFIED_USER_AGENT,
} from './traffic-class.js';

/** Current desktop and mobile browsers (late 2026 versions; the shapes the browsers send). */
const HUMAN_USER_AGENTS: Record<string, string> = {
  'Chrome, Windows':
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36',
  'Chrome, macOS':
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36',
  'Chrome, Linux':
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36',
  'Chrome, Android':
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36',
  'Chrome, iOS':
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/143.0.7499.92 Mobile/15E148 Safari/604.1',
  'Firefox, Windows': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:146.0) Gecko/20100101 Firefox/146.0',
  'Firefox, macOS': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:146.0) Gecko/20100101 Firefox/146.0',
  'Firefox, Linux': 'Mozilla/5.0 (X11; Linux x86_64; rv:146.0) Gecko/20100101 Firefox/146.0',
  'Firefox ESR, Linux': 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0',
  'Firefox, Android': 'Mozilla/5.0 (Android 15; Mobile; rv:146.0) Gecko/146.0 Firefox/146.0',
  'Safari, macOS':
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15',
  'Safari, iPhone':
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1',
  'Safari, iPad':
    'Mozilla/5.0 (iPad; CPU OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1',
  'Edge, Windows':
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0',
  'Edge, macOS':
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0',
  'Edge, Android':
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36 EdgA/143.0.0.0',
  'Samsung Internet':
    'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S928B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36',
  'Opera, Windows':
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 OPR/125.0.0.0',
};

describe('classifyUserAgent', () => {
  it.each(Object.entries(HUMAN_USER_AGENTS))('counts %s as human', (_name, userAgent) => {
    expect(classifyUserAgent(userAgent)).toEqual({ class: 'human', reason: null });
  });

  it('marks every user agent of the pinned crawler corpus as non-human', () => {
    expect(BOT_USER_AGENTS.length).toBeGreaterThanOrEqual(100);
    const missed = BOT_USER_AGENTS.filter((ua) => classifyUserAgent(ua).class === 'human');
    expect(missed).toEqual([]);
  });

  it.each([
    ['curl/8.4.0', 'bot', 'ua:curl/'],
    ['python-requests/2.31.0', 'bot', 'ua:python-requests'],
    ['Go-http-client/1.1', 'bot', 'ua:go-http-client'],
    ['Wget/1.21.4', 'bot', 'ua:wget/'],
    [
      'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot',
      'bot',
      'ua:chatgpt-user',
    ],
    [
      'Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)',
      'bot',
      'ua:bytespider',
    ],
    [
      'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
      'bot',
      'ua:facebookexternalhit',
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/143.0.0.0 Safari/537.36',
      'automation',
      'ua:headlesschrome',
    ],
    [
      'Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1',
      'automation',
      'ua:phantomjs',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) harvester/2.0.1 Chrome/120.0.6099.291 Electron/28.2.3 Safari/537.36',
      'automation',
      'ua:electron/',
    ],
  ])('classifies %s as %s (%s)', (userAgent, cls, reason) => {
    expect(classifyUserAgent(userAgent)).toEqual({ class: cls, reason });
  });

  it('marks a missing, blank or oversize user agent as a bot without reading it', () => {
    expect(classifyUserAgent(undefined)).toEqual({ class: 'bot', reason: 'ua:missing' });
    expect(classifyUserAgent('  ')).toEqual({ class: 'bot', reason: 'ua:missing' });
    const huge = `${HUMAN_USER_AGENTS['Chrome, Windows']} ${'x'.repeat(16 * 1024)}`;
    expect(huge.length).toBeGreaterThan(MAX_CLASSIFIED_USER_AGENT);
    expect(classifyUserAgent(huge)).toEqual({ class: 'bot', reason: 'ua:oversize' });
  });
});

describe('createTrafficClassifier', () => {
  const chrome = HUMAN_USER_AGENTS['Chrome, Linux']!;

  it('lets page signals mark a human user agent as automation', () => {
    const traffic = createTrafficClassifier();
    expect(traffic.classify(chrome, ['webdriver'])).toEqual({ class: 'automation', reason: 'sdk:webdriver' });
    expect(traffic.classify(chrome)).toEqual({ class: 'human', reason: null });
  });

  it('never lets page signals clear a user agent that is marked', () => {
    const traffic = createTrafficClassifier();
    expect(traffic.classify('curl/8.4.0', [])).toEqual({ class: 'bot', reason: 'ua:curl/' });
    expect(traffic.classify('curl/8.4.0', ['webdriver']).class).toBe('bot');
  });

  it('counts an allow-listed monitor as human whatever it matches, case-insensitively', () => {
    const traffic = createTrafficClassifier({ allowlist: ['UptimeRobot', 'my-headless-check'] });
    expect(
      traffic.classify('Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)'),
    ).toEqual({
      class: 'human',
      reason: 'allowlist:uptimerobot',
    });
    const check = `${chrome.replace('Chrome', 'HeadlessChrome')} My-Headless-Check/1`;
    expect(traffic.classify(check, ['webdriver'])).toEqual({
      class: 'human',
      reason: 'allowlist:my-headless-check',
    });
  });

  it('answers the same from its memo as from a first reading', () => {
    const traffic = createTrafficClassifier({ memo: 2 });
    const agents = ['curl/8.4.0', chrome, 'Go-http-client/2.0', chrome, 'curl/8.4.0'];
    for (const ua of agents) expect(traffic.classify(ua)).toEqual(classifyUserAgent(ua));
  });
});

describe('automationSignals', () => {
  it('keeps the known signals once and ignores anything else', () => {
    expect(automationSignals(['webdriver', 'webdriver', 'nope', 3, 'phantom'])).toEqual([
      'webdriver',
      'phantom',
    ]);
    expect(automationSignals('webdriver')).toEqual([]);
    expect(automationSignals(undefined)).toEqual([]);
  });
});
