// The hit-or-pass decision for one JSON-RPC request: the seam where cached reads will plug in.
import type { RpcRequest } from './wire.js';

/** Why a request went to the site instead of the cache; sent to the client as `x-fpt-cache-reason`. */
export type PassReason = 'read-engine-not-ready' | `method:${string}`;

export type RouteDecision =
  | { kind: 'pass'; reason: PassReason };
// The cached-reads work adds: | { kind: 'hit'; ... } (answered from DynamoDB).

/**
 * Decides how to answer a well-formed request. Today every request passes through: reads because the read
 * engine is not wired in yet, everything else because only reads can ever be answered from the cache.
 */
export function decideRoute(request: RpcRequest): RouteDecision {
  if (request.method_name === 'read') return { kind: 'pass', reason: 'read-engine-not-ready' };
  return { kind: 'pass', reason: `method:${request.method_name}` };
}
