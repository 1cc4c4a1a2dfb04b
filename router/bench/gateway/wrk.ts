/**
 * wrk as the load generator: one POST body, and a Lua `response` hook that counts a
 * response only when it is a 200 whose body is byte for byte the validated answer.
 * wrk runs on the load core (`taskset`), one thread per lane, keeping each connection busy.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WrkResult {
  requests: number;
  good: number;
  bad: number;
  socketErrors: number;
  durationSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Right responses per wall-clock second (Unix seconds). */
  perSecond: Record<string, number>;
  /** Where the first wrong response was written, when there was one. */
  badSample?: string;
}

/**
 * One POST body; one lane per wrk thread, each with its own headers (a user's token)
 * and the answer its responses must be.
 */
export interface WrkTarget {
  url: string;
  body: string;
  lanes: { headers?: Record<string, string>; expected: string }[];
}

/** A Lua long string that cannot end early: its level of `=` is one more than any run in the text. */
function luaString(text: string): string {
  let level = 1;
  while (text.includes(`]${'='.repeat(level)}]`)) level += 1;
  const eq = '='.repeat(level);
  // A newline right after the opening bracket is dropped by Lua; start with one of our own.
  return `[${eq}[\n${text}]${eq}]`;
}

function script(target: WrkTarget, samplePath: string): string {
  const lanes = target.lanes.map(
    (lane) =>
      `{ headers = { ${Object.entries({ 'Content-Type': 'application/json', ...lane.headers })
        .map(([k, v]) => `[ ${luaString(k)} ] = ${luaString(v)}`)
        .join(', ')} }, expected = ${luaString(lane.expected)} }`,
  );
  return `
wrk.method = "POST"
wrk.body = ${luaString(target.body)}
local lanes = { ${lanes.join(',\n')} }
local threads = {}
local count = 0
function setup(thread)
  count = count + 1
  thread:set("lane", count)
  table.insert(threads, thread)
end
function init(args)
  for name, value in pairs(lanes[lane].headers) do wrk.headers[name] = value end
  expected = lanes[lane].expected
  good = 0 bad = 0 perSecond = {}
end
function response(status, headers, body)
  if status == 200 and body == expected then
    good = good + 1
    local second = os.time()
    perSecond[second] = (perSecond[second] or 0) + 1
  else
    bad = bad + 1
    if bad == 1 then
      local f = io.open(${luaString(samplePath)}, "wb")
      if f then f:write(tostring(status), "\\n", body or "") f:close() end
    end
  end
end
function done(summary, latency, requests)
  local g, b, seconds = 0, 0, {}
  for _, t in ipairs(threads) do
    g = g + t:get("good")
    b = b + t:get("bad")
    for second, n in pairs(t:get("perSecond")) do seconds[second] = (seconds[second] or 0) + n end
  end
  local parts = {}
  for second, n in pairs(seconds) do table.insert(parts, string.format('"%d":%d', second, n)) end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"good":%d,"bad":%d,"socketErrors":%d,"durationUs":%d,"p50":%d,"p95":%d,"p99":%d,"perSecond":{%s}}\\n',
    summary.requests, g, b, e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), table.concat(parts, ",")))
end
`;
}

/** Runs wrk against one target for `seconds`; `cpus` is a taskset list ("0") or undefined for any. */
export async function runWrk(
  target: WrkTarget,
  options: { dir: string; name: string; seconds: number; connections: number; cpus?: string },
): Promise<WrkResult> {
  const scriptPath = join(options.dir, `${options.name}.lua`);
  const samplePath = join(options.dir, `${options.name}.bad-response.txt`);
  writeFileSync(scriptPath, script(target, samplePath));
  const threads = target.lanes.length;
  const wrkArgs = [
    `-t${threads}`,
    // wrk gives each thread connections / threads of them.
    `-c${Math.max(threads, Math.round(options.connections / threads) * threads)}`,
    `-d${options.seconds}s`,
    // Default 2 s would drop the slow tail that this benchmark is about.
    '--timeout',
    '120s',
    '-s',
    scriptPath,
    target.url,
  ];
  const [command, args] = options.cpus
    ? ['taskset', ['-c', options.cpus, 'wrk', ...wrkArgs]]
    : ['wrk', wrkArgs];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(command, args as string[], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}`))));
  });
  const line = output.split('\n').find((l) => l.startsWith('WRK_RESULT '));
  if (!line) throw new Error(`wrk printed no result:\n${output}`);
  const r = JSON.parse(line.slice('WRK_RESULT '.length)) as Record<string, number> & {
    perSecond: Record<string, number>;
  };
  return {
    requests: r.requests!,
    good: r.good!,
    bad: r.bad!,
    socketErrors: r.socketErrors!,
    durationSec: r.durationUs! / 1e6,
    p50Ms: r.p50! / 1000,
    p95Ms: r.p95! / 1000,
    p99Ms: r.p99! / 1000,
    perSecond: r.perSecond,
    ...(r.bad! > 0 && existsSync(samplePath) ? { badSample: samplePath } : {}),
  };
}

/** The first bytes of a wrong response, for the report. */
export const badSampleText = (path: string) => readFileSync(path, 'utf8').slice(0, 600);
