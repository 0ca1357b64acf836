// The operator table: which filter operators each data type takes, and the negated pairs.
import type { DataType } from '../site/index.js';

export const OPERATORS = [
  'is',
  'is_not',
  'less_than',
  'greater_than',
  'contains',
  'not_contains',
  'starts_with',
  'ends_with',
  'between',
  'not_between',
  'in',
  'not_in',
  'in_last',
  'not_in_last',
  'in_next',
  'not_in_next',
  'in_calendar_day',
  'in_calendar_week',
  'in_calendar_month',
  'in_calendar_year',
  'type_is',
  'type_is_not',
  'name_contains',
  'name_not_contains',
  'name_starts_with',
  'name_ends_with',
  'name_is',
] as const;
export type Operator = (typeof OPERATORS)[number];

const ops = (s: string): readonly Operator[] => Object.freeze(s.split(' ') as Operator[]);
const NUMBER_OPS = ops('is is_not less_than greater_than between not_between in not_in');
const MEASURE_OPS = ops('is is_not greater_than less_than between in not_in');
const DATE_OPS = ops(
  'is is_not greater_than less_than in_last not_in_last in_next not_in_next in_calendar_day in_calendar_week in_calendar_month in_calendar_year between in not_in',
);
const ENUM_OPS = ops('is is_not in not_in');
const NONE: readonly Operator[] = Object.freeze([]);

/**
 * Valid filter operators per data type: the official table (python-api docs/reference.rst "Valid Operators By
 * Data Type"), plus the choices docs/semantics.md lists (entity_type/color/uuid/footage, name_starts_with and
 * name_ends_with on links, name_is on tag_list for the table's "name_id"). The `id` field is a number.
 */
export const OPERATORS_BY_TYPE: Readonly<Record<DataType, readonly Operator[]>> = Object.freeze({
  text: ops('is is_not contains not_contains starts_with ends_with in not_in'),
  number: NUMBER_OPS,
  currency: NUMBER_OPS,
  float: MEASURE_OPS,
  duration: MEASURE_OPS,
  percent: MEASURE_OPS,
  timecode: MEASURE_OPS,
  date: DATE_OPS,
  date_time: DATE_OPS,
  checkbox: ops('is is_not'),
  list: ENUM_OPS,
  status_list: ENUM_OPS,
  entity_type: ENUM_OPS,
  color: ENUM_OPS,
  uuid: ENUM_OPS,
  footage: ENUM_OPS,
  entity: ops('is is_not type_is type_is_not name_contains name_not_contains name_starts_with name_ends_with name_is in not_in'),
  multi_entity: ops('is is_not type_is type_is_not name_contains name_not_contains name_starts_with name_ends_with in not_in'),
  addressing: ops('is is_not contains not_contains in type_is type_is_not name_contains name_not_contains name_starts_with name_ends_with'),
  tag_list: ops('is is_not name_contains name_not_contains name_is'),
  image: ops('is is_not'),
  url: NONE,
  serializable: NONE,
  password: NONE,
  summary: NONE,
  pivot_column: NONE,
  calculated: NONE,
  url_template: NONE,
});

export function operatorsFor(dataType: DataType): readonly Operator[] {
  return OPERATORS_BY_TYPE[dataType] ?? NONE;
}

export function isOperator(s: string): s is Operator {
  return (OPERATORS as readonly string[]).includes(s);
}

/** Negated operators are the exact complement of their positive form (docs/semantics.md "Negation and NULL"). */
export const NEGATIONS: Readonly<Partial<Record<Operator, Operator>>> = Object.freeze({
  is_not: 'is',
  not_in: 'in',
  not_contains: 'contains',
  not_between: 'between',
  not_in_last: 'in_last',
  not_in_next: 'in_next',
  type_is_not: 'type_is',
  name_not_contains: 'name_contains',
});
