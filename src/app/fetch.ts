/**
 * pier without a socket: a request made in the same process (a test's fetch Request, the rollout's
 * smoke requests) as a PierRequest, and a PierResponse as a fetch Response. As hono's `app.request`
 * or MLServer's TestClient: the whole stack answers, no port is opened.
 */
import { type PierRequest, type PierResponse, tooLarge } from "../shared/index.js";

/** A request built in this process. Each call is its own client connection unless `connection` says otherwise. */
export function localRequest(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body: string | Buffer = "",
  connection: object = {},
): PierRequest {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method,
    url,
    headers: { ...lower, "content-length": String(bytes.length) },
    connection,
    body: async (limit) => {
      if (bytes.length > limit) throw tooLarge(bytes.length, limit, true);
      return bytes;
    },
  };
}

/** A fetch Request as a PierRequest. */
export async function fromFetchRequest(request: Request): Promise<PierRequest> {
  const url = new URL(request.url);
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const body =
    request.method === "GET" || request.method === "HEAD" ? "" : Buffer.from(await request.arrayBuffer());
  return localRequest(request.method, `${url.pathname}${url.search}`, headers, body);
}

/** A PierResponse as a fetch Response (a stream body stays a stream). */
export function toFetchResponse(response: PierResponse): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers))
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, String(v));
  const { body } = response;
  const nullBody =
    response.status === 204 ||
    response.status === 304 ||
    (response.status >= 300 && response.status < 400 && body === undefined);
  if (body === undefined || nullBody) return new Response(null, { status: response.status, headers });
  if (typeof body === "string" || Buffer.isBuffer(body))
    return new Response(typeof body === "string" ? body : new Uint8Array(body), {
      status: response.status,
      headers,
    });
  const iterator = body[Symbol.asyncIterator]();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(new TextEncoder().encode(next.value));
    },
  });
  return new Response(stream, { status: response.status, headers });
}
