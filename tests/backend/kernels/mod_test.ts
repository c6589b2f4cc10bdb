/**
 * Gradient parity on WASM: every case's gradients match the CPU backend (to 1e-4 relative) and
 * central finite differences on CPU (to 1e-2, float32 with h = 1e-2).
 */
import assert from "node:assert/strict";
import { tf } from "../../../src/deps.ts";
import { selectBackend } from "../../../src/backend/select.ts";
import { fill, GRAD_CASES, gradsOnActive, lossAt, maxRelErr } from "../../_helpers/grad_cases.ts";

Deno.test({
  name: "custom gradients on cpu match central finite differences",
  fn: async () => {
    await selectBackend({ backend: "cpu" });
    const h = 1e-2;
    for (const c of GRAD_CASES.filter((c) => c.smooth !== false)) {
      const g = await gradsOnActive(c);
      const base = c.shapes.map((s, i) => fill(s, i + 1));
      for (let input = 0; input < base.length; input++) {
        // a spread of coordinates per input (all of them for small inputs)
        const n = base[input].length;
        const step = Math.max(1, Math.floor(n / 12));
        for (let j = 0; j < n; j += step) {
          const plus = base.map((a) => a.slice()), minus = base.map((a) => a.slice());
          plus[input][j] += h;
          minus[input][j] -= h;
          const fd = ((await lossAt(c, plus)) - (await lossAt(c, minus))) / (2 * h);
          const err = Math.abs(fd - g[input][j]) / (1 + Math.abs(fd));
          assert.ok(err < 1e-2, `${c.name} input ${input}[${j}]: grad ${g[input][j]}, fd ${fd}`);
        }
      }
    }
  },
});

Deno.test({
  name: "batchNormTrain() gradient equals autodiff through tf.moments on cpu",
  fn: async () => {
    await selectBackend({ backend: "cpu" });
    const { batchNormTrain } = await import("../../../src/backend/batch_norm.ts");
    const shape = [3, 4, 4, 6];
    const x = tf.tensor(fill(shape, 1), shape);
    const g = tf.tensor1d(fill([6], 2)), b = tf.tensor1d(fill([6], 3));
    const r = tf.tensor(fill(shape, 4), shape);
    const ours = tf.grads((x, g, b) =>
      tf.sum(tf.mul(batchNormTrain(x, g as tf.Tensor1D, b as tf.Tensor1D).y, r))
    )([x, g, b]);
    const stock = tf.grads((x, g, b) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.sum(tf.mul(tf.batchNorm(x, mean, variance, b, g, 1e-5), r));
    })([x, g, b]);
    for (let i = 0; i < 3; i++) {
      const e = maxRelErr(ours[i].dataSync() as Float32Array, stock[i].dataSync() as Float32Array);
      assert.ok(e < 1e-4, `input ${i}: max rel err ${e}`);
    }
    tf.dispose([x, g, b, r, ...ours, ...stock]);
  },
});

for (const c of GRAD_CASES) {
  Deno.test({
    name: `wasm gradients match cpu: ${c.name}`,
    fn: async () => {
      await selectBackend({ backend: "cpu" });
      const ref = await gradsOnActive(c);
      await selectBackend({ backend: "wasm" });
      const n0 = tf.memory().numTensors;
      const got = await gradsOnActive(c);
      assert.equal(tf.memory().numTensors, n0, "tensors leaked");
      got.forEach((g, i) => {
        const e = maxRelErr(g, ref[i]);
        assert.ok(e < 1e-4, `input ${i}: max rel err ${e}`);
      });
    },
  });
}
