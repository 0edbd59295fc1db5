/**
 * Streams.Append and Streams.BatchAppend. The client uses BatchAppend when the server advertises it (see
 * server-features.ts) and Append otherwise; both end in MemoryStore.append, so every mode gives the same answers.
 */
import {
  Any,
  codePb,
  grpc,
  GoogleEmpty,
  sharedPb,
  statusPb,
  streamsPb,
  type Grpc,
  type SharedPb,
  type StreamsPb,
} from './generated.js';
import type { AppendOutcome, Expectation, MemoryStore, ProposedEvent } from './memory-store.js';
import { parseUuid, proposedEvent, streamNameOf } from './messages.js';

const { AppendResp, BatchAppendResp, AppendReq, BatchAppendReq } = streamsPb;

type AppendCall = Grpc.ServerReadableStream<StreamsPb.AppendReq, StreamsPb.AppendResp>;
type AppendCallback = Grpc.sendUnaryData<StreamsPb.AppendResp>;
type BatchCall = Grpc.ServerDuplexStream<StreamsPb.BatchAppendReq, StreamsPb.BatchAppendResp>;

/** Append is client streaming: the first request carries the options, then one request per proposed event. */
export function appendHandler(store: MemoryStore) {
  return (call: AppendCall, callback: AppendCallback): void => {
    let options: StreamsPb.AppendReq.Options | undefined;
    const proposed: ProposedEvent[] = [];
    call.on('data', (request: StreamsPb.AppendReq) => {
      const message = request.getProposedMessage();
      if (request.hasOptions()) options = request.getOptions();
      else if (message) proposed.push(proposedEvent(message));
    });
    // A client that gives up mid-stream only ends this call; there is nothing to answer.
    call.on('error', () => undefined);
    call.on('end', () => {
      if (!options)
        return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'Append without options' });
      const cases = AppendReq.Options.ExpectedStreamRevisionCase;
      const expected = expectation(options.getExpectedStreamRevisionCase(), cases, options.getRevision());
      const outcome = store.append(streamNameOf(options.getStreamIdentifier()), expected, proposed);
      callback(null, appendResponse(outcome));
    });
  };
}

/**
 * BatchAppend is one long-lived duplex stream per channel. A write may span several requests with the same
 * correlation id (the client splits large writes); the one marked `is_final` completes it, and the answer echoes
 * the correlation id so the client can match it among concurrent writes.
 */
export function batchAppendHandler(store: MemoryStore) {
  return (call: BatchCall): void => {
    const pending = new Map<
      string,
      { options?: StreamsPb.BatchAppendReq.Options; proposed: ProposedEvent[] }
    >();
    call.on('data', (request: StreamsPb.BatchAppendReq) => {
      const correlation = parseUuid(request.getCorrelationId());
      const write = pending.get(correlation) ?? { proposed: [] };
      pending.set(correlation, write);
      if (request.hasOptions()) write.options = request.getOptions();
      for (const message of request.getProposedMessagesList()) write.proposed.push(proposedEvent(message));
      if (!request.getIsFinal()) return;
      pending.delete(correlation);
      call.write(batchWrite(store, request.getCorrelationId(), write.options, write.proposed));
    });
    call.on('error', () => undefined);
    call.on('end', () => call.end());
  };
}

function batchWrite(
  store: MemoryStore,
  correlationId: SharedPb.UUID | undefined,
  options: StreamsPb.BatchAppendReq.Options | undefined,
  proposed: ProposedEvent[],
): StreamsPb.BatchAppendResp {
  const response = new BatchAppendResp();
  response.setCorrelationId(correlationId);
  if (!options) return response.setError(status(codePb.Code.INVALID_ARGUMENT, 'BatchAppend without options'));
  response.setStreamIdentifier(options.getStreamIdentifier());
  const cases = BatchAppendReq.Options.ExpectedStreamPositionCase;
  const expected = expectation(options.getExpectedStreamPositionCase(), cases, options.getStreamPosition());
  const outcome = store.append(streamNameOf(options.getStreamIdentifier()), expected, proposed);
  return outcome.ok
    ? response.setSuccess(batchSuccess(outcome))
    : response.setError(batchWrongVersion(outcome));
}

/** Both requests spell the same four choices with their own oneof case numbers. */
function expectation(
  selected: number,
  cases: { NO_STREAM: number; ANY: number; STREAM_EXISTS: number },
  revision: string,
): Expectation {
  if (selected === cases.NO_STREAM) return { kind: 'no_stream' };
  if (selected === cases.ANY) return { kind: 'any' };
  if (selected === cases.STREAM_EXISTS) return { kind: 'stream_exists' };
  return { kind: 'revision', revision: BigInt(revision) };
}

function appendResponse(outcome: AppendOutcome): StreamsPb.AppendResp {
  const empty = () => new sharedPb.Empty();
  if (!outcome.ok) {
    const wrong = new AppendResp.WrongExpectedVersion();
    if (outcome.currentRevision === null) wrong.setCurrentNoStream(empty());
    else wrong.setCurrentRevision(outcome.currentRevision.toString());
    const expected = outcome.expected;
    if (expected.kind === 'revision') wrong.setExpectedRevision(expected.revision.toString());
    else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(empty());
    else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(empty());
    else wrong.setExpectedAny(empty());
    return new AppendResp().setWrongExpectedVersion(wrong);
  }
  const success = new AppendResp.Success();
  if (outcome.currentRevision === null) success.setNoStream(empty());
  else success.setCurrentRevision(outcome.currentRevision.toString());
  if (outcome.position === null) success.setNoPosition(empty());
  else {
    const position = new AppendResp.Position();
    position.setCommitPosition(outcome.position.toString());
    position.setPreparePosition(outcome.position.toString());
    success.setPosition(position);
  }
  return new AppendResp().setSuccess(success);
}

function batchSuccess(outcome: AppendOutcome & { ok: true }): StreamsPb.BatchAppendResp.Success {
  const success = new BatchAppendResp.Success();
  if (outcome.currentRevision === null) success.setNoStream(new GoogleEmpty());
  else success.setCurrentRevision(outcome.currentRevision.toString());
  if (outcome.position === null) return success.setNoPosition(new GoogleEmpty());
  const position = new sharedPb.AllStreamPosition();
  position.setCommitPosition(outcome.position.toString());
  position.setPreparePosition(outcome.position.toString());
  return success.setPosition(position);
}

/**
 * BatchAppend reports a refusal as a google.rpc.Status whose `details` packs an event_store.client
 * WrongExpectedVersion; the client unpacks it by that type name into WrongExpectedVersionError.
 */
function batchWrongVersion(outcome: AppendOutcome & { ok: false }) {
  const wrong = new sharedPb.WrongExpectedVersion();
  if (outcome.currentRevision === null) wrong.setCurrentNoStream(new GoogleEmpty());
  else wrong.setCurrentStreamRevision(outcome.currentRevision.toString());
  const expected = outcome.expected;
  if (expected.kind === 'revision') wrong.setExpectedStreamPosition(expected.revision.toString());
  else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new GoogleEmpty());
  else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new GoogleEmpty());
  else wrong.setExpectedAny(new GoogleEmpty());
  const details = new Any();
  details.pack(wrong.serializeBinary(), 'event_store.client.WrongExpectedVersion');
  return status(codePb.Code.FAILED_PRECONDITION, 'WrongExpectedVersion').setDetails(details);
}

function status(code: number, message: string) {
  const result = new statusPb.Status();
  result.setCode(code);
  result.setMessage(message);
  return result;
}
