import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { SMOKE } from "../../src/config.ts";
import {
  byolLoss,
  crossEntropy,
  emaDecayAt,
  emotionVector,
  orthLoss,
  pretrainLoss,
  subtractEmotion,
  targetProjections,
  updateTarget,
} from "../../src/train/byel.ts";
import { orthogonalMatrix } from "../../src/model/heads.ts";
import { initPretrainNets } from "../../src/model/networks.ts";
import { Rng } from "../../src/rng.ts";

await tf.setBackend("cpu");

const close = (a: number, b: number, eps = 1e-5) =>
  assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);
const val = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

Deno.test("byolLoss() is (2 - 2cos(p1, z2)) + (2 - 2cos(p2, z1)), batch-averaged", () => {
  const p1 = tf.tensor2d([[1, 0], [0, 2]]);
  const z2 = tf.tensor2d([[3, 0], [0, -1]]); // cos 1 and -1: losses 0 and 4, mean 2
  const p2 = tf.tensor2d([[1, 1], [1, 0]]);
  const z1 = tf.tensor2d([[1, 1], [0, 5]]); // cos 1 and 0: losses 0 and 2, mean 1
  close(val(byolLoss(p1, p2, { z1, z2 })), 3);
  tf.dispose([p1, z2, p2, z1]);
});

Deno.test("subtractEmotion() is p - ||p|| W[:, c]", () => {
  const w = tf.tensor2d([[1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]]); // D = 2
  const p = tf.tensor2d([[3, 4], [3, 4]]); // ||p|| = 5
  const labels = tf.tensor1d([1, 0], "int32");
  const e = emotionVector(w, labels);
  assert.deepEqual(Array.from(e.dataSync()), [0, 1, 1, 0]);
  const out = subtractEmotion(p, w, labels);
  assert.deepEqual(Array.from(out.dataSync()), [3, -1, -2, 4]);
  tf.dispose([w, p, labels, e, out]);
});

Deno.test("orthLoss() is sum |I - W^T W|", () => {
  const q = tf.tensor2d(orthogonalMatrix(16, 6, new Rng(3)), [16, 6]);
  close(val(orthLoss(q)), 0, 1e-4);
  // Column 0 = e0 + e1, columns 1..5 = e1..e5: W^T W has (0,0) = 2, (0,1) = (1,0) = 1.
  const w = tf.buffer([6, 6]);
  for (let j = 0; j < 6; j++) w.set(1, j, j);
  w.set(1, 1, 0);
  const wt = w.toTensor() as tf.Tensor2D;
  close(val(orthLoss(wt)), 3);
  tf.dispose([q, wt]);
});

Deno.test("orthogonalMatrix() has orthonormal columns", () => {
  const m = orthogonalMatrix(256, 6, new Rng(1));
  for (let a = 0; a < 6; a++) {
    for (let b = 0; b < 6; b++) {
      let d = 0;
      for (let i = 0; i < 256; i++) d += m[i * 6 + a] * m[i * 6 + b];
      close(d, a === b ? 1 : 0, 1e-5);
    }
  }
});

Deno.test("crossEntropy() of uniform logits is ln K", () => {
  const l = tf.tensor2d([[0, 0], [5, 5]]);
  const y = tf.tensor1d([0, 1], "int32");
  close(val(crossEntropy(l, y)), Math.LN2);
  const l2 = tf.tensor2d([[Math.log(3), 0]]); // p = 3/4, 1/4
  const y2 = tf.tensor1d([1], "int32");
  close(val(crossEntropy(l2, y2)), Math.log(4));
  tf.dispose([l, y, l2, y2]);
});

Deno.test("crossEntropy() with class weights is -(1/B) sum w[y] log p[y]", () => {
  // Row 0: p = 3/4, 1/4, label 1: -log p = ln 4 = 2 ln 2, weight 1 -> 2 ln 2.
  // Row 1: uniform, label 0: -log p = ln 2, weight 3 -> 3 ln 2. Mean over B = 2: 2.5 ln 2.
  const l = tf.tensor2d([[Math.log(3), 0], [0, 0]]);
  const y = tf.tensor1d([1, 0], "int32");
  const w = tf.tensor1d([3, 1]);
  close(val(crossEntropy(l, y, w)), 2.5 * Math.LN2);
  // Unit weights give the unweighted loss: (ln 4 + ln 2) / 2.
  const ones = tf.tensor1d([1, 1]);
  close(val(crossEntropy(l, y, ones)), 1.5 * Math.LN2);
  close(val(crossEntropy(l, y)), 1.5 * Math.LN2);
  tf.dispose([l, y, w, ones]);
});

Deno.test("emaDecayAt() is constant, or rises from base to 1 on a cosine", () => {
  assert.equal(emaDecayAt(50, 100, { base: 0.99, schedule: "constant" }), 0.99);
  close(emaDecayAt(0, 100, { base: 0.99, schedule: "cosine" }), 0.99);
  close(emaDecayAt(50, 100, { base: 0.99, schedule: "cosine" }), 0.995);
  close(emaDecayAt(100, 100, { base: 0.99, schedule: "cosine" }), 1);
});

Deno.test("updateTarget() sets target = decay * target + (1 - decay) * online", () => {
  const p = initPretrainNets(SMOKE, { emotion: true });
  const name = "online.projector.fc2.b";
  const t = p.get(name.replace("online.", "target."));
  p.get(name).assign(tf.fill(t.shape, 3));
  t.assign(tf.fill(t.shape, 1));
  const before = tf.memory().numTensors;
  updateTarget(p, 0.99);
  assert.equal(tf.memory().numTensors, before);
  for (const v of t.dataSync()) close(v, 1.02);
  p.dispose();
});

Deno.test("pretrainLoss(): gradients reach the online networks, never the target", () => {
  const p = initPretrainNets(SMOKE, { emotion: true });
  const x = tf.randomUniform([4, 32, 32, 3]) as tf.Tensor4D;
  const v1 = x, v2 = tf.reverse(x, 2) as tf.Tensor4D;
  const labels = tf.tensor1d([0, 1, 2, 3], "int32");
  const targets = targetProjections(p, { v1, v2 }, SMOKE.arch);
  const all = p.trainable(); // online AND target variables offered to the tape
  const byEngine = new Map(all.map((n) => [p.get(n).name, n]));
  const { value, grads } = tf.variableGrads(
    () =>
      pretrainLoss(p, { v1, v2 }, {
        arch: SMOKE.arch,
        emotion: true,
        weights: SMOKE.pretrain.lossWeights,
        targets,
        labels,
        ctx: { train: true },
      }).total,
    all.map((n) => p.get(n)),
  );
  const got = Object.keys(grads).map((k) => byEngine.get(k)!);
  assert.ok(got.some((n) => n.startsWith("online.encoder.")));
  assert.ok(got.includes("online.emotion.w"));
  const targetGrads = Object.entries(grads).filter(([k]) => byEngine.get(k)!.startsWith("target."));
  for (const [, g] of targetGrads) assert.equal(tf.max(tf.abs(g)).dataSync()[0], 0);
  tf.dispose([value, x, v2, labels, targets.z1, targets.z2, ...Object.values(grads)]);
  p.dispose();
});
