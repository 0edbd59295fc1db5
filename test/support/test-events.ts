import { z } from 'zod';
import { EventRegistry } from '../../src/infrastructure/event-store/event-registry.js';

/** Event types used by the event store and projection tests (the document events come with their domain). */
export function testRegistry(): EventRegistry {
  return new EventRegistry()
    .register({ type: 'CounterIncremented', schemaVersion: 1, schema: z.object({ by: z.number().int() }) })
    .register({ type: 'NoteAdded', schemaVersion: 1, schema: z.object({ text: z.string() }) })
    .register({
      type: 'PersonRenamed',
      schemaVersion: 2,
      schema: z.object({ firstName: z.string(), lastName: z.string() }),
      upcasters: {
        1: (data) => {
          const { name } = z.object({ name: z.string() }).parse(data);
          const [firstName = '', ...rest] = name.split(' ');
          return { firstName, lastName: rest.join(' ') };
        },
      },
    });
}
