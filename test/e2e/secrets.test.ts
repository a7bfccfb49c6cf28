/**
 * State at rest, as an operator or another local user meets it: a home made looser beforehand is made
 * owner-only, pier.db and its journal files are 0600, the database alone does not reveal the endpoint
 * keys, and a crash followed by a deleted -wal file loses no endpoint and brings back no old key.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import { startPier, tempDir, trainedWorkspace } from "../helpers.js";

const mode = (path: string) => statSync(path).mode & 0o777;

test("secrets at rest: an owner-only home and database, keys sealed, and a lost -wal file loses nothing", async (t) => {
  const home = join(tempDir(t), "home");
  mkdirSync(home, { mode: 0o755 });
  const first = await startPier(t, { home });
  assert.equal(mode(home), 0o700, "the home a user made with 0755 is made owner-only");
  assert.match(first.output(), /was readable by others \(mode 755\); pier made it 0700/);
  assert.equal((await first.run(["endpoint", "create", "-n", "fin"])).code, 0);
  const regenerated = JSON.parse(
    (await first.run(["endpoint", "regenerate-keys", "fin", "--key-type", "primary", "-o", "json"])).stdout,
  ) as { primaryKey: string; secondaryKey: string };
  for (const file of [
    "pier.db",
    "pier.db-wal",
    "pier.db-shm",
    "api-token",
    "token-signing.key",
    "key-encryption.key",
  ])
    if (existsSync(join(home, file))) assert.equal(mode(join(home, file)), 0o600, file);
  for (const file of ["pier.db", "pier.db-wal"]) {
    if (!existsSync(join(home, file))) continue;
    const bytes = readFileSync(join(home, file));
    assert.ok(!bytes.includes(regenerated.primaryKey), `${file} does not hold the primary key in the clear`);
    assert.ok(
      !bytes.includes(regenerated.secondaryKey),
      `${file} does not hold the secondary key in the clear`,
    );
  }

  // A crash, then the -wal file deleted by someone cleaning up: the endpoint and its current key stay.
  process.kill(first.pid, "SIGKILL");
  await first.stop();
  rmSync(join(home, "pier.db-wal"), { force: true });
  rmSync(join(home, "pier.db-shm"), { force: true });
  const second = await startPier(t, { home });
  const credentials = JSON.parse(
    (await second.run(["endpoint", "get-credentials", "fin", "-o", "json"])).stdout,
  ) as {
    primaryKey: string;
  };
  assert.equal(credentials.primaryKey, regenerated.primaryKey, "the regenerated key, not an older one");
});

test("another local user who finds an instance's port cannot score around the gateway, nor read its secret", async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip("needs root to act as another user (runuser -u nobody)");
    return;
  }
  const work = await trainedWorkspace("pier-other-user-", 300);
  t.after(work.cleanup);
  const pier = await startPier(t);
  assert.equal((await pier.run(["endpoint", "create", "-n", "fin"])).code, 0);
  const file = join(work.dir, "blue.yml");
  writeFileSync(
    file,
    stringify({
      name: "blue",
      endpoint_name: "fin",
      model: work.model,
      instance_type: "Standard_DS3_v2",
      instance_count: 1,
    }),
  );
  assert.equal(
    (await pier.run(["deployment", "create", "-f", file])).code,
    0,
    "Ready: pier's own probes pass",
  );
  const view = JSON.parse(
    (await pier.run(["deployment", "show", "-e", "fin", "-n", "blue", "-o", "json"])).stdout,
  ) as {
    instances: { port: number; pid: number }[];
  };
  const { port, pid } = view.instances[0]!;
  const asNobody = (code: string) =>
    spawnSync("runuser", ["-u", "nobody", "--", "/usr/bin/python3", "-c", code], { encoding: "utf8" });
  const scored = asNobody(
    `import urllib.request, urllib.error
req = urllib.request.Request("http://127.0.0.1:${port}/invoke", data=b'{"records": [{}]}', method="POST")
try:
    print(urllib.request.urlopen(req).status)
except urllib.error.HTTPError as e:
    print(e.code)`,
  );
  assert.equal(scored.stdout.trim(), "403", scored.stderr);
  const probed = asNobody(
    `import urllib.request, urllib.error
try:
    print(urllib.request.urlopen("http://127.0.0.1:${port}/").status)
except urllib.error.HTTPError as e:
    print(e.code)`,
  );
  assert.equal(probed.stdout.trim(), "403", "not even the health probe");
  const environ = asNobody(`open("/proc/${pid}/environ").read()`);
  assert.notEqual(
    environ.status,
    0,
    "the secret in the instance's environment is not readable by another user",
  );
});
