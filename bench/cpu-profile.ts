import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time by function and by origin (a package, Node's internals, the service's own code) of a .cpuprofile. */
export function summarizeProfile(file: string, top = 20): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    total += us;
    const name = `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    byOrigin.set(origin(f), (byOrigin.get(origin(f)) ?? 0) + us);
  }
  const table = (title: string, m: Map<string, number>, n: number) =>
    [`| ${title} | self ms | % |`, '|---|---:|---:|']
      .concat(
        [...m.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, n)
          .map(([k, us]) => `| ${k} | ${(us / 1000).toFixed(0)} | ${((100 * us) / total).toFixed(1)} |`),
      )
      .join('\n');
  return `total sampled: ${(total / 1000).toFixed(0)} ms\n\n${table('origin', byOrigin, 12)}\n\n${table('function', byFunction, top)}`;
}

function shortUrl(url: string): string {
  const m = /node_modules\/(.*)$/.exec(url) ?? /\/(src\/.*|dist\/.*)$/.exec(url);
  return m ? m[1]! : url.replace(/^.*\//, '');
}

function origin(f: ProfileNode['callFrame']): string {
  if (!f.url) return f.functionName.startsWith('(') ? f.functionName : '(native)';
  if (f.url.startsWith('node:')) return 'node internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.url);
  if (pkg) return pkg[1]!;
  const own = /\/dist\/src\/([^/]+\/[^/]+)/.exec(f.url) ?? /\/src\/([^/]+\/[^/]+)/.exec(f.url);
  return own ? `docsvc ${own[1]}` : f.url;
}
