/**
 * Model URIs as MLflow resolves them (models:/NAME/3, models:/NAME/latest, models:/NAME@alias),
 * Azure ML's azureml:NAME:VERSION mapped to the registry, and plain paths.
 */
import { userError } from "../shared/index.js";

export type VersionSelector =
  | { type: "version"; version: number }
  | { type: "latest" }
  | { type: "alias"; alias: string }
  /** An Azure version label (azureml:NAME:v2). */
  | { type: "label"; label: string };

export type ModelRef =
  | { kind: "registry"; name: string; selector: VersionSelector; uri: string }
  | { kind: "path"; path: string };

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

export function checkModelName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw userError(
      "InvalidModelName",
      `'${name}' is not a valid model name`,
      "Use letters, digits, '.', '_' and '-', starting with a letter or digit (at most 255 characters).",
    );
  }
  return name;
}

function improper(uri: string) {
  return userError(
    "InvalidModelUri",
    `Not a proper models:/ URI: ${uri}. Models URIs must be of the form 'models:/model_name/suffix' or 'models:/model_name@alias'`,
    "Use models:/NAME/VERSION, models:/NAME/latest or models:/NAME@ALIAS.",
  );
}

/** Parses a model reference; anything that is not a models:/ or azureml: URI is a path. */
export function parseModelUri(uri: string): ModelRef {
  if (uri.startsWith("models:")) {
    const body = uri.replace(/^models:\/+/, "");
    if (body === uri || body === "") throw improper(uri);
    const at = body.lastIndexOf("@");
    if (at > 0 && !body.slice(0, at).includes("/")) {
      const alias = body.slice(at + 1);
      if (alias === "") throw improper(uri);
      const name = checkModelName(body.slice(0, at));
      return {
        kind: "registry",
        name,
        uri,
        selector: alias.toLowerCase() === "latest" ? { type: "latest" } : { type: "alias", alias },
      };
    }
    const parts = body.split("/");
    if (parts.length !== 2 || parts[0] === "" || parts[1] === "") throw improper(uri);
    const [name, suffix] = parts as [string, string];
    checkModelName(name);
    if (/^\d+$/.test(suffix))
      return { kind: "registry", name, uri, selector: { type: "version", version: Number(suffix) } };
    if (suffix.toLowerCase() === "latest")
      return { kind: "registry", name, uri, selector: { type: "latest" } };
    if (["staging", "production", "archived", "none"].includes(suffix.toLowerCase())) {
      throw userError(
        "StagesNotSupported",
        `models:/${name}/${suffix} selects a stage; stages are deprecated in MLflow and pier uses aliases instead`,
        `Set an alias and use it: pier model alias set ${name} ${suffix.toLowerCase()} <VERSION>, then models:/${name}@${suffix.toLowerCase()}`,
      );
    }
    throw improper(uri);
  }
  if (uri.startsWith("azureml:")) {
    const body = uri.slice("azureml:".length);
    const withVersion = /^([^:@/]+):(\d+)$/.exec(body);
    if (withVersion) {
      return {
        kind: "registry",
        name: checkModelName(withVersion[1]!),
        uri,
        selector: { type: "version", version: Number(withVersion[2]) },
      };
    }
    const labelled = /^([^:@/]+):([A-Za-z0-9][A-Za-z0-9._-]{0,49})$/.exec(body);
    if (labelled)
      return {
        kind: "registry",
        name: checkModelName(labelled[1]!),
        uri,
        selector: { type: "label", label: labelled[2]! },
      };
    const latest = /^([^:@/]+)@latest$/.exec(body);
    if (latest)
      return { kind: "registry", name: checkModelName(latest[1]!), uri, selector: { type: "latest" } };
    throw userError(
      "InvalidModelUri",
      `'${uri}' is not an Azure ML model reference pier can map to its registry`,
      "Use azureml:NAME:VERSION or azureml:NAME@latest.",
    );
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) || uri.startsWith("runs:")) {
    throw userError(
      "UnsupportedModelUri",
      `pier cannot load models from '${uri}'`,
      "Download the model folder and pass its path, or register it first.",
    );
  }
  return { kind: "path", path: uri };
}

/** Checks an alias name against MLflow's rules. */
export function checkAliasName(alias: string): string {
  if (alias.toLowerCase() === "latest") {
    throw userError(
      "ReservedAlias",
      "'latest' alias name (case insensitive) is reserved.",
      "Pick another alias, e.g. champion or production.",
    );
  }
  if (/^[vV]\d+$/.test(alias)) {
    throw userError(
      "ReservedAlias",
      `Version alias name '${alias}' is reserved.`,
      "Pick an alias that is not v<number>, e.g. champion.",
    );
  }
  if (!/^[\w-]+$/.test(alias) || alias.length > 255) {
    throw userError(
      "InvalidAlias",
      `Invalid alias name: '${alias}'. Aliases may contain only letters, digits, '_' and '-'.`,
      "Use e.g. champion, challenger or prod-eu.",
    );
  }
  return alias;
}
