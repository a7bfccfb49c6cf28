/** The files of a model folder, walked once, links checked. */
import { lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { userError } from "../shared/index.js";

/** Lists the files of a model (or code) folder, with forward slashes; a link that leaves the folder is refused. */
export function listFolderFiles(root: string): string[] {
  const base = realpathSync(root);
  const files: string[] = [];
  /** The real folders on the way down: meeting one again is a loop. */
  const visited = new Set<string>();
  const loop = (full: string) =>
    userError(
      "BadArgument",
      `${relative(root, full)} is a symbolic link that leads back into itself (a link loop)`,
      "Replace the link with the file or folder it should point to.",
    );
  const walk = (dir: string) => {
    const real = realpathSync(dir);
    if (visited.has(real)) throw loop(dir);
    visited.add(real);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      let stat = lstatSync(full);
      if (stat.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(full);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ELOOP") throw loop(full);
          throw userError(
            "ArtifactMissing",
            `${relative(root, full)} is a link to something that does not exist`,
            "Replace the link with the file itself.",
          );
        }
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
    visited.delete(real);
  };
  walk(root);
  return files.sort();
}
