/**
 * Content-addressed artifact store: each file is kept once under artifacts/sha256/<aa>/<hash>,
 * written to a temp file, synced and renamed into place, so a blob is either whole or absent.
 */
import { createHash, randomUUID } from "node:crypto";
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { userError } from "../shared/index.js";

export interface ArtifactEntry {
  /** Path inside the model folder, with forward slashes. */
  path: string;
  sha256: string;
  size: number;
}

/** A blob as `check` finds it. */
export type BlobState = "ok" | "missing" | "corrupt";

const REPAIR_FIX =
  "`pier model verify` names every version the damaged file breaks and where each was registered from; registering one of them again from its source (pier model register SOURCE --name NAME) replaces the damaged copy, and Failed deployments start again at the next pier up (or `pier deployment update`).";

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Where a blob lives in a store's root. */
function blobIn(root: string, sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
  return join(root, "sha256", sha256.slice(0, 2), sha256);
}

/**
 * Writes the files of a manifest from the store at `root` into `dir`, checking every hash on the way
 * out. A function of the root alone, so that a worker thread can do it without opening the store.
 */
export function materializeBlobs(root: string, entries: readonly ArtifactEntry[], dir: string): void {
  for (const entry of entries) {
    const target = resolve(dir, entry.path);
    if (relative(resolve(dir), target).startsWith(".."))
      throw new Error(`artifact path escapes: ${entry.path}`);
    mkdirSync(dirname(target), { recursive: true });
    const blob = blobIn(root, entry.sha256);
    if (!existsSync(blob))
      throw userError(
        "ArtifactCorrupted",
        `${entry.path} is missing from the artifact store (sha256 ${entry.sha256})`,
        REPAIR_FIX,
      );
    copyFileSync(blob, target);
    chmodSync(target, 0o644);
    const actual = sha256File(target);
    if (actual !== entry.sha256) {
      throw userError(
        "ArtifactCorrupted",
        `${entry.path} does not match its recorded sha256 (expected ${entry.sha256}, got ${actual}): the artifact store was modified`,
        REPAIR_FIX,
      );
    }
  }
}

export class ArtifactStore {
  readonly root: string;

  constructor(home: string) {
    this.root = join(home, "artifacts");
    mkdirSync(join(this.root, "sha256"), { recursive: true });
    mkdirSync(join(this.root, "tmp"), { recursive: true });
    this.#removeStaleTemporaries();
  }

  /** Temp files older than an hour belong to writers that died mid-copy. */
  #removeStaleTemporaries(): void {
    const tmp = join(this.root, "tmp");
    const cutoff = Date.now() - 3_600_000;
    for (const name of readdirSync(tmp)) {
      const path = join(tmp, name);
      // Another process may rename its temp file into the store between readdir and stat.
      const stat = statSync(path, { throwIfNoEntry: false });
      if (stat && stat.mtimeMs < cutoff) rmSync(path, { force: true });
    }
  }

  blobPath(sha256: string): string {
    return blobIn(this.root, sha256);
  }

  has(sha256: string): boolean {
    return existsSync(this.blobPath(sha256));
  }

  /** Whether a blob is there and still has the content its name says (re-hashed). */
  check(sha256: string): BlobState {
    const path = this.blobPath(sha256);
    if (!existsSync(path)) return "missing";
    return sha256File(path) === sha256 ? "ok" : "corrupt";
  }

  /**
   * Copies a file into the store; returns its hash and size. A blob of that name already there is
   * re-hashed, and a damaged one replaced: registering from the source repairs the store. `before`
   * says what was there.
   */
  put(file: string): { sha256: string; size: number; before: BlobState } {
    const tmp = join(this.root, "tmp", randomUUID());
    copyFileSync(file, tmp);
    const fd = openSync(tmp, "r");
    fsyncSync(fd);
    closeSync(fd);
    const sha256 = sha256File(tmp);
    const size = statSync(tmp).size;
    const target = this.blobPath(sha256);
    const state = this.check(sha256);
    if (state === "ok") {
      rmSync(tmp);
    } else {
      mkdirSync(dirname(target), { recursive: true });
      chmodSync(tmp, 0o444);
      renameSync(tmp, target);
    }
    return { sha256, size, before: state };
  }

  /** Writes the files of a manifest into `dir`, checking every hash on the way out. */
  materialize(entries: readonly ArtifactEntry[], dir: string): void {
    materializeBlobs(this.root, entries, dir);
  }

  /** Removes blobs that no manifest references (call inside the registry's write lock). */
  sweep(referenced: ReadonlySet<string>): number {
    let removed = 0;
    const base = join(this.root, "sha256");
    for (const prefix of readdirSync(base)) {
      for (const name of readdirSync(join(base, prefix))) {
        if (!referenced.has(name)) {
          rmSync(join(base, prefix, name), { force: true });
          removed++;
        }
      }
    }
    return removed;
  }
}
