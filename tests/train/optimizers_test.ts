import { tf } from "../../src/deps.ts";
import { Adam, Sgd } from "../../src/train/optimizers.ts";
import { close, record } from "../_helpers/optimizer_cases.ts";

await tf.setBackend("cpu");
Deno.test("Adam.apply() first step moves each weight by lr against the gradient sign", () => {
  const p = record();
  const g = new Map<string, tf.Tensor>([["layer.w", tf.tensor1d([0.6, -0.8])]]);
  const opt = new Adam();
  opt.apply(p, g, 0.01);
  const w = p.get("layer.w").dataSync();
  close(w[0], 2.99, 1e-5);
  close(w[1], 4.01, 1e-5);
  opt.dispose();
  tf.dispose([...g.values()]);
  p.dispose();
});

Deno.test("Sgd.apply() decays weights only", () => {
  const p = record();
  const g = new Map<string, tf.Tensor>([["layer.w", tf.tensor1d([0, 0])], [
    "layer.b",
    tf.tensor1d([0]),
  ]]);
  new Sgd({ weightDecay: 0.5 }).apply(p, g, 0.1); // w -= 0.1 * 0.5 * w
  close(p.get("layer.w").dataSync()[0], 2.85);
  close(p.get("layer.b").dataSync()[0], 1);
  tf.dispose([...g.values()]);
  p.dispose();
});
