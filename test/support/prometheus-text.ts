/**
 * A strict reader of Prometheus's text exposition format (the classic one prom-client writes): every line must be a HELP, a TYPE or a
 * sample of a family whose TYPE came first; label values are unescaped; a histogram's buckets must be cumulative
 * and end in `+Inf` equal to its `_count`. Anything else throws, naming the line.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
// Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case (prom-client writes `Nan`).
const VALUE =
  '(?:[+-]?(?:\\d+\\.?\\d*(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?)|[+-]?[Ii][Nn][Ff]|[Nn][Aa][Nn])';
const LABEL_PAIR = `${LABEL}="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const HELP_LINE = new RegExp(`^# HELP (${NAME})(?: (.*))?$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(
  `^(${NAME})(?:\\{((?:${LABEL_PAIR}(?:,${LABEL_PAIR})*)?,?)\\})? (${VALUE})(?: (-?\\d+))?$`,
);
const PAIR = new RegExp(`(${LABEL})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`, 'g');

const SUFFIXES: Record<string, string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

export function parsePrometheusText(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, i) => {
      const where = `line ${i + 1}: ${JSON.stringify(line)}`;
      if (line === '' || HELP_LINE.test(line)) return;
      const type = TYPE_LINE.exec(line);
      if (type) {
        if (types.has(type[1]!)) throw new Error(`second TYPE for ${type[1]} at ${where}`);
        if (samples.some((s) => familyOf(s.name, types) === type[1]))
          throw new Error(`TYPE after samples at ${where}`);
        types.set(type[1]!, type[2]!);
        return;
      }
      if (line.startsWith('#')) throw new Error(`not a HELP or TYPE comment at ${where}`);
      const sample = SAMPLE_LINE.exec(line);
      if (!sample) throw new Error(`not a sample at ${where}`);
      if (!familyOf(sample[1]!, types)) throw new Error(`a sample without a TYPE at ${where}`);
      samples.push({ name: sample[1]!, labels: labelsOf(sample[2] ?? ''), value: numberOf(sample[3]!) });
    });
  checkHistograms(types, samples);
  return { types, samples };
}

/** The sum of the samples named `name` whose labels include `labels` (zero when there are none). */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  return exposition.samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name) && !SUFFIXES[types.get(name)!]) return name;
  for (const [family, type] of types) {
    if ((SUFFIXES[type] ?? []).some((suffix) => name === family + suffix)) return family;
  }
  return undefined;
}

function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [, key, raw] of text.matchAll(PAIR)) {
    if (key! in labels) throw new Error(`label ${key} twice in {${text}}`);
    labels[key!] = raw!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function numberOf(text: string): number {
  if (/inf$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  return /^nan$/i.test(text) ? NaN : Number(text);
}

/** Each histogram series: buckets cumulative, the last `+Inf`, equal to `_count`. */
function checkHistograms(types: Map<string, string>, samples: Sample[]): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, Sample[]>();
    for (const s of samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le, ...rest } = s.labels;
      if (le === undefined) throw new Error(`${family}_bucket without le`);
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    for (const [key, buckets] of series) {
      const counts = buckets.map((b) => b.value);
      if (counts.some((c, i) => i > 0 && c < counts[i - 1]!))
        throw new Error(`${family}${key}: not cumulative`);
      const last = buckets.at(-1)!;
      const count = samples.find((s) => s.name === `${family}_count` && JSON.stringify(s.labels) === key);
      if (last.labels.le !== '+Inf' || count?.value !== last.value)
        throw new Error(`${family}${key}: the +Inf bucket is not the count`);
    }
  }
}
