/**
 * The fused updates on WASM (`src/backend/kernels/wasm_optim.ts`): `Adam.apply` and
 * `moveToward` give the same bits as tfjs's elementwise composition of the same formula (the
 * path every other backend takes), with and without weight decay, for a tensor split into
 * chunks and one with a tail past the SIMD width; they match the CPU backend; nothing leaks.
 * (The same bits on two threads: simd_pool_test.ts.)
 */
import assert from "node:assert/strict";
import { tf } from "../../../src/deps.ts";
import { selectBackend } from "../../../src/backend/select.ts";
import { Params } from "../../../src/model/params.ts";
import { Adam } from "../../../src/train/optimizers.ts";
import { moveToward } from "../../../src/train/average.ts";

/** Weights and gradients: a large weight (split into chunks), a 6-element bias (a tail). */
function problem() {
  const p = new Params();
  p.add("conv.w", tf.randomNormal([3, 3, 64, 96], 0, 0.1, "float32", 1)); // 55296 elements
  p.add("head.b", tf.randomNormal([6], 0, 0.1, "float32", 2));
  const grads = (k: number) =>
    new Map<string, tf.Tensor>([
      ["conv.w", tf.randomNormal([3, 3, 64, 96], 0, 0.01, "float32", 10 + k)],
      ["head.b", tf.randomNormal([6], 0, 0.01, "float32", 20 + k)],
    ]);
  return { p, grads };
}

/** Adam as tfjs ops (optimizers.ts's non-WASM path), three steps. */
function adamByOps(p: Params, grads: (k: number) => Map<string, tf.Tensor>, wd: number) {
  const m = new Map<string, tf.Tensor>(), v = new Map<string, tf.Tensor>();
  for (let t = 1; t <= 3; t++) {
    const lr = 0.003 * t;
    const gs = grads(t);
    const tt = tf.scalar(t);
    const stepLr = tf.div(lr, tf.sub(1, tf.exp(tf.mul(tt, Math.log(0.9)))));
    const c2 = tf.sub(1, tf.exp(tf.mul(tt, Math.log(0.999))));
    for (const [name, g0] of gs) {
      const w = p.get(name);
      const g = wd > 0 && name.endsWith(".w") ? tf.add(g0, tf.mul(w, wd)) : g0;
      const m0 = m.get(name) ?? tf.zerosLike(w), v0 = v.get(name) ?? tf.zerosLike(w);
      const m1 = tf.add(tf.mul(m0, 0.9), tf.mul(g, 1 - 0.9));
      const v1 = tf.add(tf.mul(v0, 0.999), tf.mul(tf.square(g), 1 - 0.999));
      const denom = tf.add(tf.sqrt(tf.div(v1, c2)), 1e-8);
      w.assign(tf.sub(w, tf.mul(tf.div(m1, denom), stepLr)));
      m.set(name, m1);
      v.set(name, v1);
    }
  }
}

async function adamRun(backend: "wasm" | "cpu", byOps: boolean, wd: number) {
  await selectBackend({ backend, threads: backend === "wasm" ? 1 : undefined });
  return tf.tidy(() => {
    const { p, grads } = problem();
    if (byOps) adamByOps(p, grads, wd);
    else {
      const opt = new Adam({ weightDecay: wd });
      for (let t = 1; t <= 3; t++) opt.apply(p, grads(t), 0.003 * t);
      opt.dispose();
    }
    const out = [...p.vars].map(([, x]) => Array.from(x.dataSync()));
    p.dispose();
    return out;
  });
}

for (const wd of [0, 0.05]) {
  Deno.test(`Adam on WASM (one kernel) equals tfjs's ops bit for bit and cpu closely (wd ${wd})`, async () => {
    const fused = await adamRun("wasm", false, wd);
    const ops = await adamRun("wasm", true, wd);
    const cpu = await adamRun("cpu", false, wd);
    for (let i = 0; i < fused.length; i++) {
      const differ = fused[i].filter((x, j) => !Object.is(x, ops[i][j])).length;
      assert.equal(differ, 0, `tensor ${i}: ${differ} of ${fused[i].length} values differ`);
      const moved = fused[i].some((x, j) => x !== 0 && Math.abs(x - cpu[i][j]) > 1e-6);
      assert.ok(!moved, `tensor ${i} differs from cpu`);
    }
    // The fused kernels are what ran on WASM (one per parameter, one per average).
    await selectBackend({ backend: "wasm", threads: 1 });
    const { p: q, grads } = problem();
    const opt = new Adam({ weightDecay: wd });
    const zero = tf.zerosLike(q.get("head.b"));
    const avg = tf.variable(zero);
    zero.dispose();
    const prof = await tf.profile(() => {
      opt.apply(q, grads(1), 0.01);
      moveToward(avg, q.get("head.b"), 0.5);
    });
    const names = prof.kernels.map((k) => k.name);
    assert.equal(names.filter((n) => n === "ByelAdam").length, 2);
    assert.equal(names.filter((n) => n === "ByelLerp").length, 1);
    opt.dispose();
    q.dispose();
    avg.dispose();
    // The update did something: three steps of ~lr each.
    const { p } = problem();
    const start = Array.from(p.get("head.b").dataSync());
    p.dispose();
    const d = Math.abs(fused[1][0] - start[0]);
    assert.ok(d > 1e-4 && d < 0.02, `moved ${d}`); // at most lr per step
  });
}

Deno.test("moveToward on WASM (one kernel) equals a·d + b·(1 - d) by tfjs's ops, and leaks nothing", async () => {
  await selectBackend({ backend: "wasm", threads: 1 });
  const before = tf.memory().numTensors;
  for (const n of [7, 100_000]) {
    const init = tf.randomNormal([n], 0, 1, "float32", 3);
    const a = tf.variable(init);
    init.dispose();
    const b = tf.randomNormal([n], 0, 1, "float32", 4);
    const want = tf.tidy(() => tf.add(tf.mul(a, 0.99), tf.mul(b, 1 - 0.99)).dataSync());
    moveToward(a, b, 0.99);
    const got = a.dataSync();
    assert.equal(got.filter((x, j) => !Object.is(x, want[j])).length, 0, `n ${n}`);
    tf.dispose([a, b]);
  }
  assert.equal(tf.memory().numTensors, before);
});
