import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { Lars } from "../../src/train/lars.ts";
import { close, record } from "../_helpers/optimizer_cases.ts";

await tf.setBackend("cpu");
Deno.test("Lars.apply() matches a hand-computed step", () => {
  const p = record();
  const grads = new Map<string, tf.Tensor>([
    ["layer.w", tf.tensor1d([0.6, 0.8])],
    ["layer.b", tf.tensor1d([0.5])],
    ["bn.gamma", tf.tensor1d([0.25])],
  ]);
  const opt = new Lars({ weightDecay: 0.1, trust: 0.001 });
  const before = tf.memory().numTensors;
  opt.apply(p, grads, 1);
  assert.equal(tf.memory().numTensors, before);
  // d = g + 0.1 w = [0.9, 1.2], ||d|| = 1.5; ratio = 0.001 * 5 / 1.5; w -= ratio * d = [0.003, 0.004]
  const w = p.get("layer.w").dataSync();
  close(w[0], 2.997);
  close(w[1], 3.996);
  // Biases and BatchNorm: plain SGD, no decay, no trust ratio.
  close(p.get("layer.b").dataSync()[0], 0.5);
  close(p.get("bn.gamma").dataSync()[0], 1.75);
  tf.dispose([...grads.values()]);
  p.dispose();
});

Deno.test("Lars.apply() with momentum keeps a buffer of the scaled update", () => {
  const p = record();
  const g = new Map<string, tf.Tensor>([["layer.b", tf.tensor1d([1])]]);
  const opt = new Lars({ momentum: 0.9 });
  opt.apply(p, g, 0.1); // buf 1 -> b = 0.9
  opt.apply(p, g, 0.1); // buf 1.9 -> b = 0.71
  close(p.get("layer.b").dataSync()[0], 0.71);
  assert.equal(opt.state.size, 1);
  opt.dispose();
  tf.dispose([...g.values()]);
  p.dispose();
});
