// Per-identity allow-lists (ACCESS_RULES): which cached types and projects a caller may read from the cache; anything else passes through.
//
// The cache holds data read with the cache's own (privileged) script, so serving it verbatim would bypass the site's
// permissions (aws-anchors.md §6). These rules narrow what each identity may be served from the cache; a read outside
// them is not refused, it passes through to the site, which applies its own permissions.
//
// ACCESS_RULES is JSON: {"<identity>": {"types": [...], "projects": [ids]}, ...}. Identities: `script:<script_name>`,
// `user:<login>` (user_login callers, and the target of sudo_as_login), `session` (session-token callers, whose login
// the cache does not know), and `*` (the default for a caller without a rule of its own). No rule for a caller (and
// no `*`): unrestricted. With sudo_as_login, the rule of `user:<sudo login>` applies as well (both must allow).
import { z } from 'zod';
import { isGroup, type Condition, type ReadParams } from '../site/index.js';

export const AccessRuleSchema = z
  .object({
    /** Types this identity may read from the cache (absent: every cached type). */
    types: z.array(z.string().min(1)).optional(),
    /** Project ids: a read is served only when its top-level filter confines it to these projects (absent: any). */
    projects: z.array(z.number().int().positive()).optional(),
  })
  .strict();
export type AccessRule = z.infer<typeof AccessRuleSchema>;

export const AccessRulesSchema = z.record(z.string().min(1), AccessRuleSchema);
export type AccessRules = z.infer<typeof AccessRulesSchema>;

/** The rule key of each kind of caller. */
export const DEFAULT_RULE = '*';

/** Parses ACCESS_RULES; throws an Error naming the problem (the caller turns it into a ConfigError). */
export function parseAccessRules(text: string | undefined): AccessRules {
  if (text === undefined || text.trim() === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('ACCESS_RULES is not valid JSON');
  }
  const r = AccessRulesSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(`ACCESS_RULES: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}

/** The rules that apply to a caller: its own (or `*`), plus its sudo user's when it acts as one. */
export function rulesFor(rules: AccessRules, principal: string, sudoLogin?: string): AccessRule[] {
  const out: AccessRule[] = [];
  const own = rules[principal] ?? rules[DEFAULT_RULE];
  if (own) out.push(own);
  if (sudoLogin !== undefined) {
    const sudo = rules[`user:${sudoLogin}`];
    if (sudo) out.push(sudo);
  }
  return out;
}

const isLink = (v: unknown, type: string): v is { type: string; id: number } =>
  typeof v === 'object' && v !== null && (v as { type?: unknown }).type === type && Number.isInteger((v as { id?: unknown }).id);

/**
 * The projects a read is confined to by a top-level AND condition (`project is P`, `project in [..]`; for Project
 * itself `id is` / `id in`), or undefined when nothing confines it.
 */
export function confinedProjects(params: ReadParams): number[] | undefined {
  if (params.filters.logical_operator !== 'and') return undefined;
  let best: number[] | undefined;
  for (const c of params.filters.conditions) {
    if (isGroup(c)) continue;
    const ids = projectIds(params.type, c);
    if (ids && (!best || ids.length < best.length)) best = ids;
  }
  return best;
}

function projectIds(type: string, c: Condition): number[] | undefined {
  if (c.relation !== 'is' && c.relation !== 'in') return undefined;
  if (c.relation === 'is' && c.values.length !== 1) return undefined;
  const values = c.relation === 'in' && c.values.length === 1 && Array.isArray(c.values[0]) ? (c.values[0] as unknown[]) : c.values;
  if (type === 'Project' && c.path === 'id') return values.every((v) => Number.isInteger(v)) ? (values as number[]) : undefined;
  if (c.path !== 'project') return undefined;
  return values.every((v) => isLink(v, 'Project')) ? values.map((v) => (v as { id: number }).id) : undefined;
}

/** Whether the rules let this read be served from the cache; the pass reason when not. */
export function checkAccess(rules: readonly AccessRule[], params: ReadParams): { ok: true } | { ok: false; reason: string } {
  for (const rule of rules) {
    if (rule.types && !rule.types.includes(params.type)) return { ok: false, reason: 'access-rule:type' };
    if (rule.projects) {
      const confined = confinedProjects(params);
      if (!confined || confined.some((p) => !rule.projects!.includes(p))) return { ok: false, reason: 'access-rule:project' };
    }
  }
  return { ok: true };
}
