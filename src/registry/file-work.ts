/**
 * Where a registry does its file work. In pier up a model folder is registered, and a version's files
 * copied out and re-hashed, on a thread of its own (file-worker.ts): a 500 MB model then costs the
 * thread answering requests nothing. The CLI, which answers nobody else, does it in-process.
 */
import { JobThread } from "../shared/index.js";
import type { ArtifactEntry } from "./artifact-store.js";
import type { ModelVersion, RegisterOptions } from "./registry.js";

export type FileJob =
  | { kind: "register"; home: string; dir: string; options: RegisterOptions }
  | { kind: "materialize"; root: string; entries: readonly ArtifactEntry[]; dir: string };

export type Registered = ModelVersion & { repaired: string[]; reused: boolean };

export class FileThread {
  readonly #thread = new JobThread<FileJob, Registered | undefined>(
    new URL("./file-worker.js", import.meta.url),
    "registry file",
  );

  register(home: string, dir: string, options: RegisterOptions): Promise<Registered> {
    return this.#thread.run({ kind: "register", home, dir, options }) as Promise<Registered>;
  }

  async materialize(root: string, entries: readonly ArtifactEntry[], dir: string): Promise<void> {
    await this.#thread.run({ kind: "materialize", root, entries, dir });
  }

  close(): Promise<void> {
    return this.#thread.close();
  }
}
