/**
 * The read API's answers are described once, in `@devicelink/protocol` (read-api): the routes serialize
 * with those schemas and the dashboard reads the types derived from them. These checks tie the third
 * party, the collector's read functions, to the same types: a field a query stops returning, or returns
 * with another type, fails `npm run typecheck` here instead of answering 500 at run time.
 */
import { ROLLUP_OTHER_KEY } from '@devicelink/persister';
import {
  type ConversionFigures,
  type ExcludedTraffic,
  type IdentityFigures,
  type JourneyPage,
  type PathsBeforeLogin,
  pathsAnswer,
  type SeriesPoint,
  type TopPages,
  topAnswer,
} from '@devicelink/protocol/schemas';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { excludedTraffic } from '../src/read/excluded-traffic.js';
import type { IdentitySource } from '../src/read/identity-figures.js';
import type {
  conversionFigures,
  pathsBeforeLogin,
  timeSeries,
  topPages,
} from '../src/read/rollup-queries.js';
import type { userJourney } from '../src/read/user-journey.js';

type Answer<F extends (...args: never[]) => Promise<unknown>> = Awaited<ReturnType<F>>;

describe('the read API schemas', () => {
  it('describe what the read functions return (checked by tsc)', () => {
    expectTypeOf<Answer<typeof timeSeries>[number]>().toExtend<SeriesPoint>();
    expectTypeOf<Answer<typeof conversionFigures>>().toExtend<ConversionFigures>();
    expectTypeOf<Answer<typeof pathsBeforeLogin>>().toExtend<PathsBeforeLogin>();
    expectTypeOf<Answer<typeof topPages>>().toExtend<TopPages>();
    expectTypeOf<Answer<typeof excludedTraffic>>().toExtend<ExcludedTraffic>();
    expectTypeOf<Answer<IdentitySource['figures']>>().toExtend<IdentityFigures>();
    expectTypeOf<Answer<typeof userJourney>>().toExtend<JourneyPage>();
  });

  it('name the persister’s catch-all roll-up key in the description of a key', () => {
    for (const schema of [pathsAnswer.properties.entryPages, topAnswer.properties.pages]) {
      expect(schema.items.properties.key.description).toContain(`"${ROLLUP_OTHER_KEY}"`);
    }
  });
});
