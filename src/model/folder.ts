/** The files of a model folder, walked once, links checked. */
import { lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { userError } from "../shared/index.js";

/** Lists the files of a model (or code) folder, with forward slashes; a link that leaves the folder is refused. */
export function listFolderFiles(root: string): string[] {
  const base = realpathSync(root);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      let stat = lstatSync(full);
      if (stat.isSymbolicLink()) {
        const target = realpathSync(full);
        if (relative(base, target).startsWith("..") || resolve(target) === base) {
          throw userError(
            "ArtifactPathEscapes",
            `${relative(root, full)} is a link to ${target}, outside the model folder`,
            "Replace the link with the file itself.",
          );
        }
        stat = statSync(full);
      }
      if (stat.isDirectory()) walk(full);
      else if (stat.isFile()) files.push(relative(root, full).split(sep).join("/"));
    }
  };
  walk(root);
  return files.sort();
}
