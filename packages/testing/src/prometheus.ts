/** One sample of a Prometheus text exposition. */
export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition: metric families by name (type, help) and every sample in order. */
export interface PrometheusText {
  families: Map<string, { type: string; help: string }>;
  samples: PrometheusSample[];
  /** The samples of one family (a histogram's `_bucket`, `_sum` and `_count` included), optionally filtered by labels. */
  find(family: string, labels?: Record<string, string>): PrometheusSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

/** A sample value as Prometheus reads it (Go's ParseFloat: NaN and Inf in any case). */
function parseValue(raw: string, line: string): number {
  const special = raw.toLowerCase();
  if (special === '+inf' || special === 'inf') return Number.POSITIVE_INFINITY;
  if (special === '-inf') return Number.NEGATIVE_INFINITY;
  if (special === 'nan') return Number.NaN;
  const value = Number(raw);
  if (raw === '' || Number.isNaN(value)) throw new Error(`not a sample value: ${line}`);
  return value;
}

function parseLabels(raw: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < raw.length) {
    const at = LABEL.lastIndex;
    const match = LABEL.exec(raw);
    if (!match || match.index !== at) throw new Error(`malformed labels: ${line}`);
    const [, name, value] = match;
    if (name! in labels) throw new Error(`label ${name} twice: ${line}`);
    labels[name!] = value!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/**
 * Parses the Prometheus text format (0.0.4) strictly: HELP and TYPE lines of known
 * types, each family's TYPE before its samples and once, well-formed names, labels
 * and values, and histogram buckets that never decrease and end in `+Inf` equal
 * to `_count`. Throws on the first line that breaks a rule.
 */
export function parsePrometheusText(text: string): PrometheusText {
  const families = new Map<string, { type: string; help: string }>();
  const samples: PrometheusSample[] = [];
  const familyOf = (name: string) => {
    if (families.has(name)) return name;
    const suffix = SUFFIXES.find((s) => name.endsWith(s) && families.has(name.slice(0, -s.length)));
    return suffix ? name.slice(0, -suffix.length) : name;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const meta = new RegExp(`^# (HELP|TYPE) (${NAME}) ?(.*)$`).exec(line);
      if (!meta) continue; // a comment
      const [, kind, name, rest] = meta;
      const family = families.get(name!) ?? { type: 'untyped', help: '' };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest!)) throw new Error(`unknown type: ${line}`);
        if (samples.some((s) => familyOf(s.name) === name)) throw new Error(`TYPE after samples: ${line}`);
        family.type = rest!;
      } else family.help = rest!;
      families.set(name!, family);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    samples.push({
      name: match[1]!,
      labels: parseLabels(match[2] ?? '', line),
      value: parseValue(match[3]!, line),
    });
  }
  const find = (family: string, labels: Record<string, string> = {}) =>
    samples.filter(
      (s) => familyOf(s.name) === family && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  for (const [name, family] of families) {
    if (family.type !== 'histogram') continue;
    const series = new Map<string, PrometheusSample[]>();
    for (const sample of find(name)) {
      if (sample.name !== `${name}_bucket`) continue;
      const { le: _le, ...rest } = sample.labels;
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), sample]);
    }
    for (const [key, buckets] of series) {
      let previous = 0;
      for (const bucket of buckets) {
        if (bucket.value < previous)
          throw new Error(`${name}${key}: bucket le=${bucket.labels.le} decreases`);
        previous = bucket.value;
      }
      const last = buckets[buckets.length - 1];
      const count = find(name, JSON.parse(key)).find((s) => s.name === `${name}_count`);
      if (last?.labels.le !== '+Inf' || count?.value !== last.value) {
        throw new Error(`${name}${key}: no +Inf bucket equal to _count`);
      }
    }
  }
  return { families, samples, find };
}
