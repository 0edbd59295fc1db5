import type { z } from 'zod';
import { EventSchemaError } from './errors.js';

/**
 * Every event type is registered with the zod schema of its current version. Older stored versions are brought
 * forward by upcasters (`upcasters[n]` turns version n data into version n+1) before the schema checks them, so
 * readers only ever see the current shape.
 */
export interface EventTypeDefinition<T = unknown> {
  type: string;
  schemaVersion: number;
  schema: z.ZodType<T>;
  upcasters?: Record<number, (data: unknown) => unknown>;
}

export class EventRegistry {
  private readonly definitions = new Map<string, EventTypeDefinition>();

  register<T>(definition: EventTypeDefinition<T>): this {
    if (this.definitions.has(definition.type))
      throw new Error(`event type ${definition.type} is registered twice`);
    for (let v = 1; v < definition.schemaVersion; v++) {
      if (!definition.upcasters?.[v])
        throw new Error(`event type ${definition.type} lacks an upcaster from version ${v}`);
    }
    this.definitions.set(definition.type, definition as EventTypeDefinition);
    return this;
  }

  /** The registered types, in registration order (tests round-trip every one). */
  types(): string[] {
    return [...this.definitions.keys()];
  }

  has(type: string): boolean {
    return this.definitions.has(type);
  }

  /** Validates data about to be appended; returns it as the schema parsed it and its schema version. */
  encode(type: string, data: unknown): { data: unknown; schemaVersion: number } {
    const definition = this.definition(type);
    const parsed = definition.schema.safeParse(data);
    if (!parsed.success)
      throw new EventSchemaError(`event ${type} does not match its schema: ${parsed.error.message}`);
    return { data: parsed.data, schemaVersion: definition.schemaVersion };
  }

  /** Upcasts stored data to the current version and validates it. */
  decode(type: string, schemaVersion: number, data: unknown): unknown {
    const definition = this.definition(type);
    if (schemaVersion > definition.schemaVersion) {
      throw new EventSchemaError(
        `event ${type} v${schemaVersion} is newer than this build knows (v${definition.schemaVersion})`,
      );
    }
    let current = data;
    for (let v = schemaVersion; v < definition.schemaVersion; v++)
      current = definition.upcasters![v]!(current);
    const parsed = definition.schema.safeParse(current);
    if (!parsed.success)
      throw new EventSchemaError(
        `stored event ${type} v${schemaVersion} is invalid: ${parsed.error.message}`,
      );
    return parsed.data;
  }

  private definition(type: string): EventTypeDefinition {
    const definition = this.definitions.get(type);
    if (!definition) throw new EventSchemaError(`event type ${type} is not registered`);
    return definition;
  }
}
