// PUBLIC FACE of shared/semantics
export { type EntityLookup, type EntityRecord } from './records.js';
export { identifierValue, wireLink } from './links.js';
export { collectFieldPaths, parseFieldPath } from './field-paths.js';
export { isOperator, OPERATORS_BY_TYPE, operatorsFor } from './filters.js';
export { calendarWindow, relativeWindow, shiftUtc } from './relative-dates.js';
export { wireValue } from './projection.js';
export { executeRead, executeSummarize, type ReadContext, type SummarizeResult, validateRead, validateSummarize } from './read-semantics.js';
export { canonical, canonicalDigest } from './canonical-json.js';
export { readTypes } from './read-types.js';
