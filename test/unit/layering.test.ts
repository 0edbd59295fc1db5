import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The dependency rule (docs/architecture.md): imports point down only. domain <- infrastructure <- the feature
 * folders (commands, projections, which do not import each other) <- app (composition) <- cli <- main.ts.
 */
const SRC = resolve('src');
const RANK: Record<string, number> = {
  domain: 0,
  infrastructure: 1,
  commands: 2,
  projections: 2,
  app: 3,
  cli: 4,
};

function layerOf(file: string): string {
  const top = relative(SRC, file).split('/')[0]!;
  return top.endsWith('.ts') ? 'main' : top;
}
const rank = (layer: string) => RANK[layer] ?? 5;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function violations(): string[] {
  const found: string[] = [];
  for (const file of sources(SRC)) {
    const from = layerOf(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(
      /^(?:import|export)[^'"]*from '(\.[^']+)'/gm,
    )) {
      const to = layerOf(resolve(dirname(file), spec!));
      const sideways = from !== to && rank(from) === rank(to);
      if (rank(to) > rank(from) || sideways)
        found.push(`${relative(SRC, file)} (${from}) imports ${spec} (${to})`);
    }
  }
  return found;
}

describe('the dependency rule', () => {
  it('has every import of src/ point to its own layer or one below', () => {
    expect(violations()).toEqual([]);
  });
});
