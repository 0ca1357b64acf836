// The params of one of the sim's extra JSON-RPC methods checked against their zod schema: the data, or the site's fault naming the first problem.
import type { z } from 'zod';
import { ErrorCode, ShotgunFault } from '../../shared/site/index.js';

export function parseParams<S extends z.ZodType>(method: string, schema: S, raw: unknown): z.infer<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new ShotgunFault(`API ${method}() invalid parameters: ${issue.path.join('.') || 'params'}: ${issue.message}`, ErrorCode.API);
}
