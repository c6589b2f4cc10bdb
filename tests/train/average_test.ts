import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { Params } from "../../src/model/params.ts";
import { averageDecayAt, startAverage, updateAverage } from "../../src/train/average.ts";

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
