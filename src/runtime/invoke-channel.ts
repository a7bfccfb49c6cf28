/**
 * The invoke channel: how pier sends scoring requests to an instance process without HTTP. It is a
 * private socket pair inherited by the host on file descriptor INVOKE_CHANNEL_FD (no port, so no
 * other process on the machine can reach the model), carrying length-prefixed frames multiplexed by
 * id. Requests sent in one turn of the event loop leave in one write, and a host may score the
 * requests that arrive together as one batch; under load that replaces per-request HTTP parsing and
 * syscalls on both sides with a few per batch.
 *
 * Frame: u32 payload length, u32 id, u16 status (0 in a request, an HTTP status in a reply), payload
 * (UTF-8 JSON: an InvokeRequest, a prediction list, or a HostErrorBody).
 */
import type { Duplex } from "node:stream";

export const INVOKE_CHANNEL_FD = 4;
const HEADER_BYTES = 10;

export interface Frame {
  id: number;
  status: number;
  payload: Buffer;
}

export function encodeFrame(id: number, status: number, payload: string): Buffer {
  const length = Buffer.byteLength(payload);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.writeUInt32BE(id, 4);
  frame.writeUInt16BE(status, 8);
  frame.write(payload, HEADER_BYTES, "utf8");
  return frame;
}

/** Splits a byte stream into frames; keeps a partial frame until the rest arrives. */
export class FrameDecoder {
  /** Bytes not yet decoded, kept as received: a large frame is joined once, when it is complete. */
  #chunks: Buffer[] = [];
  #length = 0;

  push(chunk: Buffer): Frame[] {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.#length < HEADER_BYTES) break;
      const head = this.#chunks[0]!.length >= HEADER_BYTES ? this.#chunks[0]! : this.#join();
      const end = HEADER_BYTES + head.readUInt32BE(0);
      if (this.#length < end) break;
      const buffer = this.#chunks[0]!.length >= end ? this.#chunks[0]! : this.#join();
      frames.push({
        id: buffer.readUInt32BE(4),
        status: buffer.readUInt16BE(8),
        payload: buffer.subarray(HEADER_BYTES, end),
      });
      const rest = buffer.subarray(end);
      this.#chunks.shift();
      if (rest.length > 0) this.#chunks.unshift(rest);
      this.#length -= end;
    }
    return frames;
  }

  /** Joins everything pending into one buffer (the first chunk). */
  #join(): Buffer {
    const joined = Buffer.concat(this.#chunks, this.#length);
    this.#chunks = [joined];
    return joined;
  }
}

/** What one request to an instance came to: its status and body text, or why there is no answer. */
export type InvokeOutcome = { status: number; text: string } | { failure: "connection" | "timeout" };

/** How pier sends requests to a Ready instance: over its invoke channel, or over HTTP. */
export interface InstanceClient {
  invoke(body: string, timeoutMs: number): Promise<InvokeOutcome>;
  close(): void;
  /** When the instance last answered anything (performance.now()); its start when it has not yet. */
  readonly lastAnswerAt: number;
  /**
   * Gives up on every request waiting for this instance (they fail as a lost connection, which the
   * gateway retries elsewhere); the channel stays open, and late answers still count as answers.
   */
  abandon(): void;
}

/** Hears each answer of an instance: how long a request that timed out really took, or just that it answered. */
export interface AnswerListener {
  onLate?: (ms: number) => void;
  onAnswer?: () => void;
}

interface Waiting {
  resolve: (outcome: InvokeOutcome) => void;
  timer: NodeJS.Timeout;
  sentAt: number;
}

/** How many timed-out requests are remembered so that a late answer can say how long it really took. */
const LATE_MEMORY = 1000;

/** pier's end of an instance's invoke channel. */
export class InvokeChannelClient implements InstanceClient {
  #nextId = 1;
  #waiting = new Map<number, Waiting>();
  #closed = false;
  #queue: Buffer[] = [];

  /** Send times of requests that timed out, by id, until their answer arrives. */
  #timedOut = new Map<number, number>();
  lastAnswerAt = performance.now();

  constructor(
    private readonly socket: Duplex,
    private readonly listener: AnswerListener = {},
  ) {
    const decoder = new FrameDecoder();
    socket.on("data", (chunk: Buffer) => {
      const frames = decoder.push(chunk);
      if (frames.length > 0) {
        this.lastAnswerAt = performance.now();
        this.listener.onAnswer?.();
      }
      for (const frame of frames) {
        const waiting = this.#waiting.get(frame.id);
        if (!waiting) {
          // It timed out; the answer goes to no one, but how late it is tells what the timeout should be.
          const sentAt = this.#timedOut.get(frame.id);
          if (sentAt !== undefined) {
            this.#timedOut.delete(frame.id);
            this.listener.onLate?.(performance.now() - sentAt);
          }
          continue;
        }
        this.#waiting.delete(frame.id);
        clearTimeout(waiting.timer);
        waiting.resolve({ status: frame.status, text: frame.payload.toString("utf8") });
      }
    });
    socket.on("error", () => this.close());
    socket.on("close", () => this.close());
  }

  /** Sends one request body; resolves with the answer, or a failure after `timeoutMs` or a lost instance. */
  invoke(body: string, timeoutMs: number): Promise<InvokeOutcome> {
    if (this.#closed) return Promise.resolve({ failure: "connection" });
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
    return new Promise((resolve) => {
      const sentAt = performance.now();
      const timer = setTimeout(() => this.#giveUp(id, { failure: "timeout" }), timeoutMs);
      const idle = this.#waiting.size === 0;
      this.#waiting.set(id, { resolve, timer, sentAt });
      this.#send(encodeFrame(id, 0, body), idle);
    });
  }

  /**
   * A lone request leaves at once; while others are in flight, requests queue until the end of this
   * turn of the event loop and leave together in one write (and reach the host as one batch).
   */
  #send(frame: Buffer, immediately: boolean): void {
    if (immediately) {
      this.socket.write(frame);
      return;
    }
    this.#queue.push(frame);
    if (this.#queue.length > 1) return;
    setImmediate(() => {
      const queue = this.#queue;
      this.#queue = [];
      if (!this.socket.destroyed) this.socket.write(queue.length === 1 ? queue[0]! : Buffer.concat(queue));
    });
  }

  /**
   * Stops waiting for one request. A timed-out request's answer, if it comes, is measured as late; an
   * abandoned one's is not (its lateness tells about the stall, not about the timeout it needs).
   */
  #giveUp(id: number, outcome: InvokeOutcome): void {
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    this.#waiting.delete(id);
    clearTimeout(waiting.timer);
    if ("failure" in outcome && outcome.failure === "timeout") {
      if (this.#timedOut.size >= LATE_MEMORY) this.#timedOut.delete(this.#timedOut.keys().next().value!);
      this.#timedOut.set(id, waiting.sentAt);
    }
    waiting.resolve(outcome);
  }

  abandon(): void {
    for (const id of [...this.#waiting.keys()]) this.#giveUp(id, { failure: "connection" });
  }

  /** Ends the channel; every request still waiting fails as a lost connection (the gateway retries it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiting of this.#waiting.values()) {
      clearTimeout(waiting.timer);
      waiting.resolve({ failure: "connection" });
    }
    this.#waiting.clear();
    this.socket.destroy();
  }
}
