import { z } from 'zod';
import { EventSchemaError } from '../../src/infrastructure/event-store/errors.js';
import { EventRegistry } from '../../src/infrastructure/event-store/event-registry.js';
import {
  comparePositions,
  formatPosition,
  parsePosition,
} from '../../src/infrastructure/event-store/position.js';

describe('event registry', () => {
  const v3 = () =>
    new EventRegistry().register({
      type: 'Titled',
      schemaVersion: 3,
      schema: z.object({ title: z.string(), lang: z.string() }),
      upcasters: {
        1: (d) => ({ title: (d as { name: string }).name }),
        2: (d) => ({ ...(d as object), lang: 'en' }),
      },
    });

  it('upcasts through every version in turn', () => {
    expect(v3().decode('Titled', 1, { name: 'Protein' })).toEqual({ title: 'Protein', lang: 'en' });
    expect(v3().decode('Titled', 2, { title: 'Protein' })).toEqual({ title: 'Protein', lang: 'en' });
    expect(v3().decode('Titled', 3, { title: 'Protein', lang: 'de' })).toEqual({
      title: 'Protein',
      lang: 'de',
    });
  });

  it('refuses a registration with a gap in its upcasters', () => {
    expect(() => new EventRegistry().register({ type: 'X', schemaVersion: 2, schema: z.object({}) })).toThrow(
      /upcaster from version 1/,
    );
  });

  it('refuses data newer than the build, and stored data its schema rejects', () => {
    expect(() => v3().decode('Titled', 4, {})).toThrow(EventSchemaError);
    expect(() => v3().decode('Titled', 3, { title: 1 })).toThrow(/is invalid/);
  });
});

describe('positions', () => {
  it('order by transaction first, then sequence', () => {
    const a = parsePosition('7.100');
    const b = parsePosition('8.3');
    expect(comparePositions(a, b)).toBe(-1);
    expect(comparePositions(b, a)).toBe(1);
    expect(comparePositions(a, parsePosition(formatPosition(a)))).toBe(0);
  });

  it.each(['', '1', '1.', 'a.b', '1.2.3', '-1.2', '99999999999999999999999.1'])('refuse %j', (value) => {
    expect(() => parsePosition(value)).toThrow(/is not a position/);
  });
});
