import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { UserRef, WorkoutRecord, WorkoutSetRecord, ExerciseRecord } from '../datasources/models.js';
import type { LeaderboardSnapshot, LeaderboardEntryRecord } from '../leaderboards/model.js';
import type { Context } from '../context.js';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** ISO-8601 date-time with an offset, e.g. 2026-11-26T06:00:00.000Z */
  DateTime: { input: string; output: Date | string; }
  _FieldSet: { input: unknown; output: unknown; }
};

export type Exercise = {
  __typename?: 'Exercise';
  id: Scalars['ID']['output'];
  muscleGroup: MuscleGroup;
  name: Scalars['String']['output'];
};

/** The top of one board in its current period. Equal scores are ordered by user id. */
export type Leaderboard = {
  __typename?: 'Leaderboard';
  /** Best first, at most board.first (1 to 100; demand control counts 100). */
  entries: Array<LeaderboardEntry>;
  metric: LeaderboardMetric;
  period: LeaderboardPeriod;
  /** Start of the current period; null for ALL_TIME. */
  periodStart: Maybe<Scalars['DateTime']['output']>;
  region: Maybe<Region>;
  updatedAt: Scalars['DateTime']['output'];
};

export type LeaderboardEntry = {
  __typename?: 'LeaderboardEntry';
  /** 1-based position; ties get distinct ranks, ordered by user id. */
  rank: Scalars['Int']['output'];
  score: Scalars['Float']['output'];
  /**
   * Resolved by users: null, with an error, while users cannot answer or no longer
   * knows the account; the entry itself stays.
   */
  user: Maybe<User>;
};

export type LeaderboardInput = {
  /** Entries to return, 1 to 100. */
  first?: InputMaybe<Scalars['Int']['input']>;
  metric: LeaderboardMetric;
  period: LeaderboardPeriod;
  /** Null: all regions. */
  region?: InputMaybe<Region>;
};

export type LeaderboardMetric =
  | 'CALORIES'
  | 'DISTANCE_M'
  | 'DURATION_SEC'
  | 'VOLUME_KG'
  | 'WORKOUTS';

/** UTC calendar periods: a DAY from midnight, a WEEK from Monday midnight, a MONTH from the 1st. */
export type LeaderboardPeriod =
  | 'ALL_TIME'
  | 'DAY'
  | 'MONTH'
  | 'WEEK';

export type LogWorkoutInput = {
  calories?: InputMaybe<Scalars['Float']['input']>;
  distanceM?: InputMaybe<Scalars['Float']['input']>;
  durationSec: Scalars['Int']['input'];
  /** Client-generated UUID. */
  id: Scalars['ID']['input'];
  sets?: InputMaybe<Array<WorkoutSetInput>>;
  sport: Sport;
  startedAt: Scalars['DateTime']['input'];
  title?: InputMaybe<Scalars['String']['input']>;
};

export type MuscleGroup =
  | 'ARMS'
  | 'BACK'
  | 'CARDIO'
  | 'CHEST'
  | 'CORE'
  | 'FULL_BODY'
  | 'GLUTES'
  | 'LEGS'
  | 'SHOULDERS';

export type MuscleGroupTraining = {
  __typename?: 'MuscleGroupTraining';
  /** Null when not trained in the window. */
  lastTrainedAt: Maybe<Scalars['DateTime']['output']>;
  muscleGroup: MuscleGroup;
  sets: Scalars['Int']['output'];
  volumeKg: Scalars['Float']['output'];
};

export type Mutation = {
  __typename?: 'Mutation';
  /**
   * Owner only: UNAUTHENTICATED without a token, FORBIDDEN for someone else's workout.
   * True when the workout was deleted, false when it did not exist.
   */
  deleteWorkout: Scalars['Boolean']['output'];
  /**
   * Signed-in users only (UNAUTHENTICATED otherwise): logs a workout of the caller's.
   * Idempotent on input.id: a retry with the same id returns the stored workout and never counts twice.
   */
  logWorkout: Workout;
};


export type MutationDeleteWorkoutArgs = {
  id: Scalars['ID']['input'];
};


export type MutationLogWorkoutArgs = {
  input: LogWorkoutInput;
};

export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

export type Query = {
  __typename?: 'Query';
  /** The exercise catalogue, optionally of one muscle group, by name. */
  exercises: Maybe<Array<Exercise>>;
  /** The current period's top of one board (public). BAD_USER_INPUT unless board.first is 1 to 100. */
  leaderboard: Maybe<Leaderboard>;
  /**
   * Owner only: UNAUTHENTICATED without a token, FORBIDDEN for someone else's workout;
   * null when it does not exist.
   */
  workout: Maybe<Workout>;
};


export type QueryExercisesArgs = {
  muscleGroup?: InputMaybe<MuscleGroup>;
};


export type QueryLeaderboardArgs = {
  board: LeaderboardInput;
};


export type QueryWorkoutArgs = {
  id: Scalars['ID']['input'];
};

/** Training over a recent window, the input of recommendations. */
export type RecentTraining = {
  __typename?: 'RecentTraining';
  /** One entry per muscle group, trained or not. */
  muscleGroups: Array<MuscleGroupTraining>;
  /** Start of the window (inclusive). */
  since: Scalars['DateTime']['output'];
  workouts: Scalars['Int']['output'];
};

export type Region =
  | 'APAC'
  | 'EU'
  | 'US';

export type Sport =
  | 'HIIT'
  | 'OTHER'
  | 'RIDE'
  | 'ROW'
  | 'RUN'
  | 'STRENGTH'
  | 'SWIM'
  | 'WALK'
  | 'YOGA';

/** Totals of the workouts that started in one bucket. */
export type StatsBucket = {
  __typename?: 'StatsBucket';
  calories: Scalars['Float']['output'];
  distanceM: Scalars['Float']['output'];
  durationSec: Scalars['Int']['output'];
  /** Start of the bucket (UTC midnight; a Monday for WEEK, the 1st for MONTH). */
  start: Scalars['DateTime']['output'];
  volumeKg: Scalars['Float']['output'];
  workouts: Scalars['Int']['output'];
};

export type StatsBucketSize =
  | 'DAY'
  | 'MONTH'
  | 'WEEK';

export type Subscription = {
  __typename?: 'Subscription';
  /**
   * Live top-N of one board. The first event is the current snapshot; later events
   * are full snapshots sent whenever the board changes (coalesced, latest wins).
   */
  leaderboardUpdated: Leaderboard;
};


export type SubscriptionLeaderboardUpdatedArgs = {
  board: LeaderboardInput;
};

export type User = {
  __typename?: 'User';
  id: Scalars['ID']['output'];
  /** Self only. What the user trained over the last 28 days, per muscle group. */
  recentTraining: Maybe<RecentTraining>;
  /**
   * Self only. Time-bucketed totals between from (inclusive) and to (exclusive).
   * Buckets are whole UTC calendar periods (DAY from midnight, WEEK from Monday, MONTH from the
   * 1st), oldest first: from the bucket holding from to the bucket holding the last instant
   * before to, every one listed, empty ones with zeros. BAD_USER_INPUT unless from < to and
   * the range spans at most 400 DAY, 260 WEEK or 120 MONTH buckets.
   */
  stats: Maybe<Array<StatsBucket>>;
  /** Self only. Newest first. */
  workouts: Maybe<WorkoutConnection>;
};


export type UserStatsArgs = {
  bucket: StatsBucketSize;
  from: Scalars['DateTime']['input'];
  to: Scalars['DateTime']['input'];
};


export type UserWorkoutsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/**
 * Owner only, however it is reached (Query.workout, User.workouts, an entity
 * reference): FORBIDDEN for anyone else.
 */
export type Workout = {
  __typename?: 'Workout';
  calories: Maybe<Scalars['Float']['output']>;
  distanceM: Maybe<Scalars['Float']['output']>;
  durationSec: Scalars['Int']['output'];
  id: Scalars['ID']['output'];
  /** In logged order. Up to 200; demand control assumes 20. */
  sets: Array<WorkoutSet>;
  sport: Sport;
  startedAt: Scalars['DateTime']['output'];
  title: Maybe<Scalars['String']['output']>;
  /**
   * Resolved by users: null, with an error, while users cannot answer or no longer
   * knows the account.
   */
  user: Maybe<User>;
  /** Sum of reps x weightKg over all sets. */
  volumeKg: Scalars['Float']['output'];
};

export type WorkoutConnection = {
  __typename?: 'WorkoutConnection';
  edges: Array<WorkoutEdge>;
  pageInfo: PageInfo;
};

export type WorkoutEdge = {
  __typename?: 'WorkoutEdge';
  cursor: Scalars['String']['output'];
  node: Workout;
};

export type WorkoutSet = {
  __typename?: 'WorkoutSet';
  distanceM: Maybe<Scalars['Float']['output']>;
  durationSec: Maybe<Scalars['Int']['output']>;
  exercise: Exercise;
  reps: Maybe<Scalars['Int']['output']>;
  weightKg: Maybe<Scalars['Float']['output']>;
};

export type WorkoutSetInput = {
  distanceM?: InputMaybe<Scalars['Float']['input']>;
  durationSec?: InputMaybe<Scalars['Int']['input']>;
  exerciseId: Scalars['ID']['input'];
  reps?: InputMaybe<Scalars['Int']['input']>;
  weightKg?: InputMaybe<Scalars['Float']['input']>;
};

export type WithIndex<TObject> = TObject & Record<string, any>;
export type ResolversObject<TObject> = WithIndex<TObject>;

export type ResolverTypeWrapper<T> = Promise<T> | T;

export type ReferenceResolver<TResult, TReference, TContext> = (
      reference: TReference,
      context: TContext,
      info: GraphQLResolveInfo
    ) => Promise<TResult> | TResult;

      type ScalarCheck<T, S> = S extends true ? T : NullableCheck<T, S>;
      type NullableCheck<T, S> = Maybe<T> extends T ? Maybe<ListCheck<NonNullable<T>, S>> : ListCheck<T, S>;
      type ListCheck<T, S> = T extends (infer U)[] ? NullableCheck<U, S>[] : GraphQLRecursivePick<T, S>;
      export type GraphQLRecursivePick<T, S> = { [K in keyof T & keyof S]: ScalarCheck<T[K], S[K]> };
    

export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<TResult, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<TResult, TKey extends string, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<TTypes, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<TResult = Record<PropertyKey, never>, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

/** Mapping of federation types */
export type FederationTypes = ResolversObject<{
  Exercise: Exercise;
  User: User;
  Workout: Workout;
}>;

/** Mapping of federation reference types */
export type FederationReferenceTypes = ResolversObject<{
  Exercise:
    ( { __typename: 'Exercise' }
    & GraphQLRecursivePick<FederationTypes['Exercise'], {"id":true}> );
  User:
    ( { __typename: 'User' }
    & GraphQLRecursivePick<FederationTypes['User'], {"id":true}> );
  Workout:
    ( { __typename: 'Workout' }
    & GraphQLRecursivePick<FederationTypes['Workout'], {"id":true}> );
}>;



/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = ResolversObject<{
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  Exercise: ResolverTypeWrapper<ExerciseRecord>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  Leaderboard: ResolverTypeWrapper<LeaderboardSnapshot>;
  LeaderboardEntry: ResolverTypeWrapper<LeaderboardEntryRecord>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  LeaderboardInput: LeaderboardInput;
  LeaderboardMetric: LeaderboardMetric;
  LeaderboardPeriod: LeaderboardPeriod;
  LogWorkoutInput: LogWorkoutInput;
  MuscleGroup: MuscleGroup;
  MuscleGroupTraining: ResolverTypeWrapper<MuscleGroupTraining>;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  RecentTraining: ResolverTypeWrapper<RecentTraining>;
  Region: Region;
  Sport: Sport;
  StatsBucket: ResolverTypeWrapper<StatsBucket>;
  StatsBucketSize: StatsBucketSize;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
  User: ResolverTypeWrapper<UserRef>;
  Workout: ResolverTypeWrapper<WorkoutRecord>;
  WorkoutConnection: ResolverTypeWrapper<Omit<WorkoutConnection, 'edges'> & { edges: Array<ResolversTypes['WorkoutEdge']> }>;
  WorkoutEdge: ResolverTypeWrapper<Omit<WorkoutEdge, 'node'> & { node: ResolversTypes['Workout'] }>;
  WorkoutSet: ResolverTypeWrapper<WorkoutSetRecord>;
  WorkoutSetInput: WorkoutSetInput;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
}>;

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = ResolversObject<{
  DateTime: Scalars['DateTime']['output'];
  Exercise: ExerciseRecord;
  ID: Scalars['ID']['output'];
  Leaderboard: LeaderboardSnapshot;
  LeaderboardEntry: LeaderboardEntryRecord;
  Int: Scalars['Int']['output'];
  Float: Scalars['Float']['output'];
  LeaderboardInput: LeaderboardInput;
  LogWorkoutInput: LogWorkoutInput;
  MuscleGroupTraining: MuscleGroupTraining;
  Mutation: Record<PropertyKey, never>;
  Boolean: Scalars['Boolean']['output'];
  PageInfo: PageInfo;
  Query: Record<PropertyKey, never>;
  RecentTraining: RecentTraining;
  StatsBucket: StatsBucket;
  Subscription: Record<PropertyKey, never>;
  User: UserRef;
  Workout: WorkoutRecord;
  WorkoutConnection: Omit<WorkoutConnection, 'edges'> & { edges: Array<ResolversParentTypes['WorkoutEdge']> };
  WorkoutEdge: Omit<WorkoutEdge, 'node'> & { node: ResolversParentTypes['Workout'] };
  WorkoutSet: WorkoutSetRecord;
  WorkoutSetInput: WorkoutSetInput;
  String: Scalars['String']['output'];
}>;

export type SelfOnlyDirectiveArgs = {
  owner?: Maybe<Scalars['String']['input']>;
};

export type SelfOnlyDirectiveResolver<Result, Parent, ContextType = Context, Args = SelfOnlyDirectiveArgs> = DirectiveResolverFn<Result, Parent, ContextType, Args>;

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type ExerciseResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Exercise'] = ResolversParentTypes['Exercise'], FederationReferenceType extends FederationReferenceTypes['Exercise'] = FederationReferenceTypes['Exercise']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Exercise']> | FederationReferenceType, FederationReferenceType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  muscleGroup?: Resolver<ResolversTypes['MuscleGroup'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type LeaderboardResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Leaderboard'] = ResolversParentTypes['Leaderboard']> = ResolversObject<{
  entries?: Resolver<Array<ResolversTypes['LeaderboardEntry']>, ParentType, ContextType>;
  metric?: Resolver<ResolversTypes['LeaderboardMetric'], ParentType, ContextType>;
  period?: Resolver<ResolversTypes['LeaderboardPeriod'], ParentType, ContextType>;
  periodStart?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  region?: Resolver<Maybe<ResolversTypes['Region']>, ParentType, ContextType>;
  updatedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
}>;

export type LeaderboardEntryResolvers<ContextType = Context, ParentType extends ResolversParentTypes['LeaderboardEntry'] = ResolversParentTypes['LeaderboardEntry']> = ResolversObject<{
  rank?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  score?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  user?: Resolver<Maybe<ResolversTypes['User']>, ParentType, ContextType>;
}>;

export type MuscleGroupTrainingResolvers<ContextType = Context, ParentType extends ResolversParentTypes['MuscleGroupTraining'] = ResolversParentTypes['MuscleGroupTraining']> = ResolversObject<{
  lastTrainedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  muscleGroup?: Resolver<ResolversTypes['MuscleGroup'], ParentType, ContextType>;
  sets?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  volumeKg?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type MutationResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = ResolversObject<{
  deleteWorkout?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType, RequireFields<MutationDeleteWorkoutArgs, 'id'>>;
  logWorkout?: Resolver<ResolversTypes['Workout'], ParentType, ContextType, RequireFields<MutationLogWorkoutArgs, 'input'>>;
}>;

export type PageInfoResolvers<ContextType = Context, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = ResolversObject<{
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type QueryResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = ResolversObject<{
  exercises?: Resolver<Maybe<Array<ResolversTypes['Exercise']>>, ParentType, ContextType, Partial<QueryExercisesArgs>>;
  leaderboard?: Resolver<Maybe<ResolversTypes['Leaderboard']>, ParentType, ContextType, RequireFields<QueryLeaderboardArgs, 'board'>>;
  workout?: Resolver<Maybe<ResolversTypes['Workout']>, ParentType, ContextType, RequireFields<QueryWorkoutArgs, 'id'>>;
}>;

export type RecentTrainingResolvers<ContextType = Context, ParentType extends ResolversParentTypes['RecentTraining'] = ResolversParentTypes['RecentTraining']> = ResolversObject<{
  muscleGroups?: Resolver<Array<ResolversTypes['MuscleGroupTraining']>, ParentType, ContextType>;
  since?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  workouts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type StatsBucketResolvers<ContextType = Context, ParentType extends ResolversParentTypes['StatsBucket'] = ResolversParentTypes['StatsBucket']> = ResolversObject<{
  calories?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  distanceM?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  durationSec?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  start?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  volumeKg?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  workouts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type SubscriptionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription']> = ResolversObject<{
  leaderboardUpdated?: SubscriptionResolver<ResolversTypes['Leaderboard'], "leaderboardUpdated", ParentType, ContextType, RequireFields<SubscriptionLeaderboardUpdatedArgs, 'board'>>;
}>;

export type UserResolvers<ContextType = Context, ParentType extends ResolversParentTypes['User'] = ResolversParentTypes['User'], FederationReferenceType extends FederationReferenceTypes['User'] = FederationReferenceTypes['User']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['User']> | FederationReferenceType, FederationReferenceType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  recentTraining?: Resolver<Maybe<ResolversTypes['RecentTraining']>, ParentType, ContextType>;
  stats?: Resolver<Maybe<Array<ResolversTypes['StatsBucket']>>, ParentType, ContextType, RequireFields<UserStatsArgs, 'bucket' | 'from' | 'to'>>;
  workouts?: Resolver<Maybe<ResolversTypes['WorkoutConnection']>, ParentType, ContextType, RequireFields<UserWorkoutsArgs, 'first'>>;
}>;

export type WorkoutResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Workout'] = ResolversParentTypes['Workout'], FederationReferenceType extends FederationReferenceTypes['Workout'] = FederationReferenceTypes['Workout']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Workout']> | FederationReferenceType, FederationReferenceType, ContextType>;
  calories?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  distanceM?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  durationSec?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  sets?: Resolver<Array<ResolversTypes['WorkoutSet']>, ParentType, ContextType>;
  sport?: Resolver<ResolversTypes['Sport'], ParentType, ContextType>;
  startedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  title?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  user?: Resolver<Maybe<ResolversTypes['User']>, ParentType, ContextType>;
  volumeKg?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
}>;

export type WorkoutConnectionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['WorkoutConnection'] = ResolversParentTypes['WorkoutConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['WorkoutEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
}>;

export type WorkoutEdgeResolvers<ContextType = Context, ParentType extends ResolversParentTypes['WorkoutEdge'] = ResolversParentTypes['WorkoutEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Workout'], ParentType, ContextType>;
}>;

export type WorkoutSetResolvers<ContextType = Context, ParentType extends ResolversParentTypes['WorkoutSet'] = ResolversParentTypes['WorkoutSet']> = ResolversObject<{
  distanceM?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  durationSec?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  exercise?: Resolver<ResolversTypes['Exercise'], ParentType, ContextType>;
  reps?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  weightKg?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
}>;

export type Resolvers<ContextType = Context> = ResolversObject<{
  DateTime?: GraphQLScalarType;
  Exercise?: ExerciseResolvers<ContextType>;
  Leaderboard?: LeaderboardResolvers<ContextType>;
  LeaderboardEntry?: LeaderboardEntryResolvers<ContextType>;
  MuscleGroupTraining?: MuscleGroupTrainingResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  RecentTraining?: RecentTrainingResolvers<ContextType>;
  StatsBucket?: StatsBucketResolvers<ContextType>;
  Subscription?: SubscriptionResolvers<ContextType>;
  User?: UserResolvers<ContextType>;
  Workout?: WorkoutResolvers<ContextType>;
  WorkoutConnection?: WorkoutConnectionResolvers<ContextType>;
  WorkoutEdge?: WorkoutEdgeResolvers<ContextType>;
  WorkoutSet?: WorkoutSetResolvers<ContextType>;
}>;

export type DirectiveResolvers<ContextType = Context> = ResolversObject<{
  selfOnly?: SelfOnlyDirectiveResolver<any, any, ContextType>;
}>;
