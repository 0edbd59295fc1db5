/**
 * Streams.Read: stream and `$all` reads (forwards, backwards, with a count, optionally filtered) and catch-up
 * subscriptions to a stream or to `$all`.
 *
 * A subscription answers as the server documents (https://developers.eventstore.com/clients/grpc/subscriptions.html):
 * a confirmation, the events already stored after the starting point, `caught_up`, then every new event as it is
 * written; a filtered `$all` subscription also reports checkpoints so a client can resume past long runs of
 * events it does not want. The stored events are taken and the live listener registered in one synchronous step,
 * so no event can fall between catch-up and live, nor arrive twice.
 */
import { grpc, type Grpc, type StreamsPb } from './generated.js';
import type { MemoryStore, StoredEvent } from './memory-store.js';
import {
  caughtUpResponse,
  checkpointResponse,
  confirmationResponse,
  eventResponse,
  streamNotFoundResponse,
} from './messages.js';
import { Outbox } from './outbox.js';
import { pastEvents, readPlan, type ReadPlan } from './read-plan.js';

type ReadCall = Grpc.ServerWritableStream<StreamsPb.ReadReq, StreamsPb.ReadResp>;

export function readHandler(store: MemoryStore) {
  return (call: ReadCall): void => {
    const options = call.request.getOptions();
    if (!options) {
      call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'Read without options' });
      return;
    }
    const plan = readPlan(options);
    const outbox = new Outbox<StreamsPb.ReadResp>(call);
    const past = pastEvents(plan, (name) => store.stream(name), store.log);
    if (!past) {
      // Only a plain stream read can miss its stream: a subscription waits for the stream to appear.
      const name = plan.target.kind === 'stream' ? plan.target.name : '$all';
      outbox.push(() => streamNotFoundResponse(name));
      return outbox.end();
    }
    if (plan.subscription) return subscribe(store, outbox, plan, past);
    let sent = 0;
    for (const event of past) {
      if (sent >= plan.count) break;
      if (plan.filter && !plan.filter.matches(event)) continue;
      outbox.push(() => eventResponse(event, plan.structuredUuid));
      sent++;
    }
    outbox.end();
  };
}

function subscribe(
  store: MemoryStore,
  outbox: Outbox<StreamsPb.ReadResp>,
  plan: ReadPlan,
  past: readonly StoredEvent[],
): void {
  outbox.push(confirmationResponse);
  const deliver = delivery(outbox, plan);
  for (const event of past) deliver(event);
  outbox.push(caughtUpResponse);
  const target = plan.target;
  const wanted =
    target.kind === 'stream' ? (event: StoredEvent) => event.streamName === target.name : () => true;
  const stop = store.onAppend((event) => {
    if (wanted(event)) deliver(event);
  });
  outbox.onClose(stop);
}

/** Sends what passes the filter; counts what was scanned to place the checkpoints of a filtered subscription. */
function delivery(outbox: Outbox<StreamsPb.ReadResp>, plan: ReadPlan): (event: StoredEvent) => void {
  let scanned = 0;
  return (event) => {
    if (!plan.filter || plan.filter.matches(event)) {
      outbox.push(() => eventResponse(event, plan.structuredUuid));
    }
    if (plan.filter && ++scanned % plan.filter.checkpointEvery === 0) {
      outbox.push(() => checkpointResponse(event.position));
    }
  };
}
