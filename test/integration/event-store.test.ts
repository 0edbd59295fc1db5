import { PostgresEventStore } from '../../src/infrastructure/event-store/postgres-event-store.js';
import { openTestDatabase, targets } from '../support/databases.js';
import { testRegistry } from '../support/test-events.js';
import { eventStoreContract } from './event-store.contract.js';

for (const kind of targets()) {
  eventStoreContract(`PostgreSQL adapter on ${kind}`, async () => {
    const db = await openTestDatabase(kind);
    return {
      store: (registry = testRegistry()) => new PostgresEventStore(db.client, registry),
      cleanup: () => db.drop(),
    };
  });
}
