import { registerDocumentEvents } from '../documents/document-events.js';
import { EventRegistry } from './event-registry.js';

export const EVENT_REGISTRY = Symbol('EVENT_REGISTRY');

/**
 * The registry of the service's event types. Each domain module adds its types here with their zod schemas and
 * upcasters.
 */
export function serviceEventRegistry(): EventRegistry {
  return registerDocumentEvents(new EventRegistry());
}
