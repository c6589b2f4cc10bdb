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
