// A filter leaf as the value-predicate builders see it: its field, operator and values, and the shared failure and arity checks.
import type { DataType } from '../site/index.js';
import type { FieldPath } from './field-paths.js';
import type { Operator } from './operators.js';
import type { EntityLookup } from './records.js';
import type { SiteSchema } from '../schema/index.js';
import type { RuleValues } from './site-rules.js';

export interface FilterEnv {
  schema: SiteSchema;
  lookup: EntityLookup;
  /** The clock for relative date operators. */
  now: Date;
  /** The RPC method named in fault messages: "read", "summarize". */
  method: string;
  /** The site's rules for negations through a multi-entity hop (default: docs/semantics.md's). */
  rules?: Pick<RuleValues, 'multiNegation' | 'negationNulls'>;
}

export type ValuePredicate = (v: unknown) => boolean;

export interface LeafSpec {
  label: string;
  dataType: DataType;
  /** The positive operator evaluated; the caller negates. */
  op: Operator;
  /** The operator as the request wrote it, for messages. */
  shownOp: Operator;
  values: unknown[];
  path: FieldPath;
}

export type Fail = (msg: string) => never;
export type Arity = (n: number) => void;

export const isNull: ValuePredicate = (x) => x === null || x === undefined;
export const NEVER: ValuePredicate = () => false;

export function unsupported(s: LeafSpec, fail: Fail): never {
  return fail(`operator '${s.shownOp}' is not valid for a ${s.dataType} field`);
}

export function describeValue(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a dict';
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  return String(v);
}
