import { describe, expect, it } from 'vitest';
import { automationSignals } from './automation-signals.js';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36';

describe('automationSignals', () => {
  it('finds nothing in an ordinary browser', () => {
    expect(
      automationSignals({
        navigator: {
          webdriver: false,
          userAgent: CHROME,
          userAgentData: { brands: [{ brand: 'Google Chrome' }] },
        },
        window: {},
        document: {},
      }),
    ).toEqual([]);
  });

  it('reports navigator.webdriver, headless markers and the globals drivers leave', () => {
    expect(
      automationSignals({
        navigator: {
          webdriver: true,
          userAgent: CHROME.replace('Chrome/', 'HeadlessChrome/'),
          userAgentData: { brands: [{ brand: 'HeadlessChrome' }] },
        },
        window: { callPhantom: () => {}, __nightmare: {} },
        document: { $cdc_asdjflasutopfhvcZLmcfl_: {} },
      }),
    ).toEqual(['webdriver', 'headless', 'phantom', 'nightmare', 'selenium']);
  });

  it('never throws on a hostile global', () => {
    const hostile = new Proxy(
      {},
      {
        has() {
          throw new Error('no');
        },
      },
    );
    expect(automationSignals({ navigator: { webdriver: true }, window: hostile })).toEqual(['webdriver']);
  });

  it('reads the real globals by default (none under Node)', () => {
    expect(automationSignals()).toEqual([]);
  });
});
