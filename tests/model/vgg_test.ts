import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { selectBackend } from "../../src/backend/select.ts";
import type { ArchConfig } from "../../src/config.ts";
import { encoderForward, encoderInit, featureDim } from "../../src/model/encoder.ts";
import { Params } from "../../src/model/params.ts";
import { Rng } from "../../src/rng.ts";

const arch: ArchConfig = {
  family: "vgg",
  inputNorm: "imagenet",
  norm: "batch",
  depth: 18,
  width: 0.25,
  stem: "imagenet",
  inputSize: 48,
};

Deno.test("the vgg encoder gives [B, 512 x width] and keeps 8 convolutions of 16..128 channels", async () => {
  await selectBackend({ backend: "cpu" });
  const p = new Params();
  assert.equal(encoderInit(p, "enc", { arch, rng: new Rng(0) }), 128);
  assert.equal(featureDim(arch), 128);
  assert.deepEqual(
    p.names().filter((n) => n.endsWith(".conv.w")).map((n) => p.get(n).shape[3]),
    [16, 16, 32, 32, 64, 64, 128, 128],
  );
  const x = tf.randomNormal([2, 48, 48, 3]) as tf.Tensor4D;
  const run = () => tf.tidy(() => encoderForward(p, "enc", x, { arch, ctx: { train: false } }));
  tf.dispose(run()); // the first call folds each BatchNorm into its convolution and keeps that
  const before = tf.memory().numTensors;
  const y = run();
  assert.deepEqual(y.shape, [2, 128]);
  assert.equal(tf.memory().numTensors, before + 1);
  tf.dispose([x, y]);
  p.dispose();
});

Deno.test("the ibn vgg encoder has instance norm (no running statistics) in stages 1-2 and trains alike on wasm and cpu", async () => {
  const ibn: ArchConfig = { ...arch, norm: "ibn", width: 1 / 8, inputSize: 32 };
  const run = async (b: "cpu" | "wasm") => {
    await selectBackend({ backend: b });
    const p = new Params();
    encoderInit(p, "enc", { arch: ibn, rng: new Rng(3) });
    const x = tf.tensor4d(Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => Math.sin(i * 0.37)), [
      2,
      32,
      32,
      3,
    ]);
    const vars = p.trainable().map((n) => p.get(n));
    const { value, grads } = tf.variableGrads(
      () =>
        tf.sum(
          tf.square(encoderForward(p, "enc", x, { arch: ibn, ctx: { train: true } })),
        ) as tf.Scalar,
      vars,
    );
    const names = p.names();
    const out = { loss: (await value.data())[0], g: await grads[vars[0].name].data(), names };
    tf.dispose([x, value, ...Object.values(grads)]);
    p.dispose();
    return out;
  };
  const c = await run("cpu"), w = await run("wasm");
  assert.ok(c.names.includes("enc.stage1.0.in.gamma") && !c.names.includes("enc.stage1.0.bn.mean"));
  assert.ok(c.names.includes("enc.stage3.0.bn.mean"));
  assert.ok(Math.abs(c.loss - w.loss) < 1e-3 * Math.abs(c.loss), `${c.loss} vs ${w.loss}`);
  c.g.forEach((v, i) => assert.ok(Math.abs(v - w.g[i]) < 1e-3 * (1 + Math.abs(v))));
  await selectBackend({ backend: "cpu" });
});
