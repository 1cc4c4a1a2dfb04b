/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation CancelMembership {\n  cancelMembership {\n    id\n    status\n    currentPeriodEnd\n    cancelAtPeriodEnd\n  }\n}": typeof types.CancelMembershipDocument,
    "query Dashboard {\n  me {\n    id\n    handle\n    displayName\n    isPremium\n    workouts(first: 5) {\n      edges {\n        node {\n          id\n          sport\n          startedAt\n          volumeKg\n        }\n      }\n    }\n    recommendations(first: 3) {\n      id\n      kind\n      title\n      reason\n      score\n    }\n  }\n  plans {\n    id\n    name\n    priceCents\n    currency\n  }\n}": typeof types.DashboardDocument,
    "mutation DeleteAccount($password: String!) {\n  deleteAccount(password: $password)\n}": typeof types.DeleteAccountDocument,
    "mutation DeleteWorkout($id: ID!) {\n  deleteWorkout(id: $id)\n}": typeof types.DeleteWorkoutDocument,
    "query Exercises($muscleGroup: MuscleGroup) {\n  exercises(muscleGroup: $muscleGroup) {\n    id\n    name\n    muscleGroup\n  }\n}": typeof types.ExercisesDocument,
    "query Leaderboard($board: LeaderboardInput!) {\n  leaderboard(board: $board) {\n    metric\n    period\n    region\n    periodStart\n    updatedAt\n    entries {\n      rank\n      score\n      user {\n        id\n        handle\n        displayName\n      }\n    }\n  }\n}": typeof types.LeaderboardDocument,
    "subscription LeaderboardUpdated($board: LeaderboardInput!) {\n  leaderboardUpdated(board: $board) {\n    metric\n    period\n    region\n    periodStart\n    updatedAt\n    entries {\n      rank\n      score\n      user {\n        id\n        handle\n        displayName\n      }\n    }\n  }\n}": typeof types.LeaderboardUpdatedDocument,
    "mutation LogWorkout($input: LogWorkoutInput!) {\n  logWorkout(input: $input) {\n    id\n    sport\n    title\n    startedAt\n    durationSec\n    distanceM\n    calories\n    volumeKg\n    sets {\n      exercise {\n        id\n        name\n      }\n      reps\n      weightKg\n    }\n    user {\n      id\n      handle\n    }\n  }\n}": typeof types.LogWorkoutDocument,
    "query Me {\n  me {\n    id\n    handle\n    displayName\n    avatarUrl\n    email\n    region\n    createdAt\n    followersCount\n    followingCount\n  }\n}": typeof types.MeDocument,
    "query MyBilling($first: Int, $after: String) {\n  me {\n    id\n    isPremium\n    membership {\n      id\n      status\n      currentPeriodEnd\n      cancelAtPeriodEnd\n      plan {\n        id\n        name\n      }\n    }\n    payments(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          amountCents\n          currency\n          status\n          createdAt\n          failureReason\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}": typeof types.MyBillingDocument,
    "query MyWorkouts($first: Int, $after: String) {\n  me {\n    id\n    workouts(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          sport\n          startedAt\n          durationSec\n          volumeKg\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}": typeof types.MyWorkoutsDocument,
    "query Plans {\n  plans {\n    id\n    name\n    priceCents\n    currency\n    interval\n  }\n}": typeof types.PlansDocument,
    "mutation SignIn($input: SignInInput!) {\n  signIn(input: $input) {\n    token\n    expiresAt\n    user {\n      id\n      handle\n    }\n  }\n}": typeof types.SignInDocument,
    "mutation SignOutEverywhere {\n  signOutEverywhere\n}": typeof types.SignOutEverywhereDocument,
    "mutation SignUp($input: SignUpInput!) {\n  signUp(input: $input) {\n    token\n    expiresAt\n    user {\n      id\n      handle\n      displayName\n      email\n      region\n    }\n  }\n}": typeof types.SignUpDocument,
    "mutation StartMembership($input: StartMembershipInput!) {\n  startMembership(input: $input) {\n    id\n    status\n    currentPeriodEnd\n    cancelAtPeriodEnd\n    plan {\n      id\n      name\n      priceCents\n      currency\n      interval\n    }\n  }\n}": typeof types.StartMembershipDocument,
    "query UserByHandle($handle: String!) {\n  userByHandle(handle: $handle) {\n    id\n    handle\n    displayName\n    avatarUrl\n    region\n    followersCount\n    followingCount\n    isPremium\n  }\n}": typeof types.UserByHandleDocument,
};
const documents: Documents = {
    "mutation CancelMembership {\n  cancelMembership {\n    id\n    status\n    currentPeriodEnd\n    cancelAtPeriodEnd\n  }\n}": types.CancelMembershipDocument,
    "query Dashboard {\n  me {\n    id\n    handle\n    displayName\n    isPremium\n    workouts(first: 5) {\n      edges {\n        node {\n          id\n          sport\n          startedAt\n          volumeKg\n        }\n      }\n    }\n    recommendations(first: 3) {\n      id\n      kind\n      title\n      reason\n      score\n    }\n  }\n  plans {\n    id\n    name\n    priceCents\n    currency\n  }\n}": types.DashboardDocument,
    "mutation DeleteAccount($password: String!) {\n  deleteAccount(password: $password)\n}": types.DeleteAccountDocument,
    "mutation DeleteWorkout($id: ID!) {\n  deleteWorkout(id: $id)\n}": types.DeleteWorkoutDocument,
    "query Exercises($muscleGroup: MuscleGroup) {\n  exercises(muscleGroup: $muscleGroup) {\n    id\n    name\n    muscleGroup\n  }\n}": types.ExercisesDocument,
    "query Leaderboard($board: LeaderboardInput!) {\n  leaderboard(board: $board) {\n    metric\n    period\n    region\n    periodStart\n    updatedAt\n    entries {\n      rank\n      score\n      user {\n        id\n        handle\n        displayName\n      }\n    }\n  }\n}": types.LeaderboardDocument,
    "subscription LeaderboardUpdated($board: LeaderboardInput!) {\n  leaderboardUpdated(board: $board) {\n    metric\n    period\n    region\n    periodStart\n    updatedAt\n    entries {\n      rank\n      score\n      user {\n        id\n        handle\n        displayName\n      }\n    }\n  }\n}": types.LeaderboardUpdatedDocument,
    "mutation LogWorkout($input: LogWorkoutInput!) {\n  logWorkout(input: $input) {\n    id\n    sport\n    title\n    startedAt\n    durationSec\n    distanceM\n    calories\n    volumeKg\n    sets {\n      exercise {\n        id\n        name\n      }\n      reps\n      weightKg\n    }\n    user {\n      id\n      handle\n    }\n  }\n}": types.LogWorkoutDocument,
    "query Me {\n  me {\n    id\n    handle\n    displayName\n    avatarUrl\n    email\n    region\n    createdAt\n    followersCount\n    followingCount\n  }\n}": types.MeDocument,
    "query MyBilling($first: Int, $after: String) {\n  me {\n    id\n    isPremium\n    membership {\n      id\n      status\n      currentPeriodEnd\n      cancelAtPeriodEnd\n      plan {\n        id\n        name\n      }\n    }\n    payments(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          amountCents\n          currency\n          status\n          createdAt\n          failureReason\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}": types.MyBillingDocument,
    "query MyWorkouts($first: Int, $after: String) {\n  me {\n    id\n    workouts(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          sport\n          startedAt\n          durationSec\n          volumeKg\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}": types.MyWorkoutsDocument,
    "query Plans {\n  plans {\n    id\n    name\n    priceCents\n    currency\n    interval\n  }\n}": types.PlansDocument,
    "mutation SignIn($input: SignInInput!) {\n  signIn(input: $input) {\n    token\n    expiresAt\n    user {\n      id\n      handle\n    }\n  }\n}": types.SignInDocument,
    "mutation SignOutEverywhere {\n  signOutEverywhere\n}": types.SignOutEverywhereDocument,
    "mutation SignUp($input: SignUpInput!) {\n  signUp(input: $input) {\n    token\n    expiresAt\n    user {\n      id\n      handle\n      displayName\n      email\n      region\n    }\n  }\n}": types.SignUpDocument,
    "mutation StartMembership($input: StartMembershipInput!) {\n  startMembership(input: $input) {\n    id\n    status\n    currentPeriodEnd\n    cancelAtPeriodEnd\n    plan {\n      id\n      name\n      priceCents\n      currency\n      interval\n    }\n  }\n}": types.StartMembershipDocument,
    "query UserByHandle($handle: String!) {\n  userByHandle(handle: $handle) {\n    id\n    handle\n    displayName\n    avatarUrl\n    region\n    followersCount\n    followingCount\n    isPremium\n  }\n}": types.UserByHandleDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CancelMembership {\n  cancelMembership {\n    id\n    status\n    currentPeriodEnd\n    cancelAtPeriodEnd\n  }\n}"): (typeof documents)["mutation CancelMembership {\n  cancelMembership {\n    id\n    status\n    currentPeriodEnd\n    cancelAtPeriodEnd\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Dashboard {\n  me {\n    id\n    handle\n    displayName\n    isPremium\n    workouts(first: 5) {\n      edges {\n        node {\n          id\n          sport\n          startedAt\n          volumeKg\n        }\n      }\n    }\n    recommendations(first: 3) {\n      id\n      kind\n      title\n      reason\n      score\n    }\n  }\n  plans {\n    id\n    name\n    priceCents\n    currency\n  }\n}"): (typeof documents)["query Dashboard {\n  me {\n    id\n    handle\n    displayName\n    isPremium\n    workouts(first: 5) {\n      edges {\n        node {\n          id\n          sport\n          startedAt\n          volumeKg\n        }\n      }\n    }\n    recommendations(first: 3) {\n      id\n      kind\n      title\n      reason\n      score\n    }\n  }\n  plans {\n    id\n    name\n    priceCents\n    currency\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation DeleteAccount($password: String!) {\n  deleteAccount(password: $password)\n}"): (typeof documents)["mutation DeleteAccount($password: String!) {\n  deleteAccount(password: $password)\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation DeleteWorkout($id: ID!) {\n  deleteWorkout(id: $id)\n}"): (typeof documents)["mutation DeleteWorkout($id: ID!) {\n  deleteWorkout(id: $id)\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Exercises($muscleGroup: MuscleGroup) {\n  exercises(muscleGroup: $muscleGroup) {\n    id\n    name\n    muscleGroup\n  }\n}"): (typeof documents)["query Exercises($muscleGroup: MuscleGroup) {\n  exercises(muscleGroup: $muscleGroup) {\n    id\n    name\n    muscleGroup\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Leaderboard($board: LeaderboardInput!) {\n  leaderboard(board: $board) {\n    metric\n    period\n    region\n    periodStart\n    updatedAt\n    entries {\n      rank\n      score\n      user {\n        id\n        handle\n        displayName\n      }\n    }\n  }\n}"): (typeof documents)["query Leaderboard($board: LeaderboardInput!) {\n  leaderboard(board: $board) {\n    metric\n    period\n    region\n    periodStart\n    updatedAt\n    entries {\n      rank\n      score\n      user {\n        id\n        handle\n        displayName\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription LeaderboardUpdated($board: LeaderboardInput!) {\n  leaderboardUpdated(board: $board) {\n    metric\n    period\n    region\n    periodStart\n    updatedAt\n    entries {\n      rank\n      score\n      user {\n        id\n        handle\n        displayName\n      }\n    }\n  }\n}"): (typeof documents)["subscription LeaderboardUpdated($board: LeaderboardInput!) {\n  leaderboardUpdated(board: $board) {\n    metric\n    period\n    region\n    periodStart\n    updatedAt\n    entries {\n      rank\n      score\n      user {\n        id\n        handle\n        displayName\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation LogWorkout($input: LogWorkoutInput!) {\n  logWorkout(input: $input) {\n    id\n    sport\n    title\n    startedAt\n    durationSec\n    distanceM\n    calories\n    volumeKg\n    sets {\n      exercise {\n        id\n        name\n      }\n      reps\n      weightKg\n    }\n    user {\n      id\n      handle\n    }\n  }\n}"): (typeof documents)["mutation LogWorkout($input: LogWorkoutInput!) {\n  logWorkout(input: $input) {\n    id\n    sport\n    title\n    startedAt\n    durationSec\n    distanceM\n    calories\n    volumeKg\n    sets {\n      exercise {\n        id\n        name\n      }\n      reps\n      weightKg\n    }\n    user {\n      id\n      handle\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Me {\n  me {\n    id\n    handle\n    displayName\n    avatarUrl\n    email\n    region\n    createdAt\n    followersCount\n    followingCount\n  }\n}"): (typeof documents)["query Me {\n  me {\n    id\n    handle\n    displayName\n    avatarUrl\n    email\n    region\n    createdAt\n    followersCount\n    followingCount\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query MyBilling($first: Int, $after: String) {\n  me {\n    id\n    isPremium\n    membership {\n      id\n      status\n      currentPeriodEnd\n      cancelAtPeriodEnd\n      plan {\n        id\n        name\n      }\n    }\n    payments(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          amountCents\n          currency\n          status\n          createdAt\n          failureReason\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}"): (typeof documents)["query MyBilling($first: Int, $after: String) {\n  me {\n    id\n    isPremium\n    membership {\n      id\n      status\n      currentPeriodEnd\n      cancelAtPeriodEnd\n      plan {\n        id\n        name\n      }\n    }\n    payments(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          amountCents\n          currency\n          status\n          createdAt\n          failureReason\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query MyWorkouts($first: Int, $after: String) {\n  me {\n    id\n    workouts(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          sport\n          startedAt\n          durationSec\n          volumeKg\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}"): (typeof documents)["query MyWorkouts($first: Int, $after: String) {\n  me {\n    id\n    workouts(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          sport\n          startedAt\n          durationSec\n          volumeKg\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Plans {\n  plans {\n    id\n    name\n    priceCents\n    currency\n    interval\n  }\n}"): (typeof documents)["query Plans {\n  plans {\n    id\n    name\n    priceCents\n    currency\n    interval\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation SignIn($input: SignInInput!) {\n  signIn(input: $input) {\n    token\n    expiresAt\n    user {\n      id\n      handle\n    }\n  }\n}"): (typeof documents)["mutation SignIn($input: SignInInput!) {\n  signIn(input: $input) {\n    token\n    expiresAt\n    user {\n      id\n      handle\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation SignOutEverywhere {\n  signOutEverywhere\n}"): (typeof documents)["mutation SignOutEverywhere {\n  signOutEverywhere\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation SignUp($input: SignUpInput!) {\n  signUp(input: $input) {\n    token\n    expiresAt\n    user {\n      id\n      handle\n      displayName\n      email\n      region\n    }\n  }\n}"): (typeof documents)["mutation SignUp($input: SignUpInput!) {\n  signUp(input: $input) {\n    token\n    expiresAt\n    user {\n      id\n      handle\n      displayName\n      email\n      region\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation StartMembership($input: StartMembershipInput!) {\n  startMembership(input: $input) {\n    id\n    status\n    currentPeriodEnd\n    cancelAtPeriodEnd\n    plan {\n      id\n      name\n      priceCents\n      currency\n      interval\n    }\n  }\n}"): (typeof documents)["mutation StartMembership($input: StartMembershipInput!) {\n  startMembership(input: $input) {\n    id\n    status\n    currentPeriodEnd\n    cancelAtPeriodEnd\n    plan {\n      id\n      name\n      priceCents\n      currency\n      interval\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query UserByHandle($handle: String!) {\n  userByHandle(handle: $handle) {\n    id\n    handle\n    displayName\n    avatarUrl\n    region\n    followersCount\n    followingCount\n    isPremium\n  }\n}"): (typeof documents)["query UserByHandle($handle: String!) {\n  userByHandle(handle: $handle) {\n    id\n    handle\n    displayName\n    avatarUrl\n    region\n    followersCount\n    followingCount\n    isPremium\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;