import { InvalidPositionError } from './errors.js';

/**
 * A position in the global order: the appending transaction's id and the event's sequence number, compared in
 * that order (see ARCHITECTURE.md, "never skip a late commit"). Clients see it as an opaque string.
 */
export interface Position {
  tx: bigint;
  seq: bigint;
}

export const START: Position = { tx: 0n, seq: 0n };

export function formatPosition(p: Position): string {
  return `${p.tx}.${p.seq}`;
}

export function parsePosition(value: string): Position {
  const match = /^(\d{1,20})\.(\d{1,20})$/.exec(value);
  if (!match) throw new InvalidPositionError(value);
  return { tx: BigInt(match[1]!), seq: BigInt(match[2]!) };
}

export function comparePositions(a: Position, b: Position): number {
  if (a.tx !== b.tx) return a.tx < b.tx ? -1 : 1;
  return a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1;
}
