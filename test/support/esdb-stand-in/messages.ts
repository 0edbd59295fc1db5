/**
 * Builders and parsers for the protocol messages shared by the handlers: identifiers, UUIDs and the `Read`
 * responses. Field meanings are those of the v1 protocol's streams.proto as the client reads them.
 */
import { randomUUID } from 'node:crypto';
import { sharedPb, streamsPb, type SharedPb, type StreamsPb } from './generated.js';
import type { ProposedEvent, StoredEvent } from './memory-store.js';

const { ReadResp } = streamsPb;

export function streamNameOf(identifier: SharedPb.StreamIdentifier | undefined): string {
  return Buffer.from(identifier?.getStreamName_asU8() ?? new Uint8Array()).toString('utf8');
}

export function streamIdentifier(name: string): SharedPb.StreamIdentifier {
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Uint8Array.from(Buffer.from(name, 'utf8')));
  return identifier;
}

/** A UUID comes as a string or as two signed halves ("structured"); both name the same id here. */
export function parseUuid(uuid: SharedPb.UUID | undefined): string {
  if (!uuid) return randomUUID();
  const structured = uuid.getStructured();
  if (!structured) return uuid.getString();
  const half = (bits: string) => BigInt.asUintN(64, BigInt(bits)).toString(16).padStart(16, '0');
  const hex = half(structured.getMostSignificantBits()) + half(structured.getLeastSignificantBits());
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-');
}

/** Answers in the form the reader asked for (the read's `uuid_option`). */
export function makeUuid(id: string, structured: boolean): SharedPb.UUID {
  const uuid = new sharedPb.UUID();
  if (!structured) return uuid.setString(id);
  const hex = id.replace(/-/g, '');
  const signed = (part: string) => BigInt.asIntN(64, BigInt(`0x${part}`)).toString();
  const halves = new sharedPb.UUID.Structured();
  halves.setMostSignificantBits(signed(hex.slice(0, 16)));
  halves.setLeastSignificantBits(signed(hex.slice(16)));
  return uuid.setStructured(halves);
}

/** The shape Append's and BatchAppend's proposed messages share. */
interface ProposedMessage {
  getId(): SharedPb.UUID | undefined;
  getMetadataMap(): { get(key: string): string | undefined };
  getData_asU8(): Uint8Array;
  getCustomMetadata_asU8(): Uint8Array;
}

/** The client puts the event type and content type in the `metadata` map; user metadata is `custom_metadata`. */
export function proposedEvent(message: ProposedMessage): ProposedEvent {
  const metadata = message.getMetadataMap();
  return {
    id: parseUuid(message.getId()),
    type: metadata.get('type') ?? '',
    contentType: metadata.get('content-type') ?? 'application/octet-stream',
    data: message.getData_asU8(),
    customMetadata: message.getCustomMetadata_asU8(),
  };
}

function recordedEvent(
  event: StoredEvent,
  structuredUuid: boolean,
): StreamsPb.ReadResp.ReadEvent.RecordedEvent {
  const recorded = new ReadResp.ReadEvent.RecordedEvent();
  recorded.setId(makeUuid(event.id, structuredUuid));
  recorded.setStreamIdentifier(streamIdentifier(event.streamName));
  recorded.setStreamRevision(event.revision.toString());
  recorded.setPreparePosition(event.position.toString());
  recorded.setCommitPosition(event.position.toString());
  const metadata = recorded.getMetadataMap();
  metadata.set('type', event.type);
  metadata.set('content-type', event.contentType);
  metadata.set('created', event.created.toString());
  recorded.setCustomMetadata(event.customMetadata);
  recorded.setData(event.data);
  return recorded;
}

export function eventResponse(event: StoredEvent, structuredUuid: boolean): StreamsPb.ReadResp {
  const read = new ReadResp.ReadEvent();
  read.setEvent(recordedEvent(event, structuredUuid));
  read.setCommitPosition(event.position.toString());
  return new ReadResp().setEvent(read);
}

export function confirmationResponse(): StreamsPb.ReadResp {
  const confirmation = new ReadResp.SubscriptionConfirmation();
  confirmation.setSubscriptionId(randomUUID());
  return new ReadResp().setConfirmation(confirmation);
}

/** Sent once the catch-up part of a subscription is delivered, as newer servers do (the client emits `caughtUp`). */
export function caughtUpResponse(): StreamsPb.ReadResp {
  return new ReadResp().setCaughtUp(new ReadResp.CaughtUp());
}

export function checkpointResponse(position: bigint): StreamsPb.ReadResp {
  const checkpoint = new ReadResp.Checkpoint();
  checkpoint.setCommitPosition(position.toString());
  checkpoint.setPreparePosition(position.toString());
  return new ReadResp().setCheckpoint(checkpoint);
}

/** A read of a missing stream answers with this one message instead of an error status. */
export function streamNotFoundResponse(name: string): StreamsPb.ReadResp {
  const notFound = new ReadResp.StreamNotFound();
  notFound.setStreamIdentifier(streamIdentifier(name));
  return new ReadResp().setStreamNotFound(notFound);
}
