/**
 * Anything thrown while handling a request, as the HttpError the client gets. Each protocol renders
 * it in its own body (protocols/); pier's own code always rides along in the x-pier-error-code header.
 */
import { PierError } from "../shared/index.js";
import { HttpError } from "./http-error.js";

/** pier's own failure says only that (its message, code and paths go to the log, through `log`). */
export function asHttpError(error: unknown, log?: (error: unknown) => void): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof PierError && error.class === "user")
    return new HttpError(error.code, error.summary, {}, error.fix ? { fix: error.fix } : {});
  if (error instanceof PierError && error.class === "system" && error.code !== "InternalError")
    return new HttpError(error.code, error.summary);
  log?.(error);
  return new HttpError(
    "InternalError",
    "pier failed while handling this request; pier up's log has the error",
  );
}
