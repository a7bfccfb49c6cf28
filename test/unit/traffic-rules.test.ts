/**
 * Azure's traffic rules as pier checks them, and hints that work as printed: a split that does not add
 * up to 100 is answered with the same split scaled to 100, under this endpoint's own deployment names.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkTraffic } from "../../src/engine/traffic.js";
import { PierError } from "../../src/shared/index.js";

function refusal(traffic: Record<string, number>, deployments: string[]): PierError {
  try {
    checkTraffic(traffic, {}, deployments, "fin-behavior");
  } catch (error) {
    assert.ok(error instanceof PierError);
    return error;
  }
  assert.fail("accepted");
}

test("a split adding up to 60 gets a hint with this endpoint's names, scaled to exactly 100", () => {
  const error = refusal({ champion: 40, challenger: 20 }, ["champion", "challenger"]);
  assert.match(error.summary, /adds up to 60/);
  assert.equal(
    error.fix,
    'Give weights that add up to 100, e.g. the same split scaled: pier endpoint update fin-behavior --traffic "champion=67 challenger=33".',
  );
  // Three equal thirds: the rounding goes to one of them, and the hint still adds up to 100.
  const thirds = refusal({ a: 10, b: 10, c: 10 }, ["a", "b", "c"]).fix!;
  const weights = [...thirds.matchAll(/=(\d+)/g)].map((m) => Number(m[1]));
  assert.equal(
    weights.reduce((x, y) => x + y, 0),
    100,
  );
});

test("0 and 100 are both accepted; a name the endpoint lacks is refused with the names it has", () => {
  checkTraffic({ blue: 0 }, {}, ["blue"], "e");
  checkTraffic({ blue: 70, green: 30 }, {}, ["blue", "green"], "e");
  assert.match(refusal({ purple: 100 }, ["blue"]).fix!, /one of: blue/);
});
