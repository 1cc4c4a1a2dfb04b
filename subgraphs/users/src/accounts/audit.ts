import { HELD_ACCOUNTS_PATH, ROUTER_SECRET_HEADER } from '@fitness/server-kit';
import { idsWithoutUser, type UsersStore } from '../datasources/UsersStore.js';
import { userDeleted } from '../events.js';

/** A subgraph that lists the user ids it holds data for (GET /accounts/held). */
export interface HeldSource {
  name: string;
  /** The subgraph's base URL, e.g. http://127.0.0.1:4002 (its /graphql URL works too). */
  url: string;
}

/** A user id that some data is held for, though no account has it. */
export interface Orphan {
  userId: string;
  /** Where: subgraph names, and `users` for follow edges. */
  heldBy: string[];
}

export interface AuditReport {
  /** How many distinct user ids each place holds data for. */
  checked: { source: string; userIds: number }[];
  orphans: Orphan[];
}

/** The ids a subgraph holds data for, asked as the router (its secret); a failure names the subgraph. */
export async function fetchHeldUserIds(source: HeldSource, routerSecret: string): Promise<string[]> {
  const url = new URL(HELD_ACCOUNTS_PATH, source.url.replace(/\/graphql\/?$/, '/'));
  const res = await fetch(url, { headers: { [ROUTER_SECRET_HEADER]: routerSecret } });
  if (!res.ok) throw new Error(`${source.name} answered ${res.status} for ${HELD_ACCOUNTS_PATH}`);
  const body = (await res.json()) as { userIds?: unknown };
  if (!Array.isArray(body.userIds) || !body.userIds.every((id) => typeof id === 'string')) {
    throw new Error(`${source.name} answered ${HELD_ACCOUNTS_PATH} without a list of user ids`);
  }
  return body.userIds as string[];
}

/**
 * Lists data held for user ids that no longer exist (or never did): follow edges
 * here, and whatever each subgraph reports. What a crashed or lost erasure left
 * behind, or data written for an account while it was being deleted. An account
 * deleted a moment ago may show up until every service has had its event.
 */
export async function auditAccounts(options: {
  store: UsersStore;
  sources: readonly HeldSource[];
  routerSecret: string;
}): Promise<AuditReport> {
  const { store } = options;
  const heldBy = new Map<string, string[]>();
  const note = (source: string, ids: readonly string[]) => {
    for (const id of ids) heldBy.set(id, [...(heldBy.get(id) ?? []), source]);
  };
  const dangling = await store.followIdsWithoutUser();
  note('users', dangling);
  const checked = [{ source: 'users', userIds: dangling.length }];
  for (const source of options.sources) {
    const ids = await fetchHeldUserIds(source, options.routerSecret);
    checked.push({ source: source.name, userIds: ids.length });
    note(source.name, await idsWithoutUser(store, ids));
  }
  const orphans = [...heldBy].map(([userId, where]) => ({ userId, heldBy: where }));
  orphans.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  return { checked, orphans };
}

/**
 * Emits users.deleted for each orphan (through the store's outbox, as a deletion
 * does), so that every service erases what it holds and refuses any token of it.
 * An id that names an account again, or whose deletion event is still on its way,
 * is skipped.
 */
export async function repairAccounts(
  store: UsersStore,
  orphans: readonly Orphan[],
  tokenTtlSeconds: number,
  now = new Date(),
): Promise<{ emitted: string[]; skipped: string[] }> {
  const emitted: string[] = [];
  const skipped: string[] = [];
  for (const { userId } of orphans) {
    const event = userDeleted(userId, now, tokenTtlSeconds);
    ((await store.emitForMissingUser(userId, event)) ? emitted : skipped).push(userId);
  }
  return { emitted, skipped };
}

export const AUDIT_USAGE =
  'usage: accounts:audit [--repair] [--json] [--subgraph <name>=<url>]...\n' +
  '  default subgraphs: workouts=http://127.0.0.1:4002 payments=http://127.0.0.1:4003 recommendations=http://127.0.0.1:4004\n';

const DEFAULT_SOURCES: HeldSource[] = [
  { name: 'workouts', url: 'http://127.0.0.1:4002' },
  { name: 'payments', url: 'http://127.0.0.1:4003' },
  { name: 'recommendations', url: 'http://127.0.0.1:4004' },
];

export interface AuditOptions {
  repair: boolean;
  json: boolean;
  sources: HeldSource[];
}

/** The options, or a message for a bad argument. */
export function parseAuditArgs(argv: readonly string[]): AuditOptions | string {
  const options: AuditOptions = { repair: false, json: false, sources: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') continue;
    if (arg === '--repair') options.repair = true;
    else if (arg === '--json') options.json = true;
    else if (arg === '--subgraph') {
      const match = /^([a-z][a-z0-9_-]*)=(https?:\/\/\S+)$/.exec(argv[++i] ?? '');
      if (!match) return '--subgraph needs <name>=<http(s) url>';
      options.sources.push({ name: match[1]!, url: match[2]! });
    } else return `unknown argument ${arg}`;
  }
  if (options.sources.length === 0) options.sources = DEFAULT_SOURCES;
  return options;
}

/** The report as lines an operator reads. */
export function formatAuditReport(report: AuditReport): string {
  const lines = [`checked: ${report.checked.map((c) => `${c.source} ${c.userIds} ids`).join(', ')}`];
  if (report.orphans.length === 0) lines.push('every user id held names an account');
  else {
    lines.push(`${report.orphans.length} user ids hold data but name no account:`);
    for (const o of report.orphans) lines.push(`  ${o.userId}  ${o.heldBy.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}
