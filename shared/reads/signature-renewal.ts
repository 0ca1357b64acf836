// Learning newer signatures from the traffic the API relays: signed URLs in the site's replies renew the stored ones of the same object (never another object).
import type { CachedSchema } from '../schema/index.js';
import { fieldOwner } from '../query/index.js';
import { mayBeVolatile, volatility } from '../site/index.js';
import type { EntityStore } from '../store/index.js';

/** Methods whose replies carry entity values. */
const VALUE_METHODS: ReadonlySet<string> = new Set(['read', 'create', 'update', 'batch']);
/** At most this many entities are renewed from one reply (the rest wait for the next reply or the reconciler). */
export const MAX_RENEWALS_PER_REPLY = 100;
/** Entries of the per-container memory of signatures already learnt (cleared when full). */
const MEMORY_ENTRIES = 20_000;

type Row = Record<string, unknown>;
const isObj = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);
const isLink = (v: unknown): v is { type: string; id: number } => isObj(v) && typeof v.type === 'string' && typeof v.id === 'number';

export interface SignatureRenewalDeps {
  schema: CachedSchema;
  store: Pick<EntityStore, 'renewSignatures'>;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export class SignatureRenewal {
  /** "Type#id.field" -> the expiry last learnt: the same signature is not offered to the store twice. */
  private readonly learnt = new Map<string, number>();
  readonly stats = { offered: 0, renewed: 0 };

  constructor(private readonly d: SignatureRenewalDeps) {}

  /**
   * The signed values a relayed reply carries, per stored entity and field: each entity's own fields, and deep paths
   * `a.T.f` when the reply holds the link `a` (the entity it names). Values the store cannot take are left out.
   */
  candidates(method: string, body: string): Map<string, { type: string; id: number; values: Row }> {
    const out = new Map<string, { type: string; id: number; values: Row }>();
    if (!VALUE_METHODS.has(method) || !mayBeVolatile(body)) return out;
    let results: unknown;
    try {
      results = (JSON.parse(body) as { results?: unknown }).results;
    } catch {
      return out;
    }
    const rows = Array.isArray(results) ? results : isObj(results) && Array.isArray(results.entities) ? results.entities : [results];
    const offer = (type: string, id: number, field: string, v: unknown) => {
      if (!this.d.schema.isCached(type, field)) return;
      const key = `${type}#${id}.${field}`;
      const exp = volatility(v).earliestMs;
      if (this.learnt.get(key) === exp) return;
      const e = out.get(`${type}#${id}`);
      if (e) e.values[field] = v;
      else if (out.size < MAX_RENEWALS_PER_REPLY) out.set(`${type}#${id}`, { type, id, values: { [field]: v } });
    };
    for (const row of rows) {
      if (!isLink(row)) continue;
      for (const [k, v] of Object.entries(row)) {
        if (v === null || typeof v === 'number' || typeof v === 'boolean' || volatility(v).signed === 0) continue;
        const owner = fieldOwner(row.type, row.id, k, (field) => (row as Row)[field]);
        if (owner) offer(owner.type, owner.id, owner.field, v);
      }
    }
    return out;
  }

  /** Renews stored signatures from a reply the API relayed; never throws (a failure is logged: the client already has its answer). */
  async learn(method: string, body: Buffer | string): Promise<number> {
    try {
      const found = this.candidates(method, typeof body === 'string' ? body : body.toString('utf8'));
      if (!found.size) return 0;
      if (this.learnt.size + found.size * 4 > MEMORY_ENTRIES) this.learnt.clear();
      let renewed = 0;
      const all = [...found.values()];
      for (let i = 0; i < all.length; i += 10) {
        const counts = await Promise.all(
          all.slice(i, i + 10).map(async (e) => {
            this.stats.offered++;
            const n = await this.d.store.renewSignatures(e.type, e.id, e.values);
            for (const [f, v] of Object.entries(e.values)) this.learnt.set(`${e.type}#${e.id}.${f}`, volatility(v).earliestMs);
            return n;
          }),
        );
        renewed += counts.reduce((a, b) => a + b, 0);
      }
      this.stats.renewed += renewed;
      return renewed;
    } catch (e) {
      this.d.log?.('signatures not renewed from a relayed reply', { method, error: (e as Error).message });
      return 0;
    }
  }
}
