/**
 * Training-step throughput per backend: a supervised step (forward with BatchNorm in training
 * mode, softmax cross-entropy on a linear head, backward, SGD update) of a ResNet, on random
 * images. Prints one JSON object.
 *
 *   deno task bench [--backends wasm,webgpu,cpu] [--depth 18] [--width 1] [--size 64]
 *                   [--batch 32] [--steps 3] [--threads N]
 *
 * The first step of each backend is a warm-up (kernel set-up, shader compilation) and is not
 * timed. Backends that cannot start are reported with their reason instead of a number.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { tf } from "../src/deps.ts";
import { selectBackend } from "../src/backend/select.ts";
import { resnetForward, resnetInit } from "../src/model/resnet.ts";
import { Params } from "../src/model/params.ts";
import { Rng } from "../src/train/rng.ts";
import type { ArchConfig } from "../src/config.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    backends: { type: "string", default: "wasm,webgpu,cpu" },
    depth: { type: "string", default: "18" },
    width: { type: "string", default: "1" },
    size: { type: "string", default: "64" },
    batch: { type: "string", default: "32" },
    steps: { type: "string", default: "3" },
    threads: { type: "string" },
  },
});
const arch: ArchConfig = {
  depth: Number(values.depth) as 18 | 50,
  width: Number(values.width),
  stem: "imagenet",
  inputSize: Number(values.size),
};
const batch = Number(values.batch), steps = Number(values.steps);

/** One timed run on the active backend. */
async function measure(): Promise<{ stepMs: number[]; params: number }> {
  const p = new Params();
  const dim = resnetInit(p, "net", { arch, rng: new Rng(1) });
  p.add("head.w", tf.randomNormal([dim, 6], 0, 0.01, "float32", 2));
  const trainable = p.trainable().map((n) => p.get(n));
  const x = tf.randomUniform([batch, arch.inputSize, arch.inputSize, 3], 0, 1, "float32", 3);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 6), "int32"), 6);
  const stepMs: number[] = [];
  for (let s = 0; s <= steps; s++) {
    const t0 = performance.now();
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const feat = resnetForward(p, "net", x as tf.Tensor4D, { arch, ctx: { train: true } });
        return tf.losses.softmaxCrossEntropy(y, tf.matMul(feat, p.get("head.w"))) as tf.Scalar;
      }, trainable);
      for (const v of trainable) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.01)));
      return value;
    });
    await loss.data(); // wait for the device
    loss.dispose();
    if (s > 0) stepMs.push(performance.now() - t0);
  }
  const params = p.count();
  tf.dispose([x, y]);
  p.dispose();
  return { stepMs, params };
}

const rows = [];
for (const name of values.backends.split(",")) {
  try {
    const threads = values.threads ? Number(values.threads) : undefined;
    const info = await selectBackend({ backend: name as "wasm", threads });
    const { stepMs, params } = await measure();
    const median = [...stepMs].sort((a, b) => a - b)[Math.floor(stepMs.length / 2)];
    const row = {
      backend: info.name,
      simd: info.simd,
      threads: info.threads,
      adapter: info.adapter && info.name === "webgpu" ? info.adapter.description : undefined,
      params,
      img_s: Number((batch / (median / 1000)).toFixed(2)),
      step_ms: stepMs.map((v) => Math.round(v)),
    };
    rows.push(row);
    console.error(JSON.stringify(row)); // progress: the slow backends take minutes
  } catch (e) {
    rows.push({ backend: name, error: (e as Error).message });
  }
}
console.log(JSON.stringify({
  bench: "train_step",
  arch: `resnet${arch.depth}`,
  width: arch.width,
  size: arch.inputSize,
  batch,
  deno: Deno.version.deno,
  cores: navigator.hardwareConcurrency,
  rows,
}));
Deno.exit(0);
