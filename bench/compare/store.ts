/**
 * The event store and limits benchmarks of issue 13 in one run: docsvc against emmett's PostgreSQL event store,
 * the chunks rebuild against a raw COPY and the HNSW build alone (SciFact), and the scaling table. Prints a
 * markdown report and writes it to --out.
 * Run: npm run bench:compare:store -- [--quick] [--scifact /work/shared/eval/scifact] [--sizes 10000,100000]
 *      [--out .bench-data/compare-store.md] [--database-url postgres://…] [--only store,rebuild,scaling]
 */
import { cpus, loadavg } from 'node:os';
import { eventStoreSection, storeOptions } from './event-store.js';
import { rebuildSection } from './rebuild.js';
import { scalingSection } from './scaling.js';
import { scifactSeed, type ScifactSeed } from './scifact-seed.js';
import { arg, fmt, gitCommit, machine, quick, Report, serverUrl, serverVersion } from './support.js';

const server = serverUrl();
const only = arg('only', 'store,rebuild,scaling').split(',');
const out = arg('out', '.bench-data/compare-store.md');
const report = new Report();
report.line(
  `# Event store, rebuild and scaling benchmarks${quick ? ' (--quick smoke run: not figures)' : ''}\n`,
);
report.line(`- date: ${new Date().toISOString()}`);
report.line(`- machine: ${machine()}; ${await serverVersion(server)}`);
report.line(`- commit: ${gitCommit()}`);
report.line(`- load average (1 min) at the start: ${fmt(loadavg()[0]!, 1)} on ${cpus().length} cores`);
report.line(`- command: \`npm run bench:compare:store -- ${process.argv.slice(2).join(' ')}\`\n`);
let seed: ScifactSeed | undefined;
try {
  if (only.includes('store')) {
    report.line('## Event store: docsvc against emmett (PostgreSQL)\n');
    await eventStoreSection(report, storeOptions(server));
  }
  if (only.includes('rebuild') || only.includes('scaling')) seed = await scifactSeed(server);
  if (seed && only.includes('rebuild')) {
    report.line('\n## Chunks rebuild against the limit (SciFact)\n');
    await rebuildSection(report, server, seed);
  }
  if (seed && only.includes('scaling')) {
    report.line('\n## Scaling\n');
    await scalingSection(report, server, seed);
  }
} catch (error) {
  report.line(`\n**FAILED**: ${String((error as Error).stack ?? error)}`);
  process.exitCode = 1;
} finally {
  report.line(`\nLoad average (1 min) at the end: ${fmt(loadavg()[0]!, 1)}.`);
  await seed?.dispose().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
  report.write(out);
}
