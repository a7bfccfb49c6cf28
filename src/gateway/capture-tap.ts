/**
 * The gateway's part of data capture: what one scored request leaves for the deployment's data
 * collector. The gateway hands the pieces over as they are (no copies, no formatting); the collector
 * (monitor/capture.ts) samples, formats and writes them off the request's path.
 */
import type { DeploymentTarget } from "../engine/index.js";

/** One answered request, as the collector receives it. */
export interface CapturedExchange {
  /** The sampling draw the collector gave this request. */
  draw: number;
  /** Shared by a request's records: the request's x-request-id. */
  correlationId: string;
  /** The client's own request id (x-ms-client-request-id), when it sent one. */
  clientRequestId: string | undefined;
  /** Which instance answered. */
  instance: string;
  /** The request headers the collector may keep (it picks the ones it was told to). */
  headers: Record<string, string | string[] | undefined>;
  /** The HTTP body and content type as the client sent them. */
  body: Buffer;
  contentType: string | undefined;
  /** The model's inputs as JSON text (row objects or named tensors); absent for a scoring script. */
  inputs?: string;
  /** The model's answer as its instance gave it (JSON text); absent for a scoring script. */
  outputs?: string;
  /** The HTTP answer sent back. */
  status: number;
  response: Buffer | string;
}

/** A deployment's data collector, as the gateway sees it. */
export interface Collector {
  /** The request's sampling draw when it is captured; undefined (and capture costs nothing) when not. */
  sample(): number | undefined;
  /** The model's inputs are wanted (the gateway then keeps them as JSON). */
  readonly wantsInputs: boolean;
  record(exchange: CapturedExchange): void;
}

/** The collector of a deployment's live generation; undefined when its YAML collects nothing. */
export type CaptureTap = (target: DeploymentTarget) => Collector | undefined;
