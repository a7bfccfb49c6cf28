/**
 * The request body of each management API route that takes one, as a strict zod schema: the server
 * checks every body against it (a 400 naming the key), and the client's calls are typed from it.
 * Routes not listed here take no body.
 */
import { z } from "zod";
import type { RouteName } from "./contract.js";

/** A document the server parses itself (a YAML file's content), and the file it came from. */
const document = { spec: z.unknown(), source: z.string().optional() };
/** Where relative paths in the document are resolved: the folder the CLI ran in. */
const specDir = z.string().optional();
const fidelity = z.string().optional();

export const BODIES = {
  "endpoints.create": z.strictObject(document),
  "endpoints.update": z.strictObject({
    spec: z.unknown().optional(),
    source: z.string().optional(),
    traffic: z.string().optional(),
    mirror_traffic: z.string().optional(),
  }),
  "endpoints.regenerateKeys": z.strictObject({
    keyType: z
      .string()
      .transform((v) => v.toLowerCase())
      .pipe(z.enum(["primary", "secondary"])),
  }),
  "deployments.apply": z.strictObject({
    ...document,
    specDir,
    fidelity,
    allTraffic: z.boolean().optional(),
    mode: z.enum(["create", "update"]).optional(),
  }),
  "rollouts.start": z.strictObject({
    /** The rollout file's content, and its name. */
    rollout: z.unknown().optional(),
    rolloutSource: z.string().optional(),
    /** The new deployment: a deployment file's content (spec), or the name of one at 0 %. */
    deployment: z.string().optional(),
    spec: z.unknown().optional(),
    source: z.string().optional(),
    specDir,
    fidelity,
  }),
  "export.write": z.strictObject({
    target: z.enum(["azureml", "kserve"]),
    out: z.string(),
    deployment: z.string().optional(),
    storageUri: z.string().optional(),
  }),
  "pipeline.start": z.strictObject({
    document: z.unknown(),
    source: z.string().optional(),
    baseDir: z.string().optional(),
    force: z.boolean().optional(),
  }),
  "pipeline.approve": z.strictObject({ by: z.string().optional(), comment: z.string().optional() }),
  "pipeline.reject": z.strictObject({ by: z.string().optional(), comment: z.string().optional() }),
} satisfies Partial<Record<RouteName, z.ZodType>>;

type Bodies = typeof BODIES;

/** What a route's handler gets as its body (after the schema's defaults and transforms). */
export type BodyOf<K extends RouteName> = K extends keyof Bodies
  ? z.output<Bodies[K]>
  : Record<string, never>;

/** What a caller sends as a route's body. */
export type BodyInput<K extends RouteName> = K extends keyof Bodies ? z.input<Bodies[K]> : undefined;
