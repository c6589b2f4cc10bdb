/**
 * bench/spec.ts: the quick rows follow the QUICK preset (and `--set`), the r18 rows keep its
 * training settings, and the loop rows are one stage of it on a few batches.
 */
import {
  deepEqual as assertEquals,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import { type Config, QUICK } from "../../src/config.ts";
import { UserError } from "../../src/errors.ts";
import { stageSteps } from "../../src/train/methods.ts";
import { benchSpec, canonicalJson, quickConfig, r18Config } from "../../bench/spec.ts";
import { loopConfig } from "../../bench/byel_bench.ts";

Deno.test("benchSpec() of QUICK carries its network, batches, heads, optimizers, augments", () => {
  const s = benchSpec(QUICK);
  assertEquals(s.arch, QUICK.arch);
  assertEquals(
    [s.pretrain.batch, s.pretrain.optimizer, s.pretrain.hidden, s.pretrain.projectionDim],
    [QUICK.pretrain.batch, QUICK.pretrain.optimizer, QUICK.pretrain.hidden, 256],
  );
  assertEquals([s.finetune.batch, s.finetune.optimizer], [QUICK.finetune.batch, "adam"]);
  assertEquals(s.finetune.dropout, QUICK.finetune.dropout);
  assertEquals(s.pretrain.augment, QUICK.pretrain.augment);
  assertEquals(s.finetune.augment, QUICK.finetune.augment);
});

Deno.test("benchSpec() follows a changed preset field by field", () => {
  // The coming quick preset: a quarter-width VGG at 48 px, batch 128, Adam for both stages.
  const next: Config = {
    ...QUICK,
    arch: { ...QUICK.arch, family: "vgg", width: 0.25, inputSize: 48, norm: "ibn" },
    pretrain: { ...QUICK.pretrain, batch: 128, optimizer: "adam", lr: 1e-3 },
    finetune: { ...QUICK.finetune, batch: 128, dropout: 0.1 },
  };
  const s = benchSpec(next);
  assertEquals(s.arch, next.arch);
  assertEquals([s.pretrain.batch, s.pretrain.optimizer, s.pretrain.lr], [128, "adam", 1e-3]);
  assertEquals([s.finetune.batch, s.finetune.dropout], [128, 0.1]);
  // The same change through --set.
  const viaSet = benchSpec(
    quickConfig([
      "arch.family=vgg",
      "arch.inputSize=48",
      "arch.norm=ibn",
      "pretrain.batch=128",
      "pretrain.optimizer=adam",
      "pretrain.lr=1e-3",
      "finetune.batch=128",
      "finetune.dropout=0.1",
    ]),
  );
  assertEquals(canonicalJson(viaSet), canonicalJson(s));
  assert(canonicalJson(benchSpec(QUICK)) !== canonicalJson(s));
});

Deno.test("quickConfig() refuses malformed and invalid overrides, naming them", () => {
  assertThrows(() => quickConfig(["arch.family"]), /--set "arch.family": expected path=value/);
  assertThrows(() => quickConfig(["arch.family=mlp"]), UserError);
  assertThrows(() => quickConfig(["pretrain.batch=1"]), /pretrain.batch = 1 is out of range/);
});

Deno.test("r18Config() keeps the training settings, sets the ResNet-18 and one batch", () => {
  const base = quickConfig(["arch.family=vgg", "pretrain.optimizer=adam"]);
  const c = r18Config(base, { width: 0.5, inputSize: 112, batch: 32 });
  assertEquals(c.arch, {
    family: "resnet",
    depth: 18,
    width: 0.5,
    stem: "imagenet",
    inputSize: 112,
    inputNorm: "imagenet",
    norm: "batch",
  });
  assertEquals([c.pretrain.batch, c.finetune.batch, c.pretrain.microBatch], [32, 32, 0]);
  assertEquals(c.pretrain.optimizer, "adam");
  assertEquals(c.finetune.augment, base.finetune.augment);
});

Deno.test("canonicalJson() ignores key order, not values", () => {
  assertEquals(
    canonicalJson({ b: [1, { d: 2, c: 3 }], a: "x" }),
    '{"a":"x","b":[1,{"c":3,"d":2}]}',
  );
  assert(canonicalJson({ a: 1 }) !== canonicalJson({ a: 1.5 }));
});

Deno.test("loopConfig() runs one quick stage on a few batches, validation scaled alike", () => {
  const pre = loopConfig(QUICK, { stage: "pretrain", batches: 8 });
  assertEquals([pre.method, pre.skipFinetune], ["byel", true]);
  assertEquals(pre.data.trainSize, 8 * QUICK.pretrain.batch);
  assertEquals(pre.pretrain, QUICK.pretrain);
  assertEquals(pre.arch, QUICK.arch);
  assertEquals(pre.data.memoryMB, QUICK.data.memoryMB);
  assertEquals(
    pre.data.valSize,
    Math.round(QUICK.data.valSize * 8 * QUICK.pretrain.batch / QUICK.data.trainSize),
  );
  // The quick preset is the baseline: its fine-tuning row is the preset's own job, all of
  // pretrain.epochs + finetune.epochs (what `deno task train` runs).
  assertEquals(QUICK.method, "baseline");
  const fine = loopConfig(QUICK, { stage: "finetune", batches: 8 });
  assertEquals([fine.method, fine.pretrain.epochs], ["baseline", QUICK.pretrain.epochs]);
  assertEquals(fine.finetune, QUICK.finetune);
  assertEquals(
    stageSteps(
      fine.pretrain.epochs + fine.finetune.epochs,
      fine.data.trainSize,
      fine.finetune.batch,
    ),
    (QUICK.pretrain.epochs + QUICK.finetune.epochs) * 8,
  );
  // After BYEL pretraining: a run from scratch of the fine-tuning epochs only.
  const afterByel = loopConfig({ ...QUICK, method: "byel" }, { stage: "finetune", batches: 8 });
  assertEquals([afterByel.method, afterByel.pretrain.epochs], ["baseline", 0]);
  assertEquals(afterByel.finetune, QUICK.finetune);
  // Never fewer validation images than classes.
  assertEquals(loopConfig(QUICK, { stage: "finetune", batches: 1 }).data.valSize, 6);
});
