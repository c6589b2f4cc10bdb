/** The memory guard: parameter counts checked against torchvision, monotone estimates, refusals. */
import assert from "node:assert/strict";
import { UserError } from "../../src/errors.ts";
import { PAPER } from "../../src/config.ts";
import {
  checkRunMemory,
  estimateStepBytes,
  maxMicroBatch,
  WASM_STEP_LIMIT_BYTES,
} from "../../src/backend/memory.ts";

// 6 × params floats of optimizer state, ×4 bytes, ×1.2 margin: isolate the parameter term by
// differencing two estimates that differ only in `params`.
const paramBytes = (o: { depth: 18 | 50; widthMultiplier?: number }) =>
  estimateStepBytes({ batch: 1, imageSize: 64, ...o }) -
  estimateStepBytes({ batch: 1, imageSize: 64, ...o, params: 0 });

Deno.test("estimateStepBytes() counts torchvision's ResNet-18/50 backbone parameters", () => {
  // torchvision resnet18 has 11,689,512 parameters, 513,000 of them in the 1000-way fc layer
  // (BatchNorm running statistics are buffers, not parameters); resnet50: 25,557,032 - 2,049,000.
  const r18 = paramBytes({ depth: 18 }) / (4 * 6 * 1.2);
  const r50 = paramBytes({ depth: 50 }) / (4 * 6 * 1.2);
  assert.ok(Math.abs(r18 - 11_176_512) < 2, `resnet18 ${r18}`);
  assert.ok(Math.abs(r50 - 23_508_032) < 2, `resnet50 ${r50}`);
});

Deno.test("estimateStepBytes() grows linearly with batch and with views", () => {
  const e = (batch: number, views = 2) => estimateStepBytes({ batch, imageSize: 64, views });
  const perImage = e(2) - e(1);
  assert.ok(perImage > 0);
  assert.ok(Math.abs(e(33) - e(1) - 32 * perImage) <= 64);
  assert.ok(e(8, 2) > e(8, 1));
  // activations scale with the pixel count: doubling the side quadruples the per-image bytes
  const at128 = estimateStepBytes({ batch: 2, imageSize: 128 }) -
    estimateStepBytes({ batch: 1, imageSize: 128 });
  assert.ok(at128 / perImage > 3.5 && at128 / perImage < 4.5, `${at128 / perImage}`);
  assert.throws(() => estimateStepBytes({ batch: 0, imageSize: 64 }), RangeError);
});

Deno.test("maxMicroBatch() is the largest batch under the limit", () => {
  const opts = { imageSize: 128, depth: 50 as const };
  const m = maxMicroBatch(opts);
  assert.ok(m >= 1);
  assert.ok(estimateStepBytes({ ...opts, batch: m }) <= WASM_STEP_LIMIT_BYTES);
  assert.ok(estimateStepBytes({ ...opts, batch: m + 1 }) > WASM_STEP_LIMIT_BYTES);
});

Deno.test("checkRunMemory() refuses an oversized WASM step, naming the --<stage>.microBatch that fits", () => {
  const cfg = { ...PAPER, pretrain: { ...PAPER.pretrain, batch: 256 } };
  const step = {
    imageSize: 128,
    depth: 50 as const,
    widthMultiplier: 1,
    stem: "imagenet" as const,
  };
  const fit = maxMicroBatch({ ...step, views: 2 });
  let d = fit;
  while (256 % d !== 0) d--;
  assert.throws(
    () => checkRunMemory(cfg, "wasm"),
    (e: unknown) =>
      e instanceof UserError &&
      e.message.includes(`--pretrain.microBatch ${d} (a divisor of --pretrain.batch 256)`),
  );
  // the suggested micro-batch fits (both stages), and other backends are not capped here
  const fixed = {
    ...cfg,
    pretrain: { ...cfg.pretrain, microBatch: d },
    finetune: { ...cfg.finetune, microBatch: d },
  };
  assert.doesNotThrow(() => checkRunMemory(fixed, "wasm"));
  assert.doesNotThrow(() => checkRunMemory(cfg, "cpu"));
  // an input too large for even one image names the arch flags
  const huge = { ...fixed, arch: { ...fixed.arch, inputSize: 1024 } };
  assert.throws(() => checkRunMemory(huge, "wasm"), /--arch.inputSize or --arch.width/);
});

Deno.test("estimateStepBytes() with the CIFAR stem keeps stage 1 at full resolution", () => {
  const perImage = (stem: "imagenet" | "cifar") =>
    estimateStepBytes({ batch: 2, imageSize: 32, stem }) -
    estimateStepBytes({ batch: 1, imageSize: 32, stem });
  // 16x more pixels in every stage (no /2 conv, no /2 pool): several times the activations
  assert.ok(perImage("cifar") > 8 * perImage("imagenet"));
});
