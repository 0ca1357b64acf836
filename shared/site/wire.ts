// The JSON-RPC wire format of POST /api3/json: the envelope, auth params, and each method's params (zod, z.infer types).
import { z } from 'zod';

/** `params[0]` when the client authenticates (protocol.md §1.4). Unknown keys (extra_auth_params) are kept. */
export const AuthParamsSchema = z.looseObject({
  script_name: z.string().optional(),
  script_key: z.string().optional(),
  user_login: z.string().optional(),
  user_password: z.string().optional(),
  auth_token: z.string().optional(),
  session_token: z.string().optional(),
  reject_if_expired: z.boolean().optional(),
  session_uuid: z.string().optional(),
  sudo_as_login: z.string().optional(),
});
export type AuthParams = z.infer<typeof AuthParamsSchema>;

export const RpcRequestSchema = z.object({
  method_name: z.string().min(1),
  params: z.array(z.unknown()).max(2).default([]),
});
export type RpcRequest = z.infer<typeof RpcRequestSchema>;

export const ConditionSchema = z
  .object({
    path: z.string().min(1),
    relation: z.string().min(1),
    values: z.array(z.unknown()),
  })
  .strict();
export type Condition = z.infer<typeof ConditionSchema>;

export interface FilterGroup {
  logical_operator: 'and' | 'or';
  conditions: Array<Condition | FilterGroup>;
}
export const FilterGroupSchema: z.ZodType<FilterGroup> = z.lazy(() =>
  z
    .object({
      logical_operator: z.enum(['and', 'or']),
      conditions: z.array(z.union([ConditionSchema, FilterGroupSchema])),
    })
    .strict(),
);

export function isGroup(c: Condition | FilterGroup): c is FilterGroup {
  return (c as FilterGroup).logical_operator !== undefined;
}

export const SortSchema = z
  .object({
    field_name: z.string().min(1),
    direction: z.enum(['asc', 'desc']).default('asc'),
  })
  .loose();
export type Sort = z.infer<typeof SortSchema>;

export const PagingSchema = z
  .object({
    entities_per_page: z.number().int().min(1).max(500),
    current_page: z.number().int().min(1),
  })
  .strict();
export type Paging = z.infer<typeof PagingSchema>;

/** Keys of `read` params that the site knows. Anything else is kept by the schema so callers can see it. */
export const READ_KEYS = [
  'type',
  'return_fields',
  'filters',
  'return_only',
  'paging',
  'sorts',
  'additional_filter_presets',
  'include_archived_projects',
  'api_return_image_urls',
  'return_paging_info',
  'return_paging_info_without_counts',
] as const;

export const ReadParamsSchema = z.looseObject({
  type: z.string().min(1),
  return_fields: z.array(z.string()).default(['id']),
  filters: FilterGroupSchema.default({ logical_operator: 'and', conditions: [] }),
  return_only: z.enum(['active', 'retired']).default('active'),
  paging: PagingSchema.default({ entities_per_page: 500, current_page: 1 }),
  sorts: z.array(SortSchema).optional(),
  additional_filter_presets: z.array(z.record(z.string(), z.unknown())).optional(),
  include_archived_projects: z.boolean().optional(),
  api_return_image_urls: z.boolean().optional(),
  return_paging_info: z.boolean().optional(),
  return_paging_info_without_counts: z.boolean().optional(),
});
export type ReadParams = z.infer<typeof ReadParamsSchema>;

export const FieldValueSchema = z
  .object({
    field_name: z.string().min(1),
    value: z.unknown(),
    multi_entity_update_mode: z.enum(['set', 'add', 'remove']).optional(),
  })
  .loose();
export type FieldValue = z.infer<typeof FieldValueSchema>;

export const CreateParamsSchema = z
  .object({
    type: z.string().min(1),
    fields: z.array(FieldValueSchema).default([]),
    return_fields: z.array(z.string()).default(['id']),
  })
  .loose();
export type CreateParams = z.infer<typeof CreateParamsSchema>;

export const UpdateParamsSchema = z
  .object({
    type: z.string().min(1),
    id: z.number().int(),
    fields: z.array(FieldValueSchema),
    multi_entity_update_mode: z.enum(['set', 'add', 'remove']).optional(),
  })
  .loose();
export type UpdateParams = z.infer<typeof UpdateParamsSchema>;

export const EntityRefParamsSchema = z.object({ type: z.string().min(1), id: z.number().int() }).loose();
export type EntityRefParams = z.infer<typeof EntityRefParamsSchema>;

export const BatchItemSchema = z.discriminatedUnion('request_type', [
  CreateParamsSchema.extend({ request_type: z.literal('create') }),
  UpdateParamsSchema.extend({ request_type: z.literal('update') }),
  EntityRefParamsSchema.extend({ request_type: z.literal('delete') }),
]);
export type BatchItem = z.infer<typeof BatchItemSchema>;
export const BatchParamsSchema = z.array(BatchItemSchema);

export const SummaryParamsSchema = z
  .object({
    type: z.string().min(1),
    summaries: z.array(z.object({ field: z.string(), type: z.string() })),
    filters: FilterGroupSchema.default({ logical_operator: 'and', conditions: [] }),
    grouping: z.array(z.object({ field: z.string(), type: z.string(), direction: z.enum(['asc', 'desc']).default('asc') })).optional(),
    include_archived_projects: z.boolean().optional(),
  })
  .loose();
export type SummaryParams = z.infer<typeof SummaryParamsSchema>;

/** `read` results. `paging_info` shape depends on which paging flag the request carried. */
export interface ReadResult {
  entities: Array<Record<string, unknown>>;
  paging_info?: { has_next_page: boolean } | { entity_count: number; current_page: number; entities_per_page: number; page_count: number };
}
