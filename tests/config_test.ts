import assert from "node:assert/strict";
import { applyOverrides, PRESETS, QUICK, resolveConfig, validateConfig } from "../src/config.ts";
import { UserError } from "../src/errors.ts";
import { configFlagOptions, configFromFlags } from "../src/cli/flags.ts";

Deno.test("resolveConfig() applies dotted overrides by the field's type", () => {
  const c = resolveConfig("smoke", {
    "pretrain.lr": "0.5",
    "finetune.augment.cropScale": "0.3,1",
    method: "byol",
    skipFinetune: "true",
  });
  assert.equal(c.pretrain.lr, 0.5);
  assert.deepEqual(c.finetune.augment.cropScale, [0.3, 1]);
  assert.equal(c.method, "byol");
  assert.equal(c.skipFinetune, true);
  assert.equal(PRESETS.smoke.pretrain.lr, 0.2); // presets are not mutated
});

Deno.test("validateConfig() names the bad value and the allowed range", () => {
  assert.throws(
    () => validateConfig({ ...QUICK, seed: -1 }),
    /seed = -1 is out of range: expected an integer in \[0, 2147483647\]/,
  );
  assert.throws(
    () => resolveConfig("quick", { method: "simclr" }),
    /method = "simclr" is not allowed: expected one of baseline, byol, byel/,
  );
  assert.throws(
    () => resolveConfig("quick", { "pretrain.batch": "64", "pretrain.microBatch": "48" }),
    /must divide/,
  );
  assert.throws(() => resolveConfig("quick", { "pretrain.lr": "abc" }), /not a number/);
  assert.throws(() => resolveConfig("quick", { "pretrain.augment.blurP": "2" }), UserError);
  assert.throws(() => resolveConfig("nope"), /--preset "nope" is not allowed/);
  assert.throws(
    () => applyOverrides(QUICK, { "pretrain.nope": "1" }),
    /unknown setting "pretrain.nope"/,
  );
});

Deno.test("every preset is valid", () => {
  for (const p of Object.values(PRESETS)) validateConfig(p);
});

Deno.test("data.balance defaults to none, takes none|sampler|loss, and refuses anything else", () => {
  assert.equal(resolveConfig("smoke").data.balance, "none");
  assert.equal(resolveConfig("quick", { "data.balance": "sampler" }).data.balance, "sampler");
  assert.throws(
    () => resolveConfig("quick", { "data.balance": "oversample" }),
    /data\.balance = "oversample" is not allowed: expected one of none, sampler, loss/,
  );
});

Deno.test("--balance is the short form of --data.balance", () => {
  assert.equal(configFromFlags({ balance: "loss" }).config.data.balance, "loss");
  assert.ok("balance" in configFlagOptions());
  assert.throws(() => configFromFlags({ balance: "x" }), UserError);
});
