/**
 * The subgraphs of the fan-out benchmark, in their own process so that their CPU is
 * not counted as the router's or the load generator's: a live subgraph publishing a
 * board at a fixed rate (version = milliseconds since EPOCH, for latency) and the
 * players subgraph that resolves entries' players. Prints its URLs as one JSON line.
 */
import { startLiveSubgraph, startPlayersSubgraph } from '../test/subscriptionStubs.js';

const epoch = Number(process.env.BENCH_EPOCH ?? Date.now());
const rate = Number(process.env.BENCH_RATE ?? 4);
const live = await startLiveSubgraph();
const players = await startPlayersSubgraph();
let publishes = 0;
let paused = false;
// "pause" / "resume" on stdin: the benchmark stops publishing to check that every
// subscriber ends on the last snapshot.
process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
  for (const line of chunk.split('\n')) {
    if (line.trim() === 'pause') paused = true;
    if (line.trim() === 'resume') paused = false;
  }
});
setInterval(() => {
  if (paused) return;
  publishes += 1;
  live.publish({
    board: 'bench',
    version: Date.now() - epoch,
    entries: Array.from({ length: 10 }, (_, i) => ({
      rank: i + 1,
      score: 1000 - i * 10 - (publishes % 7),
      player: { id: `p${(i + publishes) % 50}` },
    })),
  });
}, 1000 / rate);
process.stdout.write(`${JSON.stringify({ live: live.url, players: players.url })}\n`);
process.on('SIGTERM', () => process.exit(0));
