import type { Clock } from '../../src/infrastructure/clock/clock.js';

/**
 * A clock the test sets: the service records events at its time, so an as-of test names exact moments instead of
 * sleeping between writes. It starts in the past (as-of moments are then never in the real future) and moves
 * only when told.
 */
export class TestClock implements Clock {
  private current: number;

  constructor(start = '2020-01-01T00:00:00.000Z') {
    this.current = Date.parse(start);
  }

  now(): Date {
    return new Date(this.current);
  }

  /** Moves on by `ms` (one second by default) and returns the new moment as ISO-8601. */
  tick(ms = 1000): string {
    this.current += ms;
    return this.now().toISOString();
  }

  /** An instant strictly after the last write and before the next one: moves on, names it, moves on again. */
  moment(): string {
    const at = this.tick();
    this.tick();
    return at;
  }
}
