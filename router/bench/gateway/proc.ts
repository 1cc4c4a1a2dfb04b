/** What the kernel counts for a process and for each core, read from /proc. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User + system CPU of a process (all its threads), in seconds. */
export function cpuSeconds(pid: number): number {
  // The command name may hold spaces and parentheses; the fields start after the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

export function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) / 1024;
}

/** Busy and total jiffies of each core since boot, from /proc/stat. */
export function coreTimes(): { busy: number; total: number }[] {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l))
    .map((l) => {
      const [user, nice, system, idle, iowait, irq, softirq, steal] = l.split(/\s+/).slice(1).map(Number);
      const busy = user! + nice! + system! + irq! + softirq! + steal!;
      return { busy, total: busy + idle! + iowait! };
    });
}

/** Share of each core that was busy between two readings, in percent. */
export const coreBusyPercent = (before: ReturnType<typeof coreTimes>, after: ReturnType<typeof coreTimes>) =>
  after.map((a, i) => {
    const b = before[i]!;
    return a.total === b.total ? 0 : ((a.busy - b.busy) / (a.total - b.total)) * 100;
  });

/** Other test runs on the machine (the benchmark shares it): vitest processes and the load average. */
export function machineLoad(): { vitest: number; loadAverage: string } {
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  const vitest = out.split('\n').filter((l) => /vitest/.test(l)).length;
  const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return { vitest, loadAverage };
}

export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Reading {
  /** The Unix second this reading was taken at the start of. */
  second: number;
  /** When it was actually taken (ms), a little after that second began. */
  at: number;
  cpu: number[];
  cores: ReturnType<typeof coreTimes>;
}

/**
 * Reads the CPU of `pids` and of each core at the start of every wall-clock second, so
 * that a measurement can cover whole seconds in the middle of a load run and leave
 * out its ramp-up and the requests still in flight when it stops.
 */
export function startSecondReadings(pids: number[]): { stop(): Reading[] } {
  const readings: Reading[] = [];
  const untilNextSecond = () => 1000 - (Date.now() % 1000);
  let timer: NodeJS.Timeout;
  const take = () => {
    const at = Date.now();
    readings.push({ second: Math.round(at / 1000), at, cpu: pids.map(cpuSeconds), cores: coreTimes() });
    timer = setTimeout(take, untilNextSecond());
  };
  timer = setTimeout(take, untilNextSecond());
  return {
    stop() {
      clearTimeout(timer);
      return readings;
    },
  };
}

/** Waits until a process has used under 2 % of a core for half a second (at most `maxMs`). */
export async function waitIdle(pid: number, maxMs = 20_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = cpuSeconds(pid);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    const now = cpuSeconds(pid);
    if (now - last < 0.01) return;
    last = now;
  }
}
