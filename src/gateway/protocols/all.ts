/** The protocols the gateway speaks, in the order their paths are tried, and a protocol by its name. */
import type { ModelInterface } from "../../model/index.js";
import type { Protocol, ProtocolAdapter } from "../protocol.js";
import type { AnswerContext, AnswerKind, Batch, ParamNames } from "../shapes.js";
import { azure } from "./azure.js";
import { mlflow } from "./mlflow.js";
import { v2 } from "./v2.js";

export const PROTOCOLS: readonly ProtocolAdapter[] = [azure, mlflow, v2];

const BY_NAME: Record<Protocol, ProtocolAdapter> = { score: azure, invocations: mlflow, v2 };

/** The request body as what the model takes, by protocol and content type; a 4xx for anything it cannot read. */
export function parseRequest(
  protocol: Protocol,
  contentType: string | undefined,
  body: Buffer,
  iface: ModelInterface,
  paramNames: ParamNames,
): Batch {
  return BY_NAME[protocol].parse(contentType, body, iface, paramNames);
}

/** The answer's body as `protocol` writes it. */
export function formatResponse(
  protocol: Protocol,
  predictions: string,
  answer: AnswerKind,
  context: AnswerContext,
): string {
  return BY_NAME[protocol].format(predictions, answer, context);
}
