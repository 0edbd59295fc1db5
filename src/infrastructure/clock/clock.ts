/** Time comes in from outside the domain (ARCHITECTURE.md): one port, replaced in tests. */
export interface Clock {
  now(): Date;
}

export const CLOCK = Symbol('CLOCK');
export const systemClock: Clock = { now: () => new Date() };
