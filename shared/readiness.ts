// Readiness of cached types and fields (state table): a type or field is served from the cache only once its import has completed.
import { GetItemCommand, QueryCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TableNames } from './table-design.js';

/** State-table partition holding one item per cached type: sk "type#<Type>", ready flag and the set of ready fields. */
export const READINESS_PK = 'readiness';
const sk = (type: string) => `type#${type}`;

/** A snapshot of readiness, as the read path consults it. */
export class Readiness {
  constructor(private readonly types: ReadonlyMap<string, { ready: boolean; fields: ReadonlySet<string> }>) {}

  static empty(): Readiness { return new Readiness(new Map()); }

  /** Everything in `schemaFields` ready (tests and tools that import whole types). */
  static all(schemaFields: Record<string, Iterable<string>>): Readiness {
    return new Readiness(new Map(Object.entries(schemaFields).map(([t, f]) => [t, { ready: true, fields: new Set(f) }])));
  }

  isTypeReady(type: string): boolean { return this.types.get(type)?.ready === true; }

  /** A field is ready when its type is ready and the field was imported (`id` always is). */
  isFieldReady(type: string, field: string): boolean {
    const t = this.types.get(type);
    return t?.ready === true && (field === 'id' || t.fields.has(field));
  }

  get readyTypes(): string[] { return [...this.types].filter(([, t]) => t.ready).map(([n]) => n); }
}

export class ReadinessStore {
  constructor(private readonly ddb: DynamoDBClient, private readonly tables: TableNames) {}

  /** Marks `type` ready with `fields` imported (adds to the fields already ready). */
  async markTypeReady(type: string, fields: string[], at = new Date()): Promise<void> {
    const values: Record<string, AttributeValue> = { ':y': { BOOL: true }, ':at': { S: at.toISOString() } };
    let expr = 'SET #ready = :y, #at = :at';
    const names: Record<string, string> = { '#ready': 'ready', '#at': 'at' };
    if (fields.length) { expr += ' ADD #fields :f'; values[':f'] = { SS: [...new Set(fields)] }; names['#fields'] = 'fields'; }
    await this.ddb.send(new UpdateItemCommand({
      TableName: this.tables.state, Key: { pk: { S: READINESS_PK }, sk: { S: sk(type) } },
      UpdateExpression: expr, ExpressionAttributeValues: values, ExpressionAttributeNames: names,
    }));
  }

  /** Adds fields to a type's ready set (a field added to the schema, once backfilled); does not change the type flag. */
  async markFieldsReady(type: string, fields: string[]): Promise<void> {
    if (!fields.length) return;
    await this.ddb.send(new UpdateItemCommand({
      TableName: this.tables.state, Key: { pk: { S: READINESS_PK }, sk: { S: sk(type) } },
      UpdateExpression: 'ADD #fields :f', ExpressionAttributeNames: { '#fields': 'fields' }, ExpressionAttributeValues: { ':f': { SS: [...new Set(fields)] } },
    }));
  }

  /** Takes a type out of service (re-import, slot reassignment): reads of it pass through until marked ready again. */
  async markTypeNotReady(type: string): Promise<void> {
    await this.ddb.send(new UpdateItemCommand({
      TableName: this.tables.state, Key: { pk: { S: READINESS_PK }, sk: { S: sk(type) } },
      UpdateExpression: 'SET #ready = :n REMOVE #fields', ExpressionAttributeNames: { '#ready': 'ready', '#fields': 'fields' }, ExpressionAttributeValues: { ':n': { BOOL: false } },
    }));
  }

  async isTypeReady(type: string): Promise<boolean> {
    const r = await this.ddb.send(new GetItemCommand({ TableName: this.tables.state, Key: { pk: { S: READINESS_PK }, sk: { S: sk(type) } } }));
    return r.Item?.ready?.BOOL === true;
  }

  /**
   * A readiness source for the read path: reloads at most every `maxAgeMs` (one Query), so a container sees a type
   * come into or go out of service within that time. Concurrent callers share one load.
   */
  snapshots(maxAgeMs: number, now: () => number = Date.now): () => Promise<Readiness> {
    let at = -Infinity;
    let current: Promise<Readiness> | undefined;
    return () => {
      if (!current || now() - at > maxAgeMs) {
        at = now();
        const p = this.load();
        p.catch(() => { if (current === p) current = undefined; });
        current = p;
      }
      return current;
    };
  }

  /** Every type's readiness (one Query). */
  async load(): Promise<Readiness> {
    const types = new Map<string, { ready: boolean; fields: Set<string> }>();
    let start: Record<string, AttributeValue> | undefined;
    do {
      const r = await this.ddb.send(new QueryCommand({
        TableName: this.tables.state, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: READINESS_PK } },
        ExclusiveStartKey: start,
      }));
      for (const it of r.Items ?? []) {
        types.set(it.sk.S!.slice('type#'.length), { ready: it.ready?.BOOL === true, fields: new Set(it.fields?.SS ?? []) });
      }
      start = r.LastEvaluatedKey;
    } while (start);
    return new Readiness(types);
  }
}
