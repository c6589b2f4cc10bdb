import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { Params } from "../../src/model/params.ts";
import { selectBackend } from "../../src/backend/select.ts";
import {
  applyBnUpdates,
  averageDecayAt,
  startAverage,
  updateAverage,
} from "../../src/train/average.ts";

await tf.setBackend("cpu");

Deno.test("averageDecayAt() warms up as t / (t + 1) (a plain mean), then holds the decay", () => {
  assert.equal(averageDecayAt(0, 0.995), 0); // the first update replaces the start
  assert.equal(averageDecayAt(99, 0.995), 0.99);
  assert.equal(averageDecayAt(199, 0.995), 0.995);
  assert.equal(averageDecayAt(781, 0.998), 0.998);
  assert.equal(averageDecayAt(5, 0.2), 0.2);
});

Deno.test("startAverage() copies every variable; updateAverage() moves each toward the network", () => {
  const before = tf.memory().numTensors;
  const p = new Params();
  p.add("encoder.conv.w", tf.tensor1d([1, 2]));
  p.add("encoder.bn.mean", tf.tensor1d([4])); // running statistics are averaged too
  const avg = startAverage(p);
  tf.tidy(() => {
    p.get("encoder.conv.w").assign(tf.tensor1d([3, 6]));
    p.get("encoder.bn.mean").assign(tf.tensor1d([0]));
  });
  assert.deepEqual(Array.from(avg.get("encoder.conv.w").dataSync()), [1, 2]); // a copy
  updateAverage(avg, p, 0.75); // 0.75·[1, 2] + 0.25·[3, 6]; 0.75·4 + 0.25·0
  assert.deepEqual(Array.from(avg.get("encoder.conv.w").dataSync()), [1.5, 3]);
  assert.deepEqual(Array.from(avg.get("encoder.bn.mean").dataSync()), [3]);
  assert.equal(avg.get("encoder.bn.mean").trainable, false);
  p.dispose();
  avg.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("applyBnUpdates() folds the batch statistics in as 0.9 r + 0.1 s (tfjs's bits) on cpu and wasm, and disposes them", async () => {
  for (const backend of ["cpu", "wasm"] as const) {
    await selectBackend({ backend });
    const p = new Params();
    // 6 and 37 values: the kernel's 4-wide loop and its scalar tail.
    for (const [name, c] of [["a", 6], ["b", 37]] as const) {
      p.add(`${name}.mean`, tf.randomNormal([c], 0, 1, "float32", c));
      p.add(`${name}.var`, tf.randomUniform([c], 0.5, 2, "float32", c + 1));
    }
    const stats = (["a", "b"] as const).map((name, i) => {
      const c = p.get(`${name}.mean`).size;
      const mean = tf.randomNormal([c], 0, 1, "float32", 10 + i) as tf.Tensor1D;
      return { name, mean, variance: tf.square(mean) as tf.Tensor1D };
    });
    const want = stats.flatMap((u) =>
      (["mean", "var"] as const).map((k) =>
        tf.tidy(() =>
          tf.add(
            tf.mul(p.get(`${u.name}.${k}`), 0.9),
            tf.mul(k === "mean" ? u.mean : u.variance, 0.1),
          )
            .dataSync()
        )
      )
    );
    const before = tf.memory().numTensors;
    const updates = [...stats];
    applyBnUpdates(p, updates);
    assert.equal(updates.length, 0);
    assert.ok(stats.every((u) => u.mean.isDisposed && u.variance.isDisposed));
    assert.equal(
      tf.memory().numTensors,
      before - 4,
      `${backend}: the 4 statistics freed, nothing else`,
    );
    const got = (["a", "b"] as const).flatMap((n) =>
      [n + ".mean", n + ".var"].map((k) => p.get(k).dataSync())
    );
    got.forEach((g, i) => assert.deepEqual(g, want[i], `${backend} #${i}`));
    p.dispose();
  }
  await selectBackend({ backend: "cpu" });
});
