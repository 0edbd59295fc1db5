import { END, excludeSystemEvents, type EventStoreDBClient } from '@eventstore/db-client';

/** How long a dropped subscription waits before it subscribes again. */
const RESUBSCRIBE_MS = 1_000;

/**
 * A live subscription to `$all` (application events only, filtered by the server) that calls `wake` on every
 * event, from whichever process appended it; resubscribes after an error until closed. What the projectors read
 * is still `readAll` from their checkpoints: this only tells them when to look.
 */
export function watchAll(client: EventStoreDBClient, wake: () => void): () => Promise<void> {
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let current: ReturnType<EventStoreDBClient['subscribeToAll']> | undefined;
  const subscribe = () => {
    if (closed) return;
    const subscription = client.subscribeToAll({ fromPosition: END, filter: excludeSystemEvents() });
    current = subscription;
    subscription.on('data', () => wake());
    subscription.on('error', () => {
      if (closed || current !== subscription) return;
      current = undefined;
      wake(); // events may have come while the subscription was down
      timer = setTimeout(subscribe, RESUBSCRIBE_MS);
    });
  };
  subscribe();
  return async () => {
    closed = true;
    clearTimeout(timer);
    const subscription = current;
    current = undefined;
    await subscription?.unsubscribe().catch(() => undefined);
  };
}
