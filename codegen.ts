import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Resolver types per subgraph (federation-aware, mapped to each store's models)
 * and typed documents for the operations frontends send (schema/operations).
 * `pnpm codegen` writes them; `pnpm codegen:check` fails when they are stale.
 */
const shared = {
  useTypeImports: true,
  enumsAsTypes: true,
  avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
  scalars: { DateTime: { input: 'string', output: 'Date | string' } },
};

const subgraphs: Record<string, Record<string, string>> = {
  users: {
    User: '../datasources/models.js#UserRecord',
    AuthPayload: '../datasources/models.js#AuthPayloadModel',
  },
  workouts: {
    User: '../datasources/models.js#UserRef',
    Workout: '../datasources/models.js#WorkoutRecord',
    WorkoutSet: '../datasources/models.js#WorkoutSetRecord',
    Exercise: '../datasources/models.js#ExerciseRecord',
    Leaderboard: '../leaderboards/model.js#LeaderboardSnapshot',
    LeaderboardEntry: '../leaderboards/model.js#LeaderboardEntryRecord',
  },
  payments: {
    User: '../datasources/models.js#UserRef',
    Plan: '../datasources/models.js#PlanRecord',
    Membership: '../datasources/models.js#MembershipRecord',
    Payment: '../datasources/models.js#PaymentRecord',
    PaymentConnection: '../datasources/models.js#PaymentPage',
  },
  recommendations: {
    User: '../datasources/models.js#UserWithTraining',
    Recommendation: '../datasources/models.js#RecommendationRecord',
    Exercise: '../datasources/models.js#ExerciseRef',
  },
};

const config: CodegenConfig = {
  overwrite: true,
  generates: {
    ...Object.fromEntries(
      Object.entries(subgraphs).map(([name, mappers]) => [
        `subgraphs/${name}/src/__generated__/resolvers-types.ts`,
        {
          schema: `subgraphs/${name}/schema.graphql`,
          plugins: ['typescript', 'typescript-resolvers'],
          config: {
            ...shared,
            federation: true,
            useIndexSignature: true,
            contextType: '../context.js#Context',
            mappers,
          },
        },
      ]),
    ),
    'packages/client/src/__generated__/': {
      schema: 'schema/api.graphql',
      documents: 'schema/operations/*.graphql',
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: { ...shared, documentMode: 'documentNode' },
    },
    // The safelist the router enforces with OPERATION_SAFELIST (see README, "Trusted documents").
    'packages/client/src/__generated__/persisted-query-manifest.json': {
      schema: 'schema/api.graphql',
      documents: 'schema/operations/*.graphql',
      plugins: ['packages/tooling/src/operationManifest.cjs'],
    },
  },
};

export default config;
