import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { Params } from "../../src/model/params.ts";
import { batchNorm, bnInit, conv, convBn, convInit } from "../../src/model/layers.ts";
import { maxRelErr } from "../_helpers/grad_cases.ts";
import { Rng } from "../../src/rng.ts";

await tf.setBackend("cpu");

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
