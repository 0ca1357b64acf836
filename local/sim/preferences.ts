// Site preferences and user subscriptions on the simulated site: preferences_read (a hosted site's defaults, filtered by name), user_subscriptions_read / _create.
import { z } from 'zod';
import { ErrorCode, ShotgunFault } from '../../shared/site/index.js';
import { parseParams } from './rpc-params.js';
import type { SiteStore } from './store.js';

/**
 * The preferences a hosted site answers with its defaults (the values python-api's live test expects of a fresh
 * site); the viewer settings are nested objects whose content changes between releases (a stand-in each here).
 */
export const DEFAULT_PREFERENCES: Readonly<Record<string, unknown>> = {
  date_component_order: 'month_day',
  duration_units: 'days',
  format_currency_fields_decimal_options: '$1,000.99',
  format_currency_fields_display_dollar_sign: false,
  format_currency_fields_negative_options: '- $1,000',
  format_date_fields: '08/04/22 OR 04/08/22 (depending on the Month order preference)',
  format_float_fields: '9,999.99',
  format_float_fields_rounding: '9.999999',
  format_footage_fields: '10-05',
  format_number_fields: '1,000',
  format_time_hour_fields: '12 hour',
  hours_per_day: 8.0,
  support_local_storage: true,
  enable_rv_integration: true,
  enable_shotgun_review_for_rv: false,
  view_master_settings: { status_groups: [] },
  creative_review_settings: { enabled: true },
};

const PrefsSchema = z.looseObject({ prefs: z.array(z.string()).nullish() }).nullish();
const SubscribeSchema = z.looseObject({ users: z.array(z.tuple([z.string(), z.array(z.string())])) });

export class SitePreferences {
  private subscriptions: Array<[string, string[]]> = [];

  constructor(
    private readonly store: SiteStore,
    private readonly prefs: Readonly<Record<string, unknown>> = DEFAULT_PREFERENCES,
  ) {}

  /** Every preference, or the named ones the site has (unknown names are left out, not faulted). */
  read(params: unknown): Record<string, unknown> {
    const names = parseParams('preferences_read', PrefsSchema, params)?.prefs;
    const all = structuredClone(this.prefs) as Record<string, unknown>;
    if (!names || names.length === 0) return all;
    return Object.fromEntries(names.filter((n) => Object.hasOwn(all, n)).map((n) => [n, all[n]]));
  }

  subscriptionsRead(): Array<[string, string[]]> {
    return structuredClone(this.subscriptions);
  }

  /** Assigns subscriptions to users by login: [[login, [subscription, ...]], ...]. */
  subscriptionsCreate(params: unknown): boolean {
    const p = parseParams('user_subscriptions_create', SubscribeSchema, params);
    for (const [login] of p.users) {
      if (!this.store.all('HumanUser').some((u) => u.values.login === login && !u.retired)) {
        throw new ShotgunFault(`API user_subscriptions_create() no HumanUser with login '${login}'`, ErrorCode.API);
      }
    }
    const others = this.subscriptions.filter(([login]) => !p.users.some(([l]) => l === login));
    this.subscriptions = [...others, ...p.users];
    return true;
  }
}
