/**
 * The accounts audit: data held anywhere for user ids that name no account.
 *
 *   pnpm --filter @fitness/users accounts:audit                   list them
 *   pnpm --filter @fitness/users accounts:audit -- --repair       and emit users.deleted for each
 *   ... -- --subgraph workouts=http://10.0.0.5:4002 --json
 *
 * Reads the users service's own configuration (MONGODB_URL, required; ROUTER_SUBGRAPH_SECRET,
 * JWT_TTL_SECONDS, ...) and asks each subgraph's GET /accounts/held as the
 * router does (with the router secret). Exits 0 when nothing is left over (or all of
 * it was repaired), 1 when orphans are listed and not repaired, 2 on bad arguments.
 */
import { createLogger } from '@fitness/server-kit';
import { loadConfig } from '../config.js';
import { openStores } from '../stores.js';
import { AUDIT_USAGE, auditAccounts, formatAuditReport, parseAuditArgs, repairAccounts } from './audit.js';

async function main(argv: string[]): Promise<number> {
  const options = parseAuditArgs(argv);
  if (typeof options === 'string') {
    process.stderr.write(`${options}\n${AUDIT_USAGE}`);
    return 2;
  }
  const config = loadConfig();
  if (!config.mongodbUrl) {
    process.stderr.write(`the audit reads the users database: set MONGODB_URL\n${AUDIT_USAGE}`);
    return 2;
  }
  const logger = createLogger('accounts-audit', 'warn', 'json');
  const stores = await openStores(config, logger);
  try {
    const report = await auditAccounts({
      store: stores.store,
      sources: options.sources,
      routerSecret: config.routerSecret,
    });
    // The tombstones written here carry the events; the users service's relay publishes them.
    const repaired =
      options.repair && report.orphans.length > 0
        ? await repairAccounts(stores.store, report.orphans, config.tokens.ttlSeconds)
        : undefined;
    if (options.json) process.stdout.write(`${JSON.stringify({ ...report, repaired }, null, 2)}\n`);
    else {
      process.stdout.write(formatAuditReport(report));
      if (repaired) {
        process.stdout.write(
          `users.deleted emitted for ${repaired.emitted.length} (each service erases what it holds when it arrives)` +
            (repaired.skipped.length
              ? `; skipped ${repaired.skipped.length} (an account, or a deletion on its way)`
              : '') +
            '\n',
        );
      }
    }
    return report.orphans.length === 0 || repaired ? 0 : 1;
  } finally {
    await stores.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `accounts audit failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
