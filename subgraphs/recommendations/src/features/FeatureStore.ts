import type { CooccurrenceModel, TrainingChange, UserFeatures } from './model.js';

/**
 * How long the store remembers that a (workout, logged|deleted) fact was applied:
 * redeliveries and re-publishes come within minutes, so a month is a wide margin.
 * @default 35 days
 */
export const DEDUPE_TTL_MS = 35 * 24 * 60 * 60 * 1000;

/**
 * The training read model of recommendations, fed by workouts.logged/deleted:
 * per user the recent workouts reduced to exercise sessions (the features), per
 * user the exercises ever done (incidence), and across users how many did each
 * exercise and each pair (the co-occurrence the similarity model is learned from).
 * Two adapters, Redis and in-process, pass one contract suite
 * (test/features.contract.test.ts).
 */
export interface FeatureStore {
  /**
   * Applies a change at most once per (workout, kind), atomically. A deletion that
   * arrives before its logging is remembered and the logging then adds nothing,
   * so any order of delivery ends in the same state. Nothing for an erased user
   * ('erased': a late event of a deleted account).
   */
  apply(change: TrainingChange, now?: Date): Promise<'applied' | 'duplicate' | 'erased'>;
  /**
   * Drops everything kept for the user (features, incidence) and takes the user's
   * part out of the co-occurrence model, as if each of their workouts had been
   * deleted, atomically with a marker that makes their later events change nothing
   * (for DEDUPE_TTL_MS). 'duplicate' when the user was erased already; either way
   * nothing of theirs is left.
   */
  eraseUser(userId: string): Promise<'applied' | 'duplicate'>;
  /** The user's features at `now` (empty for an unknown user). */
  features(userId: string, now?: Date): Promise<UserFeatures>;
  /** Exercises the user has done, in any workout still stored (not only recent ones). */
  exercisesOf(userId: string): Promise<Set<string>>;
  /** The whole co-occurrence model (the catalogue is small: 66 exercises). */
  model(): Promise<CooccurrenceModel>;
  /** Every user with features or incidence kept (the accounts audit). */
  userIds(): Promise<Set<string>>;
  /** Removes everything, for a rebuild. */
  clear(): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
