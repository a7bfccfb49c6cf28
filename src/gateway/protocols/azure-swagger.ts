/**
 * GET /endpoints/NAME/swagger.json?version=2|3|3.1, the document Azure's inference server serves for a
 * deployment (azureml_inference_server_http/server/swagger.py): a swagger file the scoring script's
 * folder holds (swagger.json or swagger2.json for 2, swagger3.json, swagger3.1.json), else one made
 * from the schemas of an @input_schema/@output_schema run(), else a generic one ({"type": "object"}
 * in and out). An MLflow model's document describes the /score body its signature takes. Unknown
 * versions are 404 with the server's {"message"} and wording.
 */
import type { DeploymentTarget } from "../../engine/index.js";
import { scoreExample } from "../../model/index.js";

/** The versions and the aliases the server takes (2 is the default). */
const ALIASES: Record<string, "2" | "3" | "3.1"> = {
  "2": "2",
  "2.0": "2",
  "3": "3",
  "3.0": "3",
  "3.1": "3.1",
};

const GENERIC = { type: "object", example: {} };

const error = { type: "object", properties: { message: { type: "string" } } };

function swagger2(title: string, basePath: string, input: unknown, output: unknown): unknown {
  const failure = {
    description: "The service failed to execute due to an error.",
    schema: { $ref: "#/definitions/ErrorResponse" },
  };
  return {
    swagger: "2.0",
    info: {
      title,
      description: `API specification for the Azure Machine Learning service ${title}`,
      version: "1.0",
    },
    basePath,
    schemes: ["http"],
    consumes: ["application/json"],
    produces: ["application/json"],
    securityDefinitions: {
      Bearer: {
        type: "apiKey",
        name: "Authorization",
        in: "header",
        description: "For example: Bearer abc123",
      },
    },
    paths: {
      "/score": {
        post: {
          operationId: "RunMLService",
          description: "Run web service's model and get the prediction output",
          security: [{ Bearer: [] }],
          parameters: [
            {
              name: "serviceInputPayload",
              in: "body",
              description: "The input payload for executing the real-time machine learning service.",
              schema: { $ref: "#/definitions/ServiceInput" },
            },
          ],
          responses: {
            "200": {
              description:
                "The service processed the input correctly and provided a result prediction, if applicable.",
              schema: { $ref: "#/definitions/ServiceOutput" },
            },
            default: failure,
          },
        },
      },
      "/swagger.json": {
        get: {
          operationId: "GetSwaggerSpec",
          description: "Get the Swagger specification.",
          parameters: [{ name: "version", in: "query", required: false, type: "integer", enum: [2, 3] }],
          responses: {
            "200": { description: "The Swagger specification.", schema: { type: "string" } },
            default: failure,
          },
        },
      },
    },
    definitions: { ServiceInput: input, ServiceOutput: output, ErrorResponse: error },
  };
}

function openapi3(
  version: "3" | "3.1",
  title: string,
  basePath: string,
  input: unknown,
  output: unknown,
): unknown {
  const json = (ref: string) => ({ "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } });
  const failure = {
    description: "The service failed to execute due to an error.",
    content: json("ErrorResponse"),
  };
  return {
    openapi: version === "3.1" ? "3.1.0" : "3.0.3",
    info: {
      title,
      description: `API specification for the Azure Machine Learning service ${title}`,
      version: "1.0",
    },
    servers: [{ url: basePath }],
    security: [{ Bearer: [] }],
    paths: {
      "/score": {
        post: {
          operationId: "RunMLService",
          description: "Run web service's model and get the prediction output",
          security: [{ Bearer: [] }],
          requestBody: {
            description: "The input payload for executing the real-time machine learning service.",
            content: json("ServiceInput"),
          },
          responses: {
            "200": {
              description:
                "The service processed the input correctly and provided a result prediction, if applicable.",
              content: json("ServiceOutput"),
            },
            default: failure,
          },
        },
      },
      "/swagger.json": {
        get: {
          operationId: "GetSwaggerSpec",
          description: "Get the Swagger specification.",
          parameters: [
            { name: "version", in: "query", required: false, schema: { type: "integer", enum: [2, 3] } },
          ],
          responses: {
            "200": {
              description: "The Swagger specification.",
              content: { "text/plain": { schema: { type: "string" } } },
            },
            default: failure,
          },
        },
      },
    },
    components: {
      schemas: { ServiceInput: input, ServiceOutput: output, ErrorResponse: error },
      securitySchemes: {
        Bearer: {
          type: "apiKey",
          name: "Authorization",
          in: "header",
          description: "For example: Bearer abc123",
        },
      },
    },
  };
}

/** An MLflow model's /score body as a schema, with one row of zeros as its example. */
function mlflowInput(target: DeploymentTarget): unknown {
  const example = scoreExample(target.interface);
  return example === undefined
    ? GENERIC
    : { type: "object", properties: { input_data: { type: "object" } }, example };
}

/** The document, or the server's 404 for a version it does not have. */
export function swaggerDocument(
  target: DeploymentTarget,
  requested: string | null,
  title: string,
  basePath: string,
): { status: number; body: unknown } {
  const version = ALIASES[requested ?? "2"];
  const script = target.rawRequests ? target.instances.find((i) => i.swagger)?.swagger : undefined;
  const supported = target.rawRequests ? (script?.versions ?? ["2", "3", "3.1"]) : ["2", "3", "3.1"];
  if (!version)
    return {
      status: 404,
      body: {
        message: `Swagger version [${requested}] is not valid. Supported versions: [${supported.join(", ")}].`,
      },
    };
  const file = script?.files[version];
  if (file) return { status: 200, body: file };
  if (!supported.includes(version))
    return {
      status: 404,
      body: {
        message: `Swagger version [${requested}] is not supported for the scoring script. Supported swagger versions: [${supported.join(", ")}].`,
      },
    };
  const input = target.rawRequests ? (script?.input ?? GENERIC) : mlflowInput(target);
  const output = target.rawRequests ? (script?.output ?? GENERIC) : GENERIC;
  return {
    status: 200,
    body:
      version === "2"
        ? swagger2(title, basePath, input, output)
        : openapi3(version, title, basePath, input, output),
  };
}
