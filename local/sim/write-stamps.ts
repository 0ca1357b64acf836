// The sim's unknown write-stamping behaviours: whether a back-reference change or a revive moves the touched entity's updated_at (hosted sites: not measured).
import { z } from 'zod';

/**
 * Knobs for what a hosted site may or may not do (docs/sim.md "Write stamps"): the cache must measure them, never
 * assume them (shared/store/site-behaviour.ts). Defaults: neither moves updated_at, the sim's behaviour before the knobs.
 */
export const SimWriteStampsSchema = z
  .object({
    /** Writing one side of a connection (Shot.assets) moves the other side's owner's updated_at / updated_by (Asset.shots' Asset). */
    backRefBumpsUpdatedAt: z.boolean(),
    /** revive() moves the revived entity's updated_at / updated_by. */
    reviveBumpsUpdatedAt: z.boolean(),
  })
  .partial()
  .strict();
export type SimWriteStampsInput = z.infer<typeof SimWriteStampsSchema>;
export type SimWriteStamps = Required<SimWriteStampsInput>;
export const DEFAULT_WRITE_STAMPS: Readonly<SimWriteStamps> = Object.freeze({ backRefBumpsUpdatedAt: false, reviveBumpsUpdatedAt: false });
