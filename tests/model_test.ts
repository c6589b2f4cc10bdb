import assert from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { type Config, SMOKE } from "../src/config.ts";
import { featureDim, resnetForward, resnetInit } from "../src/model/resnet.ts";
import { Params } from "../src/model/params.ts";
import { batchNorm, bnInit, conv, convBn, convInit } from "../src/model/layers.ts";
import { maxRelErr } from "./_grad_cases.ts";
import { classifierForward, initClassifier, initPretrainNets } from "../src/model/networks.ts";
import { saveModel } from "../src/model/io.ts";
import { load } from "../src/model/classifier.ts";
import { finetuneStep, pretrainStep } from "../src/train/step.ts";
import { Lars } from "../src/train/lars.ts";
import { Adam } from "../src/train/optimizers.ts";
import { Rng } from "../src/rng.ts";
import type { Dataset } from "../src/data/dataset.ts";

await tf.setBackend("cpu");

/** A tiny fake dataset: noise images, label i % 6. */
function fakeData(n: number, size: number): Dataset {
  return {
    name: "fake",
    length: n,
    size,
    label: (i) => i % 6,
    batch(indices) {
      const px = size * size * 3;
      const images = new Float32Array(indices.length * px);
      indices.forEach((i, k) => {
        const r = new Rng(i);
        for (let j = 0; j < px; j++) images[k * px + j] = r.uniform();
      });
      return Promise.resolve({
        images,
        labels: Int32Array.from(indices, (i) => i % 6),
        n: indices.length,
        size,
      });
    },
  };
}

Deno.test("resnetForward() gives [B, 512 x width] for ResNet-18 and [B, 2048 x width] for ResNet-50", () => {
  for (
    const arch of [
      { depth: 18 as const, width: 1 / 16, stem: "imagenet" as const, inputSize: 32 },
      { depth: 50 as const, width: 1 / 16, stem: "cifar" as const, inputSize: 16 },
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

Deno.test("pretrainStep() and finetuneStep() leak no tensors", async () => {
  const cfg: Config = SMOKE;
  const data = fakeData(8, 32);
  const p = initPretrainNets(cfg, { emotion: true });
  const opt = new Lars();
  const indices = [0, 1, 2, 3, 4, 5, 6, 7];
  await pretrainStep(p, opt, {
    cfg,
    data,
    indices,
    micro: 4,
    step: 0,
    lr: 0.1,
    total: 2,
    emotion: true,
  }); // creates slots
  let before = tf.memory().numTensors;
  const terms = await pretrainStep(p, opt, {
    cfg,
    data,
    indices,
    micro: 4,
    step: 1,
    lr: 0.1,
    total: 2,
    emotion: true,
  });
  assert.equal(tf.memory().numTensors, before);
  assert.ok(
    Number.isFinite(terms.byol) && Number.isFinite(terms.cls) && Number.isFinite(terms.orth),
  );
  const c = initClassifier(cfg, p);
  const adam = new Adam();
  await finetuneStep(c, adam, { cfg, data, indices, micro: 8, step: 0, lr: 1e-3 });
  before = tf.memory().numTensors;
  await finetuneStep(c, adam, { cfg, data, indices, micro: 8, step: 1, lr: 1e-3 });
  assert.equal(tf.memory().numTensors, before);
  opt.dispose();
  adam.dispose();
  p.dispose();
  c.dispose();
});

Deno.test("saveModel() then load() gives identical predictions (float32) and close ones (float16)", async () => {
  const cfg = SMOKE;
  const c = initClassifier(cfg);
  const x = tf.randomUniform([3, 32, 32, 3]) as tf.Tensor4D;
  const want = tf.tidy(() =>
    tf.softmax(
      classifierForward(
        c,
        tf.div(tf.sub(x, [0.485, 0.456, 0.406]), [0.229, 0.224, 0.225]) as tf.Tensor4D,
        {
          arch: cfg.arch,
          ctx: { train: false },
        },
      ),
    )
  );
  const dir = await Deno.makeTempDir();
  const meta = { config: cfg, method: "byel", backend: "cpu", seed: 0, version: "test" };
  await saveModel(`${dir}/m32`, c, { arch: cfg.arch, metadata: meta });
  await saveModel(`${dir}/m16`, c, { arch: cfg.arch, metadata: meta, float16: true });
  const m32 = await load(`${dir}/m32`);
  const got = m32.probabilities(x);
  assert.deepEqual(Array.from(got.dataSync()), Array.from(want.dataSync()));
  assert.equal(m32.metadata.method, "byel");
  const m16 = await load(`${dir}/m16`);
  const got16 = m16.probabilities(x);
  assert.ok(tf.max(tf.abs(tf.sub(got16, want))).dataSync()[0] < 1e-2);
  const s32 = (await Deno.stat(`${dir}/m32/weights.bin`)).size;
  const s16 = (await Deno.stat(`${dir}/m16/weights.bin`)).size;
  assert.equal(s16 * 2, s32);
  tf.dispose([x, want, got, got16]);
  m32.dispose();
  m16.dispose();
  c.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("maxPoolGrad3x3s2() equals the CPU backend's max-pool gradient", async () => {
  const { maxPoolGrad3x3s2 } = await import("../src/model/resnet.ts");
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

Deno.test("load() reads a model from an http URL", async () => {
  const cfg = SMOKE;
  const c = initClassifier(cfg);
  const dir = await Deno.makeTempDir();
  await saveModel(`${dir}/m`, c, {
    arch: cfg.arch,
    metadata: { config: cfg, method: "byel", backend: "cpu", seed: 0, version: "test" },
  });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    try {
      return new Response(await Deno.readFile(`${dir}/m${path}`));
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const x = tf.randomUniform([2, 32, 32, 3]) as tf.Tensor4D;
  const local = await load(`${dir}/m`);
  const remote = await load(url);
  const a = local.probabilities(x), b = remote.probabilities(x);
  assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
  tf.dispose([x, a, b]);
  local.dispose();
  remote.dispose();
  c.dispose();
  await server.shutdown();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("convBn() in evaluation (BatchNorm folded, fused conv) equals conv then BatchNorm then relu", async () => {
  const p = new Params();
  const rng = new Rng(5);
  convInit(p, "c", { k: 3, cin: 4, cout: 6, rng });
  bnInit(p, "bn", 6);
  const stats = (seed: number) => {
    p.get("bn.gamma").assign(tf.randomUniform([6], 0.5, 1.5, "float32", seed));
    p.get("bn.beta").assign(tf.randomNormal([6], 0, 1, "float32", seed + 1));
    p.get("bn.mean").assign(tf.randomNormal([6], 0, 1, "float32", seed + 2));
    p.get("bn.var").assign(tf.randomUniform([6], 0.2, 2, "float32", seed + 3));
  };
  const x = tf.randomNormal([2, 7, 7, 4], 0, 1, "float32", 9) as tf.Tensor4D;
  const ctx = { train: false };
  const reference = (stride: number, relu: boolean) =>
    tf.tidy(() => {
      const y = batchNorm(p, "bn", conv(p, "c", x, { stride }), ctx);
      return relu ? tf.relu(y) : y;
    });
  for (const seed of [1, 10]) {
    stats(seed); // new statistics: the folded weights must follow
    for (const [stride, relu] of [[1, true], [2, false]] as const) {
      const got = convBn(p, { conv: "c", bn: "bn" }, x, { stride, relu, ctx });
      const ref = reference(stride, relu);
      assert.deepEqual(got.shape, ref.shape);
      const e = maxRelErr(await got.data() as Float32Array, await ref.data() as Float32Array);
      assert.ok(e < 1e-5, `seed ${seed} stride ${stride}: ${e}`);
      tf.dispose([got, ref]);
    }
  }
  const before = tf.memory().numTensors;
  convBn(p, { conv: "c", bn: "bn" }, x, { stride: 1, relu: true, ctx }).dispose();
  assert.equal(tf.memory().numTensors, before, "the folded weights are reused, not remade");
  p.dispose();
  x.dispose();
});
