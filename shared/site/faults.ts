// Faults as values: Shotgun's JSON-RPC error envelope (HTTP 200, {"exception": true, "error_code", "message"}).

/** Error codes the client interprets (protocol.md §1.5) and the generic ones the site uses otherwise. */
export const ErrorCode = {
  /** The generic API fault the site uses for invalid requests (bad field, bad operator, bad value). */
  API: 103,
  AUTHENTICATION: 102,
  TWO_FACTOR_MISSING: 106,
  SSO_USER_CREDENTIALS: 108,
  /** Entity not found, and other "record" faults. */
  RECORD_NOT_FOUND: 104,
  /** Permission denied. */
  PERMISSION: 105,
  /** fpt-cache's own: the caller demanded a cache hit and the read had to pass through. */
  CACHE_MISS_REFUSED: 1001,
  /** fpt-cache's own: the reply would exceed a transport limit. */
  REPLY_TOO_LARGE: 1002,
  /** fpt-cache's own: the upstream site could not be reached. */
  UPSTREAM_UNAVAILABLE: 1003,
} as const;

export interface FaultBody {
  exception: true;
  message: string;
  error_code: number;
}

/** A fault the site (or fpt-cache speaking as the site) returns to the client. */
export class ShotgunFault extends Error {
  constructor(
    message: string,
    readonly errorCode: number = ErrorCode.API,
  ) {
    super(message);
    this.name = 'ShotgunFault';
  }
  toBody(): FaultBody {
    return { exception: true, message: this.message, error_code: this.errorCode };
  }
}

export function isFaultBody(v: unknown): v is FaultBody {
  return typeof v === 'object' && v !== null && (v as { exception?: unknown }).exception === true;
}
