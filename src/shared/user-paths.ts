/**
 * Paths a user names (a pipeline's data file, an export's --out folder) are checked before pier opens
 * them, so that no name can stall the process that serves scoring: a FIFO, a device (/dev/zero,
 * /dev/stdin) or a kernel file system (/proc, /sys) blocks a read or spins a recursive mkdir for good.
 * Checks use stat and realpath only, which never block on such files. What the file system refuses is
 * said in words (a symlink loop, a name too long, a file where a folder was meant), as the user's
 * mistake with its fix, never as pier's failure.
 */
import { accessSync, constants, readdirSync, realpathSync, type Stats, statSync } from "node:fs";
import { cp, rm } from "node:fs/promises";
import { dirname, isAbsolute, resolve, sep } from "node:path";
import { PierError, toPierError, userError } from "./errors.js";

/** Kernel and device trees: their files are not data, and reading or creating in them can block for good. */
const SPECIAL_TREES = ["/proc", "/sys", "/dev"];

const under = (path: string, tree: string) => path === tree || path.startsWith(`${tree}${sep}`);

function specialTree(path: string): string | undefined {
  return SPECIAL_TREES.find((tree) => under(path, tree));
}

/** What a path is, in words, when it is not a regular file or a folder. */
function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return "a named pipe (FIFO)";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  if (stats.isDirectory()) return "a folder";
  return "a regular file";
}

/** stat, with the file system's refusal as the user's error. */
function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw toPierError(error);
  }
}

function refuseSpecial(path: string, real: string, what: string): void {
  const tree = specialTree(real) ?? specialTree(path);
  if (tree)
    throw userError(
      "NotARegularFile",
      `${what} ${path} is under ${tree}${real !== path ? ` (it resolves to ${real})` : ""}: a kernel or device tree, not a place for data`,
      "Name a file or folder on a disk (under your home or the project).",
    );
}

/**
 * A file whose content pier reads: it exists, is a regular file (links followed), and lies outside
 * /proc, /sys and /dev. Returns its real path.
 */
export function regularInputFile(path: string, what: string, fix: string): string {
  const stats = statOf(path);
  if (!stats) throw userError("FileNotFound", `${what} ${path} does not exist`, fix);
  const real = realpathSync(path);
  refuseSpecial(path, real, what);
  if (!stats.isFile())
    throw userError(
      "NotARegularFile",
      `${what} ${path} is ${kindOf(stats)}, not a regular file: pier reads data only from files on a disk`,
      stats.isFIFO() || stats.isCharacterDevice()
        ? "Write the data to a file first (e.g. cat … > data.csv), then name that file."
        : fix,
    );
  return real;
}

/** The longest part of `path` that exists. */
function nearestExisting(path: string): string {
  let current = path;
  while (!statOf(current)) {
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

/**
 * A folder pier writes into: absolute, outside /proc, /sys and /dev, either absent (its nearest
 * existing parent a folder this user may write) or an empty folder; each part of the name within
 * the file system's limits.
 */
export function writableOutputFolder(path: string, option = "--out"): string {
  if (!isAbsolute(path))
    throw userError(
      "BadArgument",
      `${option} must be an absolute folder, got '${path}'`,
      `Pass ${option} DIR.`,
    );
  const full = resolve(path);
  const long = full.split(sep).find((part) => Buffer.byteLength(part) > 255);
  if (long !== undefined || Buffer.byteLength(full) > 4095)
    throw userError(
      "PathUnusable",
      `${option} ${long !== undefined ? `has a part of ${Buffer.byteLength(long)} bytes` : `is ${Buffer.byteLength(full)} bytes long`}: the file system takes 255 bytes a part and 4096 in all`,
      "Use a shorter name.",
    );
  const existing = nearestExisting(full);
  const real = realpathSync(existing);
  refuseSpecial(full, real, option);
  const stats = statOf(existing)!;
  if (existing === full) {
    if (!stats.isDirectory())
      throw userError(
        "PathUnusable",
        `${option} ${full} exists and is ${kindOf(stats)}, not a folder`,
        "Choose a new folder name (pier creates it), or an empty folder.",
      );
    if (readdirSync(full).length > 0)
      throw userError(
        "OutputExists",
        `${full} already exists and is not empty`,
        "Choose another --out folder, or empty this one.",
      );
  } else if (!stats.isDirectory())
    throw userError(
      "PathUnusable",
      `${option} ${full}: ${existing} is ${kindOf(stats)}, not a folder, so nothing can be created under it`,
      "Choose a folder whose parents are folders.",
    );
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    throw userError(
      "PermissionDenied",
      `${option} ${full}: ${existing} is not writable by this user`,
      "Choose a folder you can write to.",
    );
  }
  return full;
}

/**
 * Moves a folder pier made in its own home to the user's `out`, with the file system's work off the
 * event loop (libuv's threads) and a deadline: a slow or hung disk costs the caller its answer, never
 * the scoring requests that share the process.
 */
export async function deliverFolder(staging: string, out: string, timeoutMs = 60_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new PierError({
            code: "OutputTimedOut",
            summary: `Writing to ${out} did not finish within ${timeoutMs / 1000} s: the file system there is slow or hung`,
            fix: "Choose a folder on a local disk.",
          }),
        ),
      timeoutMs,
    );
    timer.unref();
  });
  try {
    await Promise.race([
      cp(staging, out, { recursive: true, errorOnExist: true, force: false }).catch((error) => {
        throw toPierError(error);
      }),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
    void rm(staging, { recursive: true, force: true });
  }
}
