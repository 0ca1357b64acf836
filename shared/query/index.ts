// PUBLIC FACE of shared/query
export { CLOCK_OPERATORS, planRead } from './planner.js';
export { MAX_SCAN_ENTITIES, ReadEngine, summarizeAsRead } from './read-engine.js';
