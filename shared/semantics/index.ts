// shared/semantics: Shotgun's read semantics over plain records: filters and operators, field paths, links and names, ordering, paging, projection, relative dates, summaries, the read pipeline, canonical JSON, the types a read touches.
// May import: site, schema. This index is the package's only public face: other packages import it, never a file inside.
export { type EntityLookup, type EntityRecord } from './records.js';
export { identifierValue, wireLink } from './links.js';
export { collectFieldPaths, parseFieldPath } from './field-paths.js';
export { isOperator, NEGATIONS, OPERATORS_BY_TYPE, operatorsFor } from './operators.js';
export { calendarWindow, relativeWindow, shiftUtc } from './relative-dates.js';
export { wireValue } from './projection.js';
export { executeRead, executeSummarize, readMatcher, type ReadContext, type SummarizeResult, validateRead, validateSummarize } from './read-semantics.js';
export { canonical, canonicalDigest } from './canonical-json.js';
export { dependentTypes, readTypes } from './read-types.js';
export { pageBounds, pagingInfo } from './paging.js';
export { cmpCodePoint, idOrder } from './ordering.js';
export {
  DEFAULT_RULES,
  MEASURE_FIRST,
  RULE_NAMES,
  type RuleName,
  type RuleRecord,
  type RuleStatus,
  type RuleValues,
  RuleValuesSchema,
  SiteRules,
} from './site-rules.js';
