import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { prepareImages } from "../../src/data/augment.ts";
import { DEFAULT_TTA, parseTta, ttaProbabilities, ttaViews } from "../../src/eval/tta.ts";
import { load } from "../../src/model/classifier.ts";
import { UserError } from "../../src/errors.ts";

await tf.setBackend("cpu");

/** `[1, S, S, 3]` whose every pixel holds its column index x (all channels). */
function ramp(S: number): tf.Tensor4D {
  const d = new Float32Array(S * S * 3);
  for (let i = 0; i < S * S; i++) d.fill(i % S, i * 3, i * 3 + 3);
  return tf.tensor4d(d, [1, S, S, 3]);
}

Deno.test("ttaViews(): the crop, its mirror, and centred zooms to 90% and 80% of the side, each mirrored", async () => {
  const S = 11, x = ramp(S);
  const views = ttaViews(x, "scales");
  assert.equal(views.length, 6);
  assert.equal(views[0], x);
  for (const [k, keep] of [[0, 1], [2, 0.9], [4, 0.8]] as const) {
    const v = (await views[k].data()) as Float32Array,
      w = (await views[k + 1].data()) as Float32Array;
    assert.deepEqual(views[k].shape, [1, S, S, 3]);
    // a centred box keeping `keep` of the side samples column j at m (S - 1) + keep j
    const m = (1 - keep) / 2;
    for (let y = 0; y < S; y++) {
      for (let j = 0; j < S; j++) {
        const want = m * (S - 1) + keep * j;
        assert.ok(Math.abs(v[(y * S + j) * 3] - want) < 1e-4, `keep ${keep} (${y}, ${j})`);
        // the mirror reads the row backwards
        assert.ok(Math.abs(w[(y * S + j) * 3] - v[(y * S + S - 1 - j) * 3]) < 1e-6);
      }
    }
  }
  tf.dispose(views.slice(1));
  assert.deepEqual(ttaViews(x, "none"), [x]);
  x.dispose();
});

Deno.test("ttaProbabilities() is the mean of the views' softmaxes; none is the crop alone; nothing leaks", () => {
  const arch = { inputSize: 8, inputNorm: "imagenet" as const };
  // a fixed linear read-out of the normalised image (shapes: [B, 8, 8, 3] -> [B, 6])
  const w = tf.randomNormal([8 * 8 * 3, 6], 0, 0.5, "float32", 7);
  const logits = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [x.shape[0], -1]), w) as tf.Tensor2D;
  const x = tf.randomUniform([3, 8, 8, 3], 0, 1, "float32", 3) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const p = ttaProbabilities(logits, x, arch, "scales");
  assert.equal(tf.memory().numTensors, before + 1);
  const want = tf.tidy(() => {
    const views = ttaViews(x, "scales");
    return tf.div(tf.addN(views.map((v) => tf.softmax(logits(prepareImages(v, arch))))), 6);
  });
  const [pa, wa] = [p.arraySync(), want.arraySync()] as number[][][];
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(pa[i].reduce((s, v) => s + v, 0) - 1) < 1e-5);
    for (let c = 0; c < 6; c++) assert.ok(Math.abs(pa[i][c] - wa[i][c]) < 1e-6);
  }
  const none = ttaProbabilities(logits, x, arch, "none");
  const plain = tf.tidy(() => tf.softmax(logits(prepareImages(x, arch))));
  assert.ok(tf.max(tf.abs(tf.sub(none, plain))).dataSync()[0] < 1e-7);
  assert.ok(tf.max(tf.abs(tf.sub(none, p))).dataSync()[0] > 1e-4); // the views do differ
  tf.dispose([w, x, p, want, none, plain]);
});

Deno.test("a model classifies with the six views by default, the crop alone with tta none", async () => {
  assert.equal(DEFAULT_TTA, "scales");
  const m = await load("models/byel-quick");
  const s = m.arch.inputSize;
  const x = tf.randomUniform([2, s, s, 3], 0, 1, "float32", 11) as tf.Tensor4D;
  await m.classify(x, { tta: "none" }); // first call: the network's cached constants
  const before = tf.memory().numTensors;
  const byDefault = await m.classify(x);
  const scales = await m.classify(x, { tta: "scales" });
  const none = await m.classify(x, { tta: "none" });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(byDefault, scales);
  const mean = tf.tidy(() => m.probabilities(x, { tta: "scales" }).arraySync()) as number[][];
  const one = tf.tidy(() => m.probabilities(x, { tta: "none" }).arraySync()) as number[][];
  for (let i = 0; i < 2; i++) {
    for (
      const [c, e] of ["anger", "disgust", "fear", "happiness", "sadness", "surprise"].entries()
    ) {
      const key = e as keyof typeof none[0]["probabilities"];
      assert.ok(Math.abs(scales[i].probabilities[key] - mean[i][c]) < 1e-6);
      assert.ok(Math.abs(none[i].probabilities[key] - one[i][c]) < 1e-6);
    }
  }
  x.dispose();
  m.dispose();
});

Deno.test("parseTta() takes scales and none, defaulting to scales", () => {
  assert.equal(parseTta(undefined), "scales");
  assert.equal(parseTta("none"), "none");
  assert.throws(
    () => parseTta("flip"),
    (e: Error) =>
      e instanceof UserError &&
      /--tta flip is not allowed: expected one of scales, none/.test(e.message),
  );
});
