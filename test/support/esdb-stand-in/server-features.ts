/**
 * ServerFeatures.GetSupportedMethods: the client asks it once per channel before its first append and uses
 * Streams.BatchAppend only when the answer lists it. A server without this service (older releases) makes the
 * client fall back to Streams.Append; the stand-in reproduces that by leaving the service out (UNIMPLEMENTED).
 */
import { featuresPb, type FeaturesGrpc } from './generated.js';

const STREAMS_SERVICE = 'event_store.client.streams.streams';

export function serverFeatures(options: { batchAppend: boolean }): FeaturesGrpc.IServerFeaturesServer {
  return {
    getSupportedMethods(_call, callback) {
      const supported = new featuresPb.SupportedMethods();
      // The client only logs the version; it decides on the method list (compared in lower case).
      supported.setEventStoreServerVersion('stand-in');
      const methods = ['read', 'append', ...(options.batchAppend ? ['batchappend'] : [])];
      for (const name of methods) {
        const method = new featuresPb.SupportedMethod();
        method.setServiceName(STREAMS_SERVICE);
        method.setMethodName(name);
        supported.addMethods(method);
      }
      callback(null, supported);
    },
  };
}
