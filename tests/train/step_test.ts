/**
 * The real training steps: they leak nothing, every kernel they run is registered on cpu, wasm
 * and webgpu, and one pretraining plus one fine-tuning step give the same losses and weights on
 * every backend (webgpu where an adapter exists, e.g. Mesa's software Vulkan on CI).
 */
import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { type Config, SMOKE } from "../../src/config.ts";
import { selectBackend } from "../../src/backend/select.ts";
import { probeAdapter } from "../../src/backend/webgpu.ts";
import { SyntheticFaces } from "../../src/data/synth/dataset.ts";
import { initClassifier, initPretrainNets } from "../../src/model/networks.ts";
import type { Params } from "../../src/model/params.ts";
import { makeOptimizer } from "../../src/train/checkpoint.ts";
import { finetuneStep, pretrainStep } from "../../src/train/step.ts";
import { maxRelErr } from "../_helpers/grad_cases.ts";

const hasAdapter = typeof (await probeAdapter()) !== "string";
const cfg: Config = SMOKE;
const data = new SyntheticFaces({ domain: "synthetic", seed: 1, size: 32, length: 16 });
const indices = [0, 1, 2, 3, 4, 5, 6, 7];
const batch = await data.batch(indices);

/**
 * One step of each stage, each from fresh weights (chained steps would compare chaos: a batch
 * of 4 through BatchNorm at 1x1 turns float rounding into percent-level differences after an
 * update); returns their terms and some of the updated weights.
 */
async function runSteps(): Promise<{ terms: Record<string, number>[]; weights: Float32Array[] }> {
  const nets = initPretrainNets(cfg, { emotion: true });
  const lars = makeOptimizer("lars", cfg.pretrain);
  const common = { cfg, data, indices, batch, step: 0 };
  const terms = [
    await pretrainStep(nets, lars, { ...common, lr: 0.2, micro: 4, total: 2, emotion: true }),
  ];
  const classifier = initClassifier(cfg);
  const adam = makeOptimizer("adam", cfg.finetune);
  terms.push(await finetuneStep(classifier, adam, { ...common, micro: 8, lr: 1e-3 }));
  const weights = await _values(classifier, ["encoder.stem.conv.w", "head.fc.w", "head.fc.b"]);
  weights.push(
    ...await _values(nets, [
      "online.encoder.stem.conv.w",
      "online.encoder.layer4.1.bn2.beta",
      "target.projector.fc2.w",
      "online.emotion.w",
    ]),
  );
  for (const x of [nets, classifier, lars, adam]) x.dispose();
  return { terms, weights };
}

async function _values(p: Params, names: string[]): Promise<Float32Array[]> {
  return await Promise.all(names.map((n) => p.get(n).data() as Promise<Float32Array>));
}

Deno.test("pretrainStep() and finetuneStep() leak no tensors and report finite terms", async () => {
  await selectBackend({ backend: "cpu" });
  const nets = initPretrainNets(cfg, { emotion: true });
  const lars = makeOptimizer("lars", cfg.pretrain);
  const s = { cfg, data, indices, micro: 4, lr: 0.1, total: 2, emotion: true };
  await pretrainStep(nets, lars, { ...s, step: 0 }); // creates the optimizer's slots
  let before = tf.memory().numTensors;
  const terms = await pretrainStep(nets, lars, { ...s, step: 1 });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(Object.keys(terms), ["loss", "byol", "cls", "orth"]);
  for (const v of Object.values(terms)) assert.ok(Number.isFinite(v));
  // loss is the weighted total of the terms (all weights 1 in the recipe)
  assert.ok(Math.abs(terms.loss - (terms.byol + terms.cls + terms.orth)) < 1e-4);
  const c = initClassifier(cfg, nets);
  const adam = makeOptimizer("adam", cfg.finetune);
  await finetuneStep(c, adam, { ...s, micro: 8, step: 0, lr: 1e-3 });
  before = tf.memory().numTensors;
  const ft = await finetuneStep(c, adam, { ...s, micro: 8, step: 1, lr: 1e-3 });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(Object.keys(ft), ["loss"]);
  for (const x of [nets, lars, c, adam]) x.dispose();
});

Deno.test("plain BYOL's pretrainStep() has only the byol term, BYEL's loss weights apply", async () => {
  await selectBackend({ backend: "cpu" });
  const s = { cfg, data, indices, batch, micro: 8, lr: 0.1, total: 1, step: 0 };
  const byol = initPretrainNets(cfg, { emotion: false });
  const t = await pretrainStep(byol, makeOptimizer("lars", cfg.pretrain), { ...s, emotion: false });
  assert.deepEqual(Object.keys(t), ["loss", "byol"]);
  assert.ok(Math.abs(t.loss - t.byol) < 1e-6);
  const weighted = {
    ...cfg,
    pretrain: { ...cfg.pretrain, lossWeights: { byol: 1, cls: 0.5, orth: 2 } },
  };
  const nets = initPretrainNets(weighted, { emotion: true });
  const w = await pretrainStep(nets, makeOptimizer("lars", cfg.pretrain), {
    ...s,
    cfg: weighted,
    emotion: true,
  });
  assert.ok(Math.abs(w.loss - (w.byol + 0.5 * w.cls + 2 * w.orth)) < 1e-4);
  byol.dispose();
  nets.dispose();
});

Deno.test("every kernel of the real training steps is registered on cpu, wasm and webgpu", async () => {
  await selectBackend({ backend: "cpu" });
  const prof = await tf.profile(() => runSteps());
  // kernelNames also lists custom-gradient scopes, which are not kernels; everything that ran as
  // a kernel on CPU is registered there.
  const used = [...new Set(prof.kernelNames)].filter((k) => tf.getKernel(k, "cpu")).sort();
  // The steps really exercise the training kernels (convolution gradients, the optimizers'
  // norms and square roots, the orthogonality penalty's Abs, softmax cross-entropy's Exp).
  for (
    const k of [
      "Conv2D",
      "Conv2DBackpropFilter",
      "Conv2DBackpropInput",
      "MaxPool",
      "MaxPoolGrad",
      "BatchMatMul",
      "Relu",
      "Sqrt",
      "Abs",
      "Exp",
      "Transform",
    ]
  ) assert.ok(used.includes(k), `${k} not used; used: ${used.join(" ")}`);
  const missing = ["cpu", "wasm", "webgpu"].flatMap((b) =>
    used.filter((k) => !tf.getKernel(k, b)).map((k) => `${b}:${k}`)
  );
  assert.deepEqual(missing, []);
});

Deno.test("the real training steps give the same losses and weights on cpu, wasm and webgpu", async () => {
  await selectBackend({ backend: "cpu" });
  const ref = await runSteps();
  const others: ["wasm" | "webgpu", number][] = [["wasm", 2e-3]];
  if (hasAdapter) others.push(["webgpu", 5e-3]);
  else console.log("no WebGPU adapter here: the webgpu half of this test is skipped");
  for (const [b, tol] of others) {
    await selectBackend({ backend: b });
    const n0 = tf.memory().numTensors;
    const got = await runSteps();
    assert.equal(tf.memory().numTensors, n0, `${b}: the steps leaked tensors`);
    got.terms.forEach((t, i) => {
      for (const [k, v] of Object.entries(t)) {
        const r = ref.terms[i][k];
        assert.ok(Math.abs(v - r) <= tol * (1 + Math.abs(r)), `${b} step ${i} ${k}: ${v} vs ${r}`);
      }
    });
    got.weights.forEach((w, i) => {
      const e = maxRelErr(w, ref.weights[i]);
      assert.ok(e < tol, `${b} weights[${i}] max rel err ${e}`);
    });
  }
  await selectBackend({ backend: "cpu" });
});

Deno.test("BYEL's emotion classifier learns through pretrainStep() on a separable set", async () => {
  await selectBackend({ backend: "wasm" });
  // Six classes told apart by colour alone: class c tints its images towards hue c.
  const size = 32, n = 36;
  const separable = {
    name: "tints",
    length: n,
    size,
    label: (i: number) => i % 6,
    batch(idx: readonly number[]) {
      const px = size * size * 3, images = new Float32Array(idx.length * px);
      idx.forEach((i, k) => {
        const c = i % 6, tint = [c & 1 ? 0.8 : 0.2, c & 2 ? 0.8 : 0.2, c >= 4 ? 0.8 : 0.2];
        for (let j = 0; j < px; j++) {
          images[k * px + j] = 0.5 * tint[j % 3] + 0.5 * Math.abs(Math.sin(i * 7.3 + j * 0.37));
        }
      });
      return Promise.resolve({
        images,
        labels: Int32Array.from(idx, (i) => i % 6),
        n: idx.length,
        size,
      });
    },
  };
  const c: Config = {
    ...cfg,
    arch: { ...cfg.arch, inputSize: size }, // the smoke ResNet (1/16 width)
    pretrain: { ...cfg.pretrain, optimizer: "adam", lr: 3e-3, batch: 12, microBatch: 0 },
  };
  const nets = initPretrainNets(c, { emotion: true });
  const adam = makeOptimizer("adam", c.pretrain);
  const cls: number[] = [];
  for (let step = 0; step < 24; step++) {
    const indices = Array.from({ length: 12 }, (_, k) => (step * 12 + k) % n);
    const t = await pretrainStep(nets, adam, {
      cfg: c,
      data: separable,
      indices,
      micro: 12,
      step,
      lr: 3e-3,
      total: 24,
      emotion: true,
    });
    cls.push(t.cls);
  }
  const chance = 2 * Math.log(6);
  const last = (cls.at(-1)! + cls.at(-2)! + cls.at(-3)!) / 3;
  assert.ok(cls[0] > 0.9 * chance, `the first step starts near chance: ${cls[0]}`);
  assert.ok(last < 0.8 * chance, `cls fell from ${cls[0].toFixed(3)} to ${last.toFixed(3)}`);
  nets.dispose();
  adam.dispose();
  await selectBackend({ backend: "cpu" });
});
