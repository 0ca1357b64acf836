// A small shotgun_api3-like client for tests: posts the exact payloads of shared/site/api3-payloads.ts over HTTP and pages find() as the real client does.
import {
  authParams,
  batchParams,
  createParams,
  deleteParams,
  findPlan,
  recordsPerPageOf,
  reviveParams,
  rpcPayload,
  schemaFieldReadParams,
  schemaParams,
  serverVersionOf,
  summarizeParams,
  updateParams,
  type BatchRequest,
  type ClientCredentials,
  type EntityData,
  type FindArgs,
  type ListFilter,
  type OrderItem,
  type ServerVersion,
  type FilterGroup,
} from '../../shared/site/index.js';

/** A fault reply ({"exception": true, ...}): shotgun_api3's Fault / AuthenticationFault. */
export class RpcFault extends Error {
  constructor(
    message: string,
    readonly errorCode: number | undefined,
  ) {
    super(message);
    this.name = 'RpcFault';
  }
}
/** An HTTP status >= 300: shotgun_api3's ProtocolError. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}`);
    this.name = 'HttpStatusError';
  }
}

export interface TestClientOptions {
  sessionUuid?: string;
  sudoAsLogin?: string;
  /** Overrides info's api_max_entities_per_page (as tests of shotgun_api3 set config.records_per_page). */
  recordsPerPage?: number;
  /** Abort a request after this long (the client "giving up" on a hung request). */
  timeoutMs?: number;
  /** Retry 502/504 like shotgun_api3 (3 attempts); the sleep between tries is attempt * this (default 0 ms). */
  retryDelayMs?: number;
  retry5xx?: boolean;
}

export interface SentRequest {
  method: string;
  payload: { method_name: string; params: unknown[] };
}

export class TestShotgun {
  version: ServerVersion | undefined;
  recordsPerPage = 500;
  /** Every payload sent, in order (for wire assertions). */
  readonly sent: SentRequest[] = [];

  constructor(
    readonly baseUrl: string,
    public creds: ClientCredentials,
    readonly opts: TestClientOptions = {},
  ) {}

  static async connect(baseUrl: string, creds: ClientCredentials, opts: TestClientOptions = {}): Promise<TestShotgun> {
    const sg = new TestShotgun(baseUrl, creds, opts);
    await sg.info();
    return sg;
  }

  async info(): Promise<Record<string, unknown>> {
    const info = (await this.post('info', rpcPayload('info', undefined))) as Record<string, unknown>;
    this.version = serverVersionOf(info);
    this.recordsPerPage = this.opts.recordsPerPage ?? recordsPerPageOf(info);
    return info;
  }

  auth() {
    return authParams(this.creds, { sessionUuid: this.opts.sessionUuid, sudoAsLogin: this.opts.sudoAsLogin, serverVersion: this.version });
  }

  /** One RPC with auth, as _call_rpc does. */
  call(method: string, params?: unknown): Promise<unknown> {
    return this.post(method, rpcPayload(method, this.auth(), params));
  }

  async find(
    type: string,
    filters: readonly ListFilter[] | FilterGroup = [],
    fields?: readonly string[] | null,
    order?: readonly OrderItem[] | null,
    more: Omit<FindArgs, 'type' | 'filters' | 'fields' | 'order'> = {},
  ): Promise<Array<Record<string, unknown>>> {
    if (!this.version) await this.info();
    const plan = findPlan({ type, filters, fields, order, ...more }, { version: this.version!, recordsPerPage: this.recordsPerPage });
    const params = plan.params;
    if (plan.single) {
      const r = (await this.call('read', params)) as { entities?: Array<Record<string, unknown>> };
      return r.entities ?? [];
    }
    const records: Array<Record<string, unknown>> = [];
    if (plan.pagingFlag === 'return_paging_info_without_counts') {
      let hasNext = true;
      while (hasNext) {
        const r = (await this.call('read', params)) as { entities: Array<Record<string, unknown>>; paging_info: { has_next_page: boolean } };
        records.push(...r.entities);
        if (plan.limit && records.length >= plan.limit) return records.slice(0, plan.limit);
        hasNext = r.paging_info.has_next_page;
        params.paging.current_page += 1;
      }
      return records;
    }
    let r = (await this.call('read', params)) as { entities: Array<Record<string, unknown>>; paging_info: { entity_count: number } };
    while (r.entities && r.entities.length) {
      records.push(...r.entities);
      if (plan.limit && records.length >= plan.limit) return records.slice(0, plan.limit);
      if (records.length === r.paging_info.entity_count) break;
      params.paging.current_page += 1;
      r = (await this.call('read', params)) as typeof r;
    }
    return records;
  }

  async findOne(
    type: string,
    filters: readonly ListFilter[] | FilterGroup = [],
    fields?: readonly string[] | null,
    order?: readonly OrderItem[] | null,
    more: Omit<FindArgs, 'type' | 'filters' | 'fields' | 'order' | 'limit'> = {},
  ): Promise<Record<string, unknown> | null> {
    const r = await this.find(type, filters, fields, order, { ...more, limit: 1 });
    return r[0] ?? null;
  }

  async create(type: string, data: EntityData, returnFields?: readonly string[]): Promise<Record<string, unknown>> {
    const r = await this.call('create', createParams(type, data, returnFields));
    return (Array.isArray(r) ? r[0] : r) as Record<string, unknown>;
  }

  async update(type: string, id: number, data: EntityData, modes?: Record<string, 'set' | 'add' | 'remove'>): Promise<Record<string, unknown>> {
    const p = updateParams(type, id, data, modes);
    if (!p) return { id, type };
    const r = await this.call('update', p);
    return (Array.isArray(r) ? r[0] : r) as Record<string, unknown>;
  }

  delete(type: string, id: number): Promise<unknown> {
    return this.call('delete', deleteParams(type, id));
  }
  revive(type: string, id: number): Promise<unknown> {
    return this.call('revive', reviveParams(type, id));
  }
  async batch(requests: readonly BatchRequest[]): Promise<unknown[]> {
    const p = batchParams(requests);
    if (p.length === 0) return [];
    return (await this.call('batch', p)) as unknown[];
  }
  summarize(
    type: string,
    filters: readonly ListFilter[],
    summaryFields: Array<{ field: string; type: string }>,
    grouping?: Array<Record<string, unknown>>,
  ): Promise<unknown> {
    return this.call('summarize', summarizeParams(type, filters, summaryFields, { grouping }));
  }
  schemaRead(): Promise<Record<string, Record<string, unknown>>> {
    return this.call('schema_read', schemaParams()) as Promise<Record<string, Record<string, unknown>>>;
  }
  schemaEntityRead(): Promise<Record<string, unknown>> {
    return this.call('schema_entity_read', schemaParams()) as Promise<Record<string, unknown>>;
  }
  schemaFieldRead(type: string, field?: string): Promise<Record<string, unknown>> {
    return this.call('schema_field_read', schemaFieldReadParams(type, field)) as Promise<Record<string, unknown>>;
  }
  async getSessionToken(): Promise<string> {
    const r = (await this.call('get_session_token')) as { session_id: string };
    return r.session_id;
  }

  /** POST /api3/json with retries for 502/504 when enabled; returns `results`. */
  async post(method: string, payload: { method_name: string; params: unknown[] }): Promise<unknown> {
    this.sent.push({ method, payload });
    const attempts = this.opts.retry5xx ? 3 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.postOnce(payload);
      } catch (e) {
        if (e instanceof HttpStatusError && (e.status === 502 || e.status === 504) && attempt < attempts) {
          await new Promise((r) => setTimeout(r, attempt * (this.opts.retryDelayMs ?? 0)));
          continue;
        }
        throw e;
      }
    }
  }

  private async postOnce(payload: unknown): Promise<unknown> {
    const res = await fetch(`${this.baseUrl}/api3/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'shotgun-json (3.10.0); fpt-cache tests' },
      body: JSON.stringify(payload),
      signal: this.opts.timeoutMs ? AbortSignal.timeout(this.opts.timeoutMs) : undefined,
    });
    const text = await res.text();
    if (res.status >= 300) throw new HttpStatusError(res.status, text);
    const body = JSON.parse(text) as Record<string, unknown>;
    if (body.exception) throw new RpcFault(String(body.message ?? 'Unknown Error'), body.error_code as number | undefined);
    return 'results' in body ? body.results : body;
  }
}

/** Posts a raw body (any bytes) and returns status, headers and the decoded JSON (or text). */
export async function postRaw(
  baseUrl: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: unknown; text: string }> {
  const res = await fetch(`${baseUrl}/api3/json`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}
