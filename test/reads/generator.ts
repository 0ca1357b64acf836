// Generated `read` requests for the differential tests: random filters over every data type, nested groups, deep fields, sorts, pages, retired rows, drawn from sample rows of the site.
import type { SiteSchema } from '../../shared/schema/index.js';
import { operatorsFor } from '../../shared/semantics/index.js';
import type { DataType } from '../../shared/site/index.js';

export type Samples = Map<string, Array<Record<string, unknown>>>;

export interface GeneratorOptions {
  /**
   * Also the shapes the site rules decide (shared/site-rules.ts): top-level `or` groups, empty `or` groups at the top
   * and nested, sorts on nullable fields, and return fields the site lacks. Off keeps the original stream.
   */
  ruleShapes?: boolean;
}

/** A generator of read params over `site$` and sample rows per type. */
export function readGenerator(site$: SiteSchema, samples: Samples, opts: GeneratorOptions = {}): (rng: () => number) => Record<string, unknown> {
  type Rng = () => number;
  const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
  const chance = (rng: Rng, p: number) => rng() < p;

  function sampleValue(rng: Rng, type: string, field: string): unknown {
    const rows = samples.get(type) ?? [];
    const withValue = rows.map((r) => r[field]).filter((v) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0));
    if (!withValue.length || chance(rng, 0.1)) return null;
    const v = pick(rng, withValue);
    return Array.isArray(v) ? pick(rng, v) : v;
  }

  function mangleCase(rng: Rng, s: string): string {
    return chance(rng, 0.5) ? s.toUpperCase() : s;
  }

  /** One condition on `type.field` (or a deep path through an entity link) with an operator valid for its data type most of the time. */
  function condition(rng: Rng, type: string): Record<string, unknown> {
    const fields = Object.keys(site$.type(type)!.fields);
    const field = pick(rng, fields);
    let dt = site$.dataType(type, field)! as DataType;
    let path = field;
    let valueType = type;
    let valueField = field;
    if (dt === 'entity' && chance(rng, 0.25)) {
      const target = pick(rng, site$.field(type, field)!.valid_types ?? []);
      if (target && site$.hasType(target)) {
        const tf = pick(rng, Object.keys(site$.type(target)!.fields).filter((f) => site$.dataType(target, f) !== 'multi_entity'));
        path = `${field}.${target}.${tf}`;
        dt = site$.dataType(target, tf)! as DataType;
        valueType = target;
        valueField = tf;
      }
    }
    const ops = operatorsFor(dt).filter((o) => !['in_last', 'not_in_last', 'in_next', 'not_in_next'].includes(o) || chance(rng, 0.2));
    if (!ops.length) return { path, relation: 'is', values: [null] };
    const relation = chance(rng, 0.03) ? 'bogus_operator' : pick(rng, ops);
    const v = sampleValue(rng, valueType, valueField);
    const v2 = sampleValue(rng, valueType, valueField);
    const str = (x: unknown) => (typeof x === 'string' ? x : '');
    let values: unknown[];
    switch (relation) {
      case 'in': case 'not_in': values = [v, v2, ...(chance(rng, 0.2) ? [null] : [])]; break;
      case 'between': case 'not_between': values = [v, v2]; break;
      case 'contains': case 'not_contains': { const s = str(v); const i = Math.floor(rng() * s.length); values = [mangleCase(rng, s.slice(i, i + 3))]; break; }
      case 'starts_with': values = [mangleCase(rng, str(v).slice(0, 3))]; break;
      case 'ends_with': values = [mangleCase(rng, str(v).slice(-3))]; break;
      case 'type_is': case 'type_is_not': values = [(v as { type?: string } | null)?.type ?? pick(rng, ['Shot', 'Asset', null])]; break;
      case 'name_contains': case 'name_not_contains': case 'name_starts_with': case 'name_ends_with': case 'name_is': {
        const name = str((v as { name?: unknown } | null)?.name ?? (typeof v === 'string' ? v : ''));
        values = [relation === 'name_is' ? name : mangleCase(rng, name.slice(0, 4))];
        break;
      }
      case 'in_last': case 'not_in_last': case 'in_next': case 'not_in_next': values = [3, 'DAY']; break;
      case 'in_calendar_day': case 'in_calendar_week': case 'in_calendar_month': case 'in_calendar_year': values = [pick(rng, [0, -1, 1])]; break;
      case 'less_than': case 'greater_than': values = [v ?? 0]; break;
      case 'is': case 'is_not': case 'bogus_operator': values = [v];
    }
    if (dt === 'checkbox' && values[0] === null) values = [chance(rng, 0.5)];
    return { path, relation, values };
  }

  function group(rng: Rng, type: string, depth: number): Record<string, unknown> {
    const n = Math.floor(rng() * 3) + (depth === 0 ? 0 : 1);
    const conditions = Array.from({ length: n }, () => (depth < 2 && chance(rng, 0.2) ? group(rng, type, depth + 1) : condition(rng, type)));
    return { logical_operator: depth > 0 && chance(rng, 0.5) ? 'or' : 'and', conditions };
  }

  function returnFields(rng: Rng, type: string): string[] {
    const fields = Object.keys(site$.type(type)!.fields).filter((f) => f !== 'id');
    const out = new Set<string>();
    const n = 1 + Math.floor(rng() * 5);
    for (let i = 0; i < n; i++) out.add(pick(rng, fields));
    const links = fields.filter((f) => site$.dataType(type, f) === 'entity');
    if (links.length && chance(rng, 0.3)) {
      const f = pick(rng, links);
      const target = pick(rng, site$.field(type, f)!.valid_types ?? []);
      if (target && site$.hasType(target)) out.add(`${f}.${target}.${site$.identifier(target)}`);
    }
    return [...out];
  }

  function sorts(rng: Rng, type: string): Array<{ field_name: string; direction: string }> | undefined {
    if (chance(rng, 0.4)) return undefined;
    const fields = Object.keys(site$.type(type)!.fields).filter((f) => !['multi_entity', 'tag_list'].includes(site$.dataType(type, f)!));
    return Array.from({ length: 1 + Math.floor(rng() * 2) }, () => ({ field_name: pick(rng, fields), direction: pick(rng, ['asc', 'desc']) }));
  }

  /** Sorts on any sortable field or through an entity link to the target's identifier, one or two keys. */
  function ruleSorts(rng: Rng, type: string): Array<{ field_name: string; direction: string }> {
    const fields = Object.keys(site$.type(type)!.fields).filter((f) => !['multi_entity', 'tag_list', 'url', 'serializable', 'image', 'addressing'].includes(site$.dataType(type, f)!));
    const one = () => {
      let f = pick(rng, fields);
      if (site$.dataType(type, f) === 'entity' && chance(rng, 0.3)) {
        const target = pick(rng, site$.field(type, f)!.valid_types ?? []);
        if (target && site$.hasType(target)) f = `${f}.${target}.${site$.identifier(target)}`;
      }
      return { field_name: f, direction: pick(rng, ['asc', 'desc']) };
    };
    return Array.from({ length: 1 + Math.floor(rng() * 2) }, one);
  }

  /** The rule shapes on top of a generated read (see GeneratorOptions.ruleShapes). */
  function withRuleShapes(rng: Rng, read: Record<string, unknown>): Record<string, unknown> {
    const type = read.type as string;
    let filters = read.filters as { logical_operator: string; conditions: unknown[] };
    if (chance(rng, 0.1)) filters = { logical_operator: 'or', conditions: [] };
    else if (chance(rng, 0.2)) filters = { logical_operator: 'or', conditions: filters.conditions };
    if (chance(rng, 0.15)) filters = { logical_operator: 'and', conditions: [...filters.conditions, { logical_operator: 'or', conditions: [] }] };
    const returnFields = [...(read.return_fields as string[])];
    if (chance(rng, 0.1)) returnFields.splice(Math.floor(rng() * (returnFields.length + 1)), 0, 'sg_no_such_field');
    const out: Record<string, unknown> = { ...read, filters, return_fields: returnFields };
    if (chance(rng, 0.7)) out.sorts = ruleSorts(rng, type);
    return out;
  }

  function generate(rng: Rng): Record<string, unknown> {
    const read = generateBase(rng);
    return opts.ruleShapes ? withRuleShapes(rng, read) : read;
  }

  function generateBase(rng: Rng): Record<string, unknown> {
    const type = pick(rng, site$.typeNames);
    const perPage = pick(rng, [1, 5, 20, 50, 500]);
    const flag = pick(rng, ['return_paging_info_without_counts', 'return_paging_info', null]);
    return {
      type,
      return_fields: returnFields(rng, type),
      filters: group(rng, type, 0),
      return_only: chance(rng, 0.1) ? 'retired' : 'active',
      paging: { entities_per_page: perPage, current_page: perPage === 500 ? 1 : 1 + Math.floor(rng() * 3) },
      ...(sorts(rng, type) ? { sorts: sorts(rng, type) } : {}),
      api_return_image_urls: true,
      ...(flag ? { [flag]: true } : {}),
    };
  }
  return generate;
}
