/**
 * `@devicelink/protocol/schemas`: the JSON schemas of the collector's HTTP API (the events body as
 * documented, the read API's answers) and the types derived from them. A subpath of its own: the SDK
 * bundles the main entry and must not carry schema text it never uses.
 */
export { EVENTS_BODY_SCHEMA } from './events-body-schema.js';
export type {
  ConversionFigures,
  DeviceDetail,
  EntryRow,
  ExcludedTraffic,
  HistogramBin,
  IdentityFigures,
  JourneyPage,
  PathsBeforeLogin,
  SeriesPoint,
  TimeSeries,
  TopPages,
  TopRow,
} from './read-api.js';
export {
  conversionAnswer,
  deviceAnswer,
  excludedAnswer,
  identityAnswer,
  journeyAnswer,
  pathsAnswer,
  timeSeriesAnswer,
  topAnswer,
} from './read-api.js';
