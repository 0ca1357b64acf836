// shared/query: answering a read from the store: the planner (which index answers a read, or why it passes) and the read engine.
// May import: site, schema, semantics, store. This index is the package's only public face: other packages import it, never a file inside.
export { answersMissing, CLOCK_OPERATORS, planRead, type PlanOptions } from './planner.js';
export { MAX_SCAN_ENTITIES, ReadEngine, summarizeAsRead } from './read-engine.js';
export { DEFAULT_VOLATILE_POLICY, fieldOwner, type VolatilePolicy, type VolatileRef, volatileReason } from './volatile-values.js';
