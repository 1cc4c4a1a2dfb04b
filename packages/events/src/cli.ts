/**
 * Operations command for the event backbone.
 *
 *   pnpm --filter @fitness/events events:status            stream and consumer state
 *   pnpm --filter @fitness/events events:status -- --json  the same as JSON
 *
 * Reads NATS_URL (required) and EVENTS_NAMESPACE (optional stream/subject prefix).
 */
import { formatBusStatus, readBusStatus } from './status.js';

const USAGE = 'usage: cli.ts status [--json]   (env: NATS_URL, EVENTS_NAMESPACE)\n';

async function main(argv: string[]): Promise<number> {
  const [command, ...flags] = argv.filter((a) => a !== '--');
  if (command !== 'status') {
    process.stderr.write(USAGE);
    return 2;
  }
  const url = process.env.NATS_URL;
  if (!url) {
    process.stderr.write(
      `NATS_URL is not set: the in-process bus has no state outside its process.\n${USAGE}`,
    );
    return 2;
  }
  const streams = await readBusStatus(url, process.env.EVENTS_NAMESPACE ?? '');
  process.stdout.write(
    flags.includes('--json') ? `${JSON.stringify(streams, null, 2)}\n` : formatBusStatus(streams),
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`events status failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
