import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { featureDim, resnetForward, resnetInit } from "../../src/model/resnet.ts";
import { Params } from "../../src/model/params.ts";
import { Rng } from "../../src/rng.ts";

await tf.setBackend("cpu");

Deno.test("resnetForward() gives [B, 512 x width] for ResNet-18 and [B, 2048 x width] for ResNet-50", () => {
  for (
    const arch of [
      {
        family: "resnet" as const,
        inputNorm: "imagenet" as const,
        norm: "batch" as const,
        depth: 18 as const,
        width: 1 / 16,
        stem: "imagenet" as const,
        inputSize: 32,
      },
      {
        family: "resnet" as const,
        inputNorm: "imagenet" as const,
        norm: "batch" as const,
        depth: 50 as const,
        width: 1 / 16,
        stem: "cifar" as const,
        inputSize: 16,
      },
    ]
  ) {
    const p = new Params();
    const f = resnetInit(p, "enc", { arch, rng: new Rng(0) });
    assert.equal(f, featureDim(arch));
    const x = tf.randomNormal([2, arch.inputSize, arch.inputSize, 3]) as tf.Tensor4D;
    const y = tf.tidy(() => resnetForward(p, "enc", x, { arch, ctx: { train: false } }));
    assert.deepEqual(y.shape, [2, f]);
    tf.dispose([x, y]);
    p.dispose();
  }
});

Deno.test("maxPoolGrad3x3s2() equals the CPU backend's max-pool gradient", async () => {
  const { maxPoolGrad3x3s2 } = await import("../../src/model/resnet.ts");
  for (const shape of [[2, 8, 8, 5], [1, 9, 7, 3]] as [number, number, number, number][]) {
    const x = tf.randomNormal(shape) as tf.Tensor4D;
    const y = tf.maxPool(x, 3, 2, 1);
    const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
    const ga = maxPoolGrad3x3s2(x, dy);
    const gb = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 3, 2, 1), dy)))(
      x,
    );
    assert.ok(tf.max(tf.abs(tf.sub(ga, gb))).dataSync()[0] < 1e-6);
    tf.dispose([x, y, dy, ga, gb]);
  }
});
