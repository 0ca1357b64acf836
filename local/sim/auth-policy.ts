// How the sim's authentication behaves where hosted sites may differ: which credential of a mixed params[0] it reads first, and how it refuses a sudo_as_login it does not allow.
import { z } from 'zod';

export const AuthPolicySchema = z
  .object({
    /**
     * `shotgun_api3` (default): user_login, then script_name, then session_token, as the client builds them;
     * `session-first`: a session_token wins over any other credential in the same params[0] (as some site versions do).
     */
    order: z.enum(['shotgun_api3', 'session-first']).default('shotgun_api3'),
    /**
     * A sudo_as_login asked by a HumanUser (not a script): refused with this fault code (default 105, permission denied:
     * not one of the four authentication codes, as hosted sites answer python-api's live tests), or `allowed` (a
     * permission role that grants sudo).
     */
    userSudo: z.union([z.literal('allowed'), z.number().int().positive()]).default(105),
  })
  .strict();
export type AuthPolicy = z.infer<typeof AuthPolicySchema>;
export type AuthPolicyInput = z.input<typeof AuthPolicySchema>;

export const DEFAULT_AUTH_POLICY: AuthPolicy = AuthPolicySchema.parse({});

/** The credential branch a params[0] is authenticated by under `policy` (undefined: none given). */
export function credentialBranch(
  p: { user_login?: unknown; user_password?: unknown; script_name?: unknown; script_key?: unknown; session_token?: unknown },
  policy: AuthPolicy,
): 'user' | 'script' | 'session' | undefined {
  if (policy.order === 'session-first' && p.session_token !== undefined) return 'session';
  if (p.user_login !== undefined || p.user_password !== undefined) return 'user';
  if (p.script_name !== undefined || p.script_key !== undefined) return 'script';
  return p.session_token !== undefined ? 'session' : undefined;
}
