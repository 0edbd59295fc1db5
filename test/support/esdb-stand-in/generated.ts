/**
 * The protocol definitions the stand-in serves, taken from @eventstore/db-client's own generated code.
 *
 * Why the client's own files: the generated service definitions serialize only instances of the message classes
 * of their own `streams_pb` module (an `instanceof` check), so responses must be built from those very classes;
 * and google-protobuf generated code registers `proto.event_store.client.*` on the global object, so loading a
 * second set (another client package's generated files) in the same process would clobber the first.
 *
 * Why createRequire: the generated files are CommonJS that export through `goog.object.extend`, which Node's ESM
 * named-export detection cannot see. Their `.d.ts` files are imported with `import type` only, so the types come
 * from the same generated code at no runtime cost.
 *
 * Why grpc-js and google-protobuf are resolved *from the client package*: the stand-in then runs on the same copy
 * the client and its `.d.ts` files use (the handler types below line up exactly), and no second, drifting copy is
 * declared in package.json.
 */
import { createRequire } from 'node:module';
import type * as Grpc from '@grpc/grpc-js';
import type * as CodePb from '@eventstore/db-client/generated/code_pb.js';
import type * as FeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import type * as FeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import type * as SharedPb from '@eventstore/db-client/generated/shared_pb.js';
import type * as StatusPb from '@eventstore/db-client/generated/status_pb.js';
import type * as StreamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import type * as StreamsPb from '@eventstore/db-client/generated/streams_pb.js';
import type * as AnyPb from 'google-protobuf/google/protobuf/any_pb.js';
import type * as EmptyPb from 'google-protobuf/google/protobuf/empty_pb.js';

const fromHere = createRequire(import.meta.url);
const fromClient = createRequire(fromHere.resolve('@eventstore/db-client/package.json'));

export const grpc = fromClient('@grpc/grpc-js') as typeof Grpc;

export const { StreamsService } = fromClient('./generated/streams_grpc_pb.js') as typeof StreamsGrpc;
export const { ServerFeaturesService } = fromClient(
  './generated/serverfeatures_grpc_pb.js',
) as typeof FeaturesGrpc;
export const streamsPb = fromClient('./generated/streams_pb.js') as typeof StreamsPb;
export const sharedPb = fromClient('./generated/shared_pb.js') as typeof SharedPb;
export const statusPb = fromClient('./generated/status_pb.js') as typeof StatusPb;
export const codePb = fromClient('./generated/code_pb.js') as typeof CodePb;
export const featuresPb = fromClient('./generated/serverfeatures_pb.js') as typeof FeaturesPb;
export const { Any } = fromClient('google-protobuf/google/protobuf/any_pb.js') as typeof AnyPb;
/** google.protobuf.Empty: BatchAppend uses it where Append uses event_store.client.Empty. */
export const { Empty: GoogleEmpty } = fromClient(
  'google-protobuf/google/protobuf/empty_pb.js',
) as typeof EmptyPb;

export type { Grpc, SharedPb, StreamsPb, FeaturesGrpc, StreamsGrpc };
