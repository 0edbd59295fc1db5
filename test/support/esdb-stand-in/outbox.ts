/**
 * An ordered, flow-controlled queue in front of a server-streaming call.
 *
 * Why: a subscription mixes catch-up events, `caught_up`, checkpoints and live events, and they must reach the
 * client in exactly the order they were decided, even while the transport is full. Messages are built only when
 * written, so a long read does not hold every encoded message at once. A real server would drop a subscriber that
 * falls too far behind (`fell_behind`); this one waits for it.
 */
import type { Grpc } from './generated.js';

export class Outbox<T> {
  private queue: Array<() => T> = [];
  private head = 0;
  private pumping = false;
  private ending = false;
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly closeListeners: Array<() => void> = [];

  constructor(private readonly call: Grpc.ServerWritableStream<unknown, T>) {
    const close = () => this.close();
    call.on('cancelled', close);
    call.on('close', close);
    call.on('error', close);
  }

  /** Queues a message, built by `make` when its turn to be written comes. */
  push(make: () => T): void {
    if (this.closed || this.ending) return;
    this.queue.push(make);
    if (!this.pumping) void this.pump();
  }

  /** Ends the call once everything queued is written. */
  end(): void {
    this.ending = true;
    if (!this.pumping) void this.pump();
  }

  /** Runs `listener` once when the client goes away or the call ends. */
  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    while (this.head < this.queue.length && !this.closed) {
      const make = this.queue[this.head++]!;
      if (!this.call.write(make())) await this.writable();
    }
    this.queue = [];
    this.head = 0;
    this.pumping = false;
    if (this.ending && !this.closed) {
      this.call.end();
      this.close();
    }
  }

  private writable(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.call.once('drain', () => resolve());
    });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
