import { describe, expect, it } from 'vitest';
import { csvCell } from './data-export.js';

describe('csvCell', () => {
  it('prefixes a quote to cells a spreadsheet would run as a formula, and quotes them', () => {
    expect(csvCell('=HYPERLINK("https://evil.test","x")')).toBe(
      '"\'=HYPERLINK(""https://evil.test"",""x"")"',
    );
    for (const lead of ['=', '+', '-', '@', '\t', '\r']) {
      expect(csvCell(`${lead}1+1`)).toBe(`"'${lead}1+1"`);
    }
  });

  it('leaves plain cells as they are and quotes commas, quotes and line breaks (RFC 4180)', () => {
    expect(csvCell('https://shop.test/a')).toBe('https://shop.test/a');
    expect(csvCell('user 1')).toBe('user 1');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('a\nb')).toBe('"a\nb"');
    expect(csvCell(null)).toBe('');
  });
});
