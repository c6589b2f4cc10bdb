/**
 * Ensembles: the mean of the networks' probabilities (hand-computed), the saved format
 * round-tripped against the separately loaded networks, `buildEnsemble`'s checks, test-time
 * adaptation of every network, and no leaked tensors.
 */
import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { type Config, SMOKE } from "../../src/config.ts";
import type { Dataset } from "../../src/data/dataset.ts";
import { prepareImages } from "../../src/data/augment.ts";
import { adaptBatchNorm } from "../../src/eval/adapt.ts";
import { load } from "../../src/model/classifier.ts";
import { buildEnsemble, describeModel, meanProbabilityLogits } from "../../src/model/ensemble.ts";
import { loadModelParams, saveModel } from "../../src/model/io.ts";
import type { BnUpdate } from "../../src/model/layers.ts";
import { classifierForward, initClassifier } from "../../src/model/networks.ts";
import { UserError } from "../../src/errors.ts";

await tf.setBackend("cpu");

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
};

/** Saves a SMOKE classifier initialised with `seed` (BatchNorm statistics made non-trivial). */
async function savedNet(dir: string, seed: number, cfg: Config = SMOKE): Promise<string> {
  const p = initClassifier({ ...cfg, seed });
  for (const n of p.names()) {
    if (n.endsWith(".mean")) p.get(n).assign(tf.fill(p.get(n).shape, 0.1 * seed));
  }
  await saveModel(dir, p, {
    arch: cfg.arch,
    metadata: {
      config: { ...cfg, seed },
      method: "baseline",
      backend: "cpu",
      seed,
      version: "test",
      metrics: { macroF1: 0.1 * seed },
    },
  });
  p.dispose();
  return dir;
}

/** A tiny in-memory dataset of random images. */
function randomImages(n: number, size: number): Dataset {
  const images = new Float32Array(n * size * size * 3).map((_, i) => ((i * 7919) % 1000) / 1000);
  const px = size * size * 3;
  return {
    name: "random",
    length: n,
    size,
    label: (i) => i % 6,
    batch: (idx: number[]) => {
      const out = new Float32Array(idx.length * px);
      idx.forEach((i, k) => out.set(images.subarray(i * px, (i + 1) * px), k * px));
      return Promise.resolve({
        images: out,
        labels: Int32Array.from(idx, (i) => i % 6),
        n: idx.length,
        size,
      });
    },
  } as Dataset;
}

Deno.test("meanProbabilityLogits(): softmax of the result is the mean of the probabilities", () => {
  // A: [0, ln 3] -> [1/4, 3/4]; B: [ln 3, 0] -> [3/4, 1/4]; mean [1/2, 1/2]
  // C: [0, 0, 0] -> 1/3 each; D: [ln 2, 0, 0] -> [1/2, 1/4, 1/4]; mean [5/12, 7/24, 7/24]
  const a = tf.tensor2d([[0, Math.log(3)], [0, 0]]), b = tf.tensor2d([[Math.log(3), 0], [0, 0]]);
  const z = meanProbabilityLogits([a, b]);
  close(z.dataSync(), [Math.log(0.5), Math.log(0.5), Math.log(0.5), Math.log(0.5)], 1e-6, "2x2");
  const c = tf.tensor2d([[0, 0, 0]]), d = tf.tensor2d([[Math.log(2) + 5, 5, 5]]); // shift-invariant
  const z3 = meanProbabilityLogits([c, d]);
  close(z3.dataSync(), [5 / 12, 7 / 24, 7 / 24].map(Math.log), 1e-6, "1x3");
  const one = meanProbabilityLogits([d]);
  close(one.dataSync(), d.dataSync(), 0, "one network");
  assert.throws(() => meanProbabilityLogits([]));
  tf.dispose([a, b, z, c, d, z3, one]);
});

Deno.test("an ensemble saved and loaded reads each image as the mean of its networks (both tta modes, float16 too)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "byel_ens_" });
  const paths = [await savedNet(`${dir}/a`, 1), await savedNet(`${dir}/b`, 2)];
  const singles = await Promise.all(paths.map((p) => load(p)));
  const x = tf.randomUniform([3, 32, 32, 3], 0, 1, "float32", 5) as tf.Tensor4D;
  const meta = await buildEnsemble(paths, `${dir}/ens`);
  assert.equal(describeModel(meta), "baseline, ensemble of 2: seeds 1, 2");
  assert.deepEqual(meta.members?.map((m) => [m.seed, m.from, m.metrics]), [
    [1, paths[0], { macroF1: 0.1 }],
    [2, paths[1], { macroF1: 0.2 }],
  ]);
  const ens = await load(`${dir}/ens`);
  assert.equal(ens.members.length, 2);
  assert.equal(ens.metadata.seed, 1);
  for (const tta of ["none", "scales"] as const) {
    const want = tf.tidy(() =>
      tf.div(tf.add(singles[0].probabilities(x, { tta }), singles[1].probabilities(x, { tta })), 2)
    );
    const got = ens.probabilities(x, { tta });
    close(got.dataSync(), want.dataSync(), 1e-6, `tta ${tta}`);
    // the two networks really differ, so the mean is not either of them
    const p0 = singles[0].probabilities(x, { tta });
    assert.ok(tf.max(tf.abs(tf.sub(p0, got))).dataSync()[0] > 1e-4);
    tf.dispose([want, got, p0]);
  }
  const cls = await ens.classify(x);
  assert.equal(cls.length, 3);
  // float16, and an ensemble of an ensemble and a network: three networks
  await buildEnsemble([`${dir}/ens`, paths[0]], `${dir}/ens3`, { float16: true });
  const ens3 = await load(`${dir}/ens3`);
  assert.equal(ens3.members.length, 3);
  assert.deepEqual(ens3.metadata.members?.map((m) => m.seed), [1, 2, 1]);
  assert.match(ens3.metadata.members![0].from, /ens \(.*a\)$/);
  const want3 = tf.tidy(() =>
    tf.div(
      tf.add(
        tf.mul(singles[0].probabilities(x, { tta: "none" }), 2),
        singles[1].probabilities(x, { tta: "none" }),
      ),
      3,
    )
  );
  const got3 = ens3.probabilities(x, { tta: "none" });
  close(got3.dataSync(), want3.dataSync(), 1e-2, "float16 ensemble of three");
  const single = (await Deno.stat(`${paths[0]}/weights.bin`)).size;
  assert.equal((await Deno.stat(`${dir}/ens/weights.bin`)).size, 2 * single);
  assert.equal((await Deno.stat(`${dir}/ens3/weights.bin`)).size, (3 * single) / 2);
  tf.dispose([x, want3, got3]);
  for (const m of [...singles, ens, ens3]) m.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("buildEnsemble() refuses other architectures and a single network, naming the model", async () => {
  const dir = await Deno.makeTempDir({ prefix: "byel_ens_" });
  const a = await savedNet(`${dir}/a`, 1);
  const wide = await savedNet(`${dir}/wide`, 2, {
    ...SMOKE,
    arch: { ...SMOKE.arch, width: 1 / 8 },
  });
  await assert.rejects(
    () => buildEnsemble([a, wide], `${dir}/out`),
    (e: Error) =>
      e instanceof UserError && e.message.includes(`${dir}/wide: its network`) &&
      /an ensemble needs one architecture/.test(e.message),
  );
  await assert.rejects(
    () => buildEnsemble([a], `${dir}/out`),
    (e: Error) => e instanceof UserError && /two or more networks, got 1/.test(e.message),
  );
  await assert.rejects(() => Deno.stat(`${dir}/out`), Deno.errors.NotFound); // nothing written
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a model.json whose weights belong to no network is refused with one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "byel_ens_" });
  await buildEnsemble([await savedNet(`${dir}/a`, 1), await savedNet(`${dir}/b`, 2)], `${dir}/e`);
  const json = JSON.parse(await Deno.readTextFile(`${dir}/e/model.json`));
  json.modelTopology.members = 1; // the weights are named member0.* / member1.*
  await Deno.writeTextFile(`${dir}/e/model.json`, JSON.stringify(json));
  await assert.rejects(
    () => loadModelParams(`${dir}/e`),
    (e: Error) =>
      e instanceof UserError && /weight member0\..* belongs to no network/.test(e.message),
  );
  json.modelTopology.members = 0;
  await Deno.writeTextFile(`${dir}/e/model.json`, JSON.stringify(json));
  await assert.rejects(
    () => loadModelParams(`${dir}/e`),
    (e: Error) => e instanceof UserError && /"members": 0/.test(e.message),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("adaptBatchNorm() on an ensemble re-estimates every network as it would alone, and restores them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "byel_ens_" });
  const paths = [await savedNet(`${dir}/a`, 1), await savedNet(`${dir}/b`, 2)];
  await buildEnsemble(paths, `${dir}/ens`);
  const ens = await load(`${dir}/ens`);
  const data = randomImages(10, 32);
  const before = ens.members.map((p) =>
    new Map(
      p.names().filter((n) => /\.(mean|var)$/.test(n)).map((n) => [n, p.get(n).dataSync().slice()]),
    )
  );
  // one batch of all images: the statistics are the batch's, whatever the order
  const a = await adaptBatchNorm(ens, data, { batch: 10 });
  assert.equal(a.images, 10);
  const b = await data.batch([...Array(10).keys()]);
  for (const [i, p] of ens.members.entries()) {
    const updates: BnUpdate[] = [];
    tf.tidy(() =>
      classifierForward(
        p,
        prepareImages(tf.tensor4d(b.images, [10, 32, 32, 3]), ens.arch),
        { arch: ens.arch, ctx: { train: true, bnUpdates: updates } },
      )
    );
    assert.equal(updates.length * 2, a.layers);
    for (const u of updates) {
      close(p.get(`${u.name}.mean`).dataSync(), u.mean.dataSync(), 1e-5, `net ${i} ${u.name}.mean`);
      close(
        p.get(`${u.name}.var`).dataSync(),
        u.variance.dataSync(),
        1e-4,
        `net ${i} ${u.name}.var`,
      );
      tf.dispose([u.mean, u.variance]);
    }
  }
  a.restore();
  for (const [i, p] of ens.members.entries()) {
    for (const [n, v] of before[i]) close(p.get(n).dataSync(), v, 0, `net ${i} ${n} restored`);
  }
  ens.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loading, reading and disposing an ensemble leaks no tensor", async () => {
  const dir = await Deno.makeTempDir({ prefix: "byel_ens_" });
  await buildEnsemble([await savedNet(`${dir}/a`, 1), await savedNet(`${dir}/b`, 2)], `${dir}/e`);
  const x = tf.randomUniform([2, 32, 32, 3]) as tf.Tensor4D;
  const n0 = tf.memory().numTensors;
  const ens = await load(`${dir}/e`);
  const p = ens.probabilities(x);
  await ens.classify(x);
  const a = await adaptBatchNorm(ens, randomImages(6, 32), { batch: 3 });
  a.restore();
  p.dispose();
  ens.dispose();
  assert.equal(tf.memory().numTensors, n0);
  x.dispose();
  await Deno.remove(dir, { recursive: true });
});
