/**
 * The README's first command, as a user runs it: `pier up` on an empty home trains, registers and
 * deploys the default model and prints the scoring URL, a key, a curl that works and a dashboard login
 * link; it logs as JSON lines when asked; a second `pier up` on its port is PortInUse naming it; Ctrl-C
 * exits 0 and leaves no instance; the next start restores what ran (the same key) and prints it again;
 * a missing default endpoint comes back without retraining; and kill -9 of pier leaves no orphaned
 * instance.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pierProcess, post, processGone, startPier, tempDir } from "../helpers.js";

const curlOf = (output: string) =>
  /curl -s (\S+) -H 'Authorization: Bearer ([^']+)' -H 'Content-Type: application\/json' -d '([^']+)'/.exec(
    output,
  );

test("pier up on an empty home, stopped, restored, its default endpoint recreated, killed", async (t) => {
  const first = await startPier(t, {
    defaultModel: true,
    args: ["--log-format", "json"],
    cliProcesses: true,
  });
  assert.match(first.output(), /fin-behavior\/blue is Ready/);
  const [, url1, key, body] = curlOf(first.output())!;
  assert.equal(
    (await post(url1!, body!, { authorization: `Bearer ${key}` })).status,
    200,
    "the printed curl works",
  );
  const link = /Dashboard: (http:\/\/\S+)/.exec(first.output())?.[1];
  assert.ok(link, "a login link is printed");
  assert.equal((await fetch(link!, { redirect: "manual" })).status, 303, "the link opens a session");
  const logged = first
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { level: string; msg: string });
  assert.ok(
    logged.some((l) => /^deployment fin-behavior\/blue Succeeded/.test(l.msg)),
    "its own log, as JSON lines",
  );

  const port = new URL(first.url).port;
  const taken = await pierProcess(["up", "--port", port, "--no-default-model", "-o", "json"], {
    env: { PIER_HOME: tempDir(t) },
  });
  assert.equal(taken.code, 1);
  const error = JSON.parse(taken.stdout).error;
  assert.equal(error.code, "PortInUse");
  assert.match(error.summary, new RegExp(`in use by process ${first.pid}\\b`));

  const show = async (pier: typeof first) =>
    JSON.parse(
      (await pier.run(["deployment", "show", "-e", "fin-behavior", "-n", "blue", "-o", "json"])).stdout,
    );
  const pid = (await show(first)).instances[0].pid;
  assert.equal(await first.stop(), 0, "Ctrl-C exits 0");
  assert.throws(() => process.kill(pid, 0), "the instance process is gone");

  const second = await startPier(t, { home: first.home, cliProcesses: true });
  assert.match(second.output(), /fin-behavior\/blue: Succeeded/);
  const restored = curlOf(second.output());
  assert.ok(restored, `the key and curl again after a restore:\n${second.output()}`);
  assert.equal(restored[2], key, "same key after restart");
  assert.equal((await post(restored[1]!, body!, { authorization: `Bearer ${key}` })).status, 200);
  assert.equal((await second.run(["endpoint", "delete", "fin-behavior"])).code, 0);
  assert.equal(await second.stop(), 0);

  // The default endpoint is missing, the model is registered: the endpoint comes back, nothing is retrained.
  const third = await startPier(t, { home: first.home, defaultModel: true, cliProcesses: true });
  assert.match(third.output(), /models:\/financial-behavior-model\/1 \(already registered\)/);
  assert.doesNotMatch(third.output(), /✔ train/);
  const [, url3, key3] = curlOf(third.output())!;
  assert.equal((await post(url3!, body!, { authorization: `Bearer ${key3}` })).status, 200);
  assert.ok(readFileSync(join(third.home, "up.json"), "utf8").includes(String(third.pid)));

  // pier killed outright: its instances notice their channel closing and exit instead of lingering.
  const pid3 = (await show(third)).instances[0].pid;
  process.kill(third.pid, "SIGKILL");
  assert.ok(await processGone(pid3, 5000), "no orphaned instance after kill -9 of pier up");
});
