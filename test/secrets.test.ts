/**
 * State at rest, as an operator or another local user meets it: a home made looser beforehand is made
 * owner-only, pier.db and its journal files are 0600, the database alone does not reveal the endpoint
 * keys, and a crash followed by a deleted -wal file loses no endpoint and brings back no old key.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { startPier, tempDir } from "./helpers.js";

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
