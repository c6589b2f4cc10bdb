/**
 * bench/steps.ts: the benchmarked steps are the library's real ones, they run on a config's
 * networks and batch, and repeated runs leak no tensors.
 */
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { SMOKE } from "../../src/config.ts";
import { STEP_KINDS } from "../../bench/flops.ts";
import { quickConfig } from "../../bench/spec.ts";
import { buildStep, randomBatch } from "../../bench/steps.ts";

Deno.test("randomBatch() gives n images in [0, 1] with the six classes in turn", () => {
  const b = randomBatch(8, 4);
  assertEquals([b.n, b.size, b.images.length], [8, 4, 8 * 4 * 4 * 3]);
  assert(b.images.every((v) => v >= 0 && v < 1));
  assertEquals([...b.labels], [0, 1, 2, 3, 4, 5, 0, 1]);
});

Deno.test("buildStep() runs every kind on the config's network and leaks nothing", async () => {
  await tf.setBackend("cpu");
  for (const family of ["resnet", "vgg"]) {
    const config = quickConfig([`arch.family=${family}`, "finetune.batch=6"], SMOKE);
    for (const kind of STEP_KINDS) {
      const before = tf.memory().numTensors;
      const step = buildStep({ kind, config });
      await step.run();
      await step.run(); // optimizer slots exist from the first step on
      step.dispose();
      assertEquals(tf.memory().numTensors, before, `${family} ${kind} leaked tensors`);
      assertEquals(step.images, kind === "byel" ? config.pretrain.batch : 6);
      assert(step.params > 0);
    }
  }
});
