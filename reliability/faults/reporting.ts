/** How the fault runs talk to their user: progress notes on stderr, options from the command line, figures. */

export const note = (s: string): void =>
  void process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

export const round = (n: number, digits = 1): number => Number(n.toFixed(digits));
