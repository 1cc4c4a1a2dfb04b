import { createServer, type Server } from 'node:http';
import { type Envelope, InProcessEventBus } from '@fitness/events';
import { heldAccountsRoute, listen, ROUTER_SECRET_HEADER } from '@fitness/server-kit';
import { waitFor } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditAccounts, formatAuditReport, parseAuditArgs, repairAccounts } from '../src/accounts/audit.js';
import type { UsersStore } from '../src/datasources/UsersStore.js';
import { newUser, type OpenedStore, storeAdapters } from './adapters.js';

const SECRET = 'accounts-audit-test-secret-long-enough';

/** A subgraph's GET /accounts/held over real HTTP, listing `ids`. */
async function heldSource(ids: () => string[]) {
  const routes = heldAccountsRoute(SECRET, async () => ids());
  const server: Server = createServer((req, res) => {
    const route = routes[`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`];
    if (!route) return void res.writeHead(404).end();
    Promise.resolve(route(req, res, Buffer.alloc(0))).catch(
      (error: { extensions?: { http?: { status?: number } } }) =>
        res.writeHead(error.extensions?.http?.status ?? 500).end(),
    );
  });
  const port = await listen(server, 0, '127.0.0.1');
  return { url: `http://127.0.0.1:${port}/graphql`, close: () => new Promise((r) => server.close(r)) };
}

describe.each(storeAdapters('users accounts audit'))('accounts audit on $name', (adapter) => {
  const bus = new InProcessEventBus();
  const events: Envelope[] = [];
  let opened: OpenedStore;
  let store: UsersStore;
  let workouts: Awaited<ReturnType<typeof heldSource>>;
  let payments: Awaited<ReturnType<typeof heldSource>>;
  let held: { workouts: string[]; payments: string[] };

  beforeAll(async () => {
    await bus.consume('audit-test', {
      subjects: ['users.deleted'],
      handler: async (e) => void events.push(e),
    });
    opened = await adapter.open({ bus });
    store = opened.store;
    workouts = await heldSource(() => held.workouts);
    payments = await heldSource(() => held.payments);
  });
  afterAll(async () => {
    await workouts.close();
    await payments.close();
    await opened.close();
    await bus.close();
  });

  it('should list the ids data is held for that name no account, with where, and repair them with users.deleted', async () => {
    const alive = await store.createUser(newUser());
    const ghost = '0123456789abcdef0123456a';
    held = { workouts: [alive.id, ghost, 'u-legacy'], payments: [ghost] };
    const sources = [
      { name: 'workouts', url: workouts.url },
      { name: 'payments', url: payments.url },
    ];
    const report = await auditAccounts({ store, sources, routerSecret: SECRET });
    expect(report.checked).toEqual([
      { source: 'users', userIds: 0 },
      { source: 'workouts', userIds: 3 },
      { source: 'payments', userIds: 1 },
    ]);
    expect(report.orphans).toEqual([
      { userId: ghost, heldBy: ['workouts', 'payments'] },
      { userId: 'u-legacy', heldBy: ['workouts'] },
    ]);
    expect(formatAuditReport(report)).toContain(`${ghost}  workouts, payments`);

    const repaired = await repairAccounts(store, report.orphans, 3600);
    expect(repaired).toEqual({ emitted: [ghost, 'u-legacy'], skipped: [] });
    await waitFor(() => events.length === 2, 'both users.deleted');
    expect(events.map((e) => (e.payload as { userId: string }).userId).sort()).toEqual([ghost, 'u-legacy']);
    expect(await repairAccounts(store, [{ userId: alive.id, heldBy: ['workouts'] }], 3600)).toEqual({
      emitted: [],
      skipped: [alive.id],
    });
  });

  it('should refuse to audit with a wrong router secret, naming the subgraph', async () => {
    held = { workouts: [], payments: [] };
    await expect(
      auditAccounts({
        store,
        sources: [{ name: 'workouts', url: workouts.url }],
        routerSecret: 'not-the-secret',
      }),
    ).rejects.toThrow('workouts answered 403');
    const anonymous = await fetch(new URL('/accounts/held', workouts.url));
    expect(anonymous.status).toBe(401);
    const asRouter = await fetch(new URL('/accounts/held', workouts.url), {
      headers: { [ROUTER_SECRET_HEADER]: SECRET },
    });
    expect(await asRouter.json()).toEqual({ userIds: [] });
  });
});

describe('accounts audit arguments', () => {
  it('should default to the local subgraphs and read --repair, --json and --subgraph', () => {
    expect(parseAuditArgs([])).toMatchObject({
      repair: false,
      json: false,
      sources: [{ name: 'workouts' }, {}, {}],
    });
    expect(
      parseAuditArgs(['--', '--repair', '--subgraph', 'workouts=http://10.0.0.5:4002', '--json']),
    ).toEqual({
      repair: true,
      json: true,
      sources: [{ name: 'workouts', url: 'http://10.0.0.5:4002' }],
    });
    expect(parseAuditArgs(['--subgraph', 'nope'])).toMatch(/--subgraph needs/);
    expect(parseAuditArgs(['--force'])).toBe('unknown argument --force');
  });
});
