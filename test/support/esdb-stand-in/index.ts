/**
 * An in-process EventStoreDB stand-in for tests: a grpc-js server speaking the server side of the v1 gRPC
 * protocol that @eventstore/db-client uses, built from that package's own generated service definitions. It is
 * the network-boundary fake for the EventStoreDB adapter: the adapter and the real client run unchanged, only
 * the server is replaced. See docs/eventstoredb.md for what it implements and what it leaves out.
 *
 * Served: Streams.Read, Streams.Append, Streams.BatchAppend and (optionally) ServerFeatures.GetSupportedMethods.
 * Every other method (Delete, Tombstone, persistent subscriptions, projections, users, gossip…) answers
 * UNIMPLEMENTED, which grpc-js does for any method a service implementation leaves out.
 */
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../../src/infrastructure/clock/clock.js';
import { appendHandler, batchAppendHandler } from './append-handlers.js';
import { grpc, ServerFeaturesService, StreamsService, type StreamsGrpc } from './generated.js';
import { MemoryStore } from './memory-store.js';
import { readHandler } from './read-handler.js';
import { serverFeatures } from './server-features.js';

export { MemoryStore, type StoredEvent, type Expectation, type ProposedEvent } from './memory-store.js';

export interface StandInOptions {
  host?: string;
  /** Zero (the default) lets the system pick a free port. */
  port?: number;
  /** Advertise Streams.BatchAppend, as current servers do, so the client appends through it (default true). */
  batchAppend?: boolean;
  /** Serve ServerFeatures (default true); without it the client assumes an older server and uses Append. */
  serverFeatures?: boolean;
  /** Write one system event (`$settings`) first, as a real `$all` has them (default true). */
  seedSystemEvents?: boolean;
  /** Stamps the `created` time of each event (default: the system clock). */
  clock?: Clock;
}

export interface StandIn {
  /** `esdb://host:port?tls=false`, for EventStoreDBClient.connectionString. */
  connectionString: string;
  port: number;
  /** The stand-in's storage, for assertions that look behind the client. */
  store: MemoryStore;
  /** Calls received per Streams method: shows which append path the client took. */
  calls: Record<'read' | 'append' | 'batchAppend', number>;
  /**
   * Stops at once: subscriptions and the client's BatchAppend stream never end on their own, so a graceful
   * shutdown would wait forever. Dispose the client first so it does not see its calls cut.
   */
  stop(): void;
}

export async function startStandIn(options: StandInOptions = {}): Promise<StandIn> {
  const host = options.host ?? '127.0.0.1';
  const store = new MemoryStore(options.clock ?? systemClock);
  if (options.seedSystemEvents ?? true) seedSystemEvent(store);
  const server = new grpc.Server();
  // Delete and Tombstone are left out on purpose: grpc-js answers UNIMPLEMENTED for them.
  const calls = { read: 0, append: 0, batchAppend: 0 };
  const [read, append, batchAppend] = [readHandler(store), appendHandler(store), batchAppendHandler(store)];
  const streams: Pick<StreamsGrpc.IStreamsServer, 'read' | 'append' | 'batchAppend'> = {
    read: (call) => {
      calls.read++;
      read(call);
    },
    append: (call, callback) => {
      calls.append++;
      append(call, callback);
    },
    batchAppend: (call) => {
      calls.batchAppend++;
      batchAppend(call);
    },
  };
  server.addService(StreamsService, streams);
  if (options.serverFeatures ?? true) {
    server.addService(ServerFeaturesService, serverFeatures({ batchAppend: options.batchAppend ?? true }));
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${host}:${options.port ?? 0}`,
      grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  return {
    connectionString: `esdb://${host}:${port}?tls=false`,
    port,
    store,
    calls,
    stop: () => server.forceShutdown(),
  };
}

/** A real `$all` always holds system events; seeding one makes every test that reads `$all` face them. */
function seedSystemEvent(store: MemoryStore): void {
  store.append('$settings', { kind: 'any' }, [
    {
      id: randomUUID(),
      type: '$settings',
      contentType: 'application/json',
      data: new TextEncoder().encode('{}'),
      customMetadata: new Uint8Array(),
    },
  ]);
}
