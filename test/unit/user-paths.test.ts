/**
 * Paths a user names, as a careless or hostile user would name them: a FIFO, a device, /proc, an
 * existing file for a folder, a symlink loop, a name too long. Each is the user's error with its
 * reason, found with stat alone (a FIFO is never opened), never pier's bug.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { PierError, regularInputFile, toPierError, writableOutputFolder } from "../../src/shared/index.js";

function refused(fn: () => unknown): PierError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof PierError, `a PierError, got ${String(error)}`);
    assert.equal(error.class, "user", `${error.code}: ${error.summary}`);
    return error;
  }
  assert.fail("was not refused");
}

test("a data file must be a regular file on a disk: FIFOs, devices and /proc are refused unopened", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pier-paths-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, "data.csv");
  execFileSync("mkfifo", [fifo]);
  const fix = "Fix data.path.";
  const e = refused(() => regularInputFile(fifo, "The pipeline's data", fix));
  assert.equal(e.code, "NotARegularFile");
  assert.match(e.summary, /a named pipe \(FIFO\), not a regular file/);
  assert.match(e.fix ?? "", /Write the data to a file first/);
  for (const path of ["/dev/zero", "/dev/stdin", "/proc/self/environ", "/sys/kernel/notes"]) {
    const error = refused(() => regularInputFile(path, "The pipeline's data", fix));
    assert.equal(error.code, "NotARegularFile", path);
    assert.match(error.summary, /under \/(dev|proc|sys)/);
  }
  // A link into /proc is judged by where it leads.
  symlinkSync("/proc/self/status", join(dir, "linked.csv"));
  assert.match(
    refused(() => regularInputFile(join(dir, "linked.csv"), "The data", fix)).summary,
    /resolves to \/proc/,
  );
  assert.equal(refused(() => regularInputFile(join(dir, "none.csv"), "The data", fix)).code, "FileNotFound");
  assert.match(refused(() => regularInputFile(dir, "The data", fix)).summary, /is a folder/);
  writeFileSync(join(dir, "ok.csv"), "a,b\n1,2\n");
  assert.equal(regularInputFile(join(dir, "ok.csv"), "The data", fix), join(dir, "ok.csv"));
});

test("an --out folder: absent or empty, outside /proc, /sys and /dev, each refusal with its reason", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pier-out-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "file"), "x");
  symlinkSync(join(dir, "loop-b"), join(dir, "loop-a"));
  symlinkSync(join(dir, "loop-a"), join(dir, "loop-b"));
  mkdirSync(join(dir, "full"));
  writeFileSync(join(dir, "full", "x"), "x");
  const cases: [string, string, RegExp][] = [
    ["/proc/self/x", "NotARegularFile", /under \/proc/],
    ["/dev/null", "NotARegularFile", /under \/dev/],
    ["/sys/x/y", "NotARegularFile", /under \/sys/],
    [join(dir, "file"), "PathUnusable", /exists and is a regular file, not a folder/],
    [join(dir, "file", "sub"), "PathUnusable", /a part of the path is a file, not a folder/],
    [join(dir, "loop-a"), "PathUnusable", /a loop of symbolic links/],
    [join(dir, "loop-a", "sub"), "PathUnusable", /a loop of symbolic links/],
    [join(dir, "n".repeat(300)), "PathUnusable", /a part of 300 bytes/],
    [join(dir, "full"), "OutputExists", /not empty/],
    ["relative/out", "BadArgument", /absolute/],
  ];
  for (const [path, code, summary] of cases) {
    const e = refused(() => writableOutputFolder(path));
    assert.equal(e.code, code, `${path}: ${e.code} ${e.summary}`);
    assert.match(e.summary, summary, path);
  }
  assert.equal(writableOutputFolder(join(dir, "new", "deeper")), join(dir, "new", "deeper"));
  mkdirSync(join(dir, "empty"));
  assert.equal(writableOutputFolder(join(dir, "empty")), join(dir, "empty"));
});

test("the file system's refusals of a user's path are user errors in words, a full disk is the machine's", () => {
  const errno = (code: string) => Object.assign(new Error(code), { code, path: "/x/y", syscall: "open" });
  assert.equal(toPierError(errno("ELOOP")).code, "PathUnusable");
  assert.equal(toPierError(errno("ENAMETOOLONG")).class, "user");
  assert.equal(toPierError(errno("EROFS")).summary, "/x/y: the file system is read-only");
  assert.equal(toPierError(errno("EPERM")).code, "PermissionDenied");
  const full = toPierError(errno("ENOSPC"));
  assert.equal(full.code, "DiskFull");
  assert.equal(full.class, "system");
});
