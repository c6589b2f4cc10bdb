/**
 * byel's SIMD kernels on several threads (`src/backend/kernels/simd_pool.ts`): a pool on its
 * own shared memory runs calls and gives the same bits as running them one after the other,
 * reports a trap, refuses what it cannot run, and lets the process exit; on threaded WASM,
 * every kernel that splits its work gives the same bits with its threads on and off.
 */
import assert from "node:assert/strict";
import { Worker as NodeWorker } from "node:worker_threads";
import { SimdPool } from "../../../src/backend/kernels/simd_pool.ts";
import { SHARED } from "../../../src/backend/kernels/wasm_simd/module.ts";
import { evalJson, repoUrl } from "../../_helpers/eval_script.ts";

const spawn = (source: string) => new NodeWorker(source, { eval: true });

/** A shared memory with the SIMD module on it, and a pool of `workers` workers. */
async function pooled(workers: number) {
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 4096, shared: true });
  const module = new WebAssembly.Module(Uint8Array.from(atob(SHARED), (c) => c.charCodeAt(0)));
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const pool = new SimdPool(module, memory, exports, workers, spawn);
  const t0 = performance.now();
  while (pool.threads < 1 + workers && performance.now() - t0 < 20_000) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const f32 = () => new Float32Array(memory.buffer);
  return { memory, exports: exports as Record<string, (...a: number[]) => void>, pool, f32 };
}

Deno.test("SimdPool: its workers start, and calls on every thread give the serial bits", async () => {
  const { exports, pool, f32 } = await pooled(1);
  try {
    assert.equal(pool.size, 2);
    assert.equal(pool.threads, 2, "the worker did not start");
    // Block sums of x [rows, C] in 8 chunks (pool) and in one call (serial), at different places.
    const rows = 128 * 40, c = 16, x = 0, a = 4 * rows * c, b = a + 4 * rows * c;
    const m = f32();
    for (let i = 0; i < rows * c; i++) m[i] = Math.sin(i * 0.37) * 3 + (i % 7);
    const chunk = rows / 8;
    pool.run(
      Array.from({ length: 8 }, (_, k) => [
        "bn_sum_blocks",
        x + 4 * k * chunk * c,
        chunk,
        c,
        a + 4 * (k * chunk / 128) * c,
      ]),
    );
    exports.bn_sum_blocks(x, rows, c, b);
    const blocks = (rows / 128) * c;
    const got = f32().slice(a / 4, a / 4 + blocks), want = f32().slice(b / 4, b / 4 + blocks);
    assert.deepEqual(got, want);
    // ... and they are the block sums (checked in float64 against a tolerance of float32 sums).
    for (const [blk, ch] of [[0, 0], [13, 5], [39, 15]]) {
      let s = 0;
      for (let r = blk * 128; r < (blk + 1) * 128; r++) s += m[r * c + ch];
      assert.ok(Math.abs(got[blk * c + ch] - s) < 1e-3 * (1 + Math.abs(s)));
    }
    // Many independent products (the filter gradient's 16), on both threads.
    const k = 64, n = 32, t = 256, p0 = b + 4 * blocks, sz = 4 * t * k, out = 4 * k * n;
    const base = (i: number) => p0 + i * (sz + 4 * t * n + 2 * out);
    for (let i = 0; i < 16; i++) {
      const f = f32(), at = base(i) / 4;
      for (let j = 0; j < t * k + t * n; j++) f[at + j] = Math.cos(j * 0.11 + i);
    }
    const calls = Array.from({ length: 16 }, (_, i) => {
      const o = base(i);
      return ["gemm_atb", o, o + sz, o + sz + 4 * t * n, t, k, n, k] as [string, ...number[]];
    });
    pool.run(calls);
    for (let i = 0; i < 16; i++) {
      const o = base(i);
      exports.gemm_atb(o, o + sz, o + sz + 4 * t * n + out, t, k, n, k);
      const f = f32(), r = (o + sz + 4 * t * n) / 4;
      assert.deepEqual(f.slice(r, r + k * n), f.slice(r + k * n, r + 2 * k * n), `product ${i}`);
    }
  } finally {
    pool.dispose();
  }
});

Deno.test("SimdPool: a trap on either thread, an unknown export or too many calls are errors", async () => {
  const { memory, pool } = await pooled(1);
  try {
    const beyond = memory.buffer.byteLength; // every access past the end traps
    const bad: [string, ...number[]][] = Array.from(
      { length: 8 },
      () => ["sum_parts", beyond, 0, 1, 0, 64],
    );
    assert.throws(() => pool.run(bad), /out of bounds|trapped/);
    assert.throws(() => pool.run([["no_such_kernel", 1]]), /no export no_such_kernel/);
    assert.throws(() => pool.run(Array(257).fill(["sum_parts", 0, 16, 1, 0, 4])), /257 calls/);
    // Still usable afterwards.
    new Float32Array(memory.buffer).set([1, 2, 3, 4], 4);
    pool.run([["sum_parts", 0, 16, 1, 0, 4], ["sum_parts", 32, 16, 1, 0, 4]]);
    assert.deepEqual([...new Float32Array(memory.buffer, 0, 4)], [1, 2, 3, 4]);
    assert.deepEqual([...new Float32Array(memory.buffer, 32, 4)], [1, 2, 3, 4]);
  } finally {
    pool.dispose();
  }
  assert.equal(pool.threads, 1, "disposed: the calling thread only");
});

Deno.test({
  name: "on threaded WASM every split kernel gives the same bits with its threads on and off",
  ignore: (navigator.hardwareConcurrency ?? 1) < 2,
  fn: async () => {
    // Winograd F(4x4) (fused and staged, their filter transforms split too), F(6x6) and F(2x2)
    // forward, transposed F(2x2) (few tiles), the RGB stem's direct
    // convolution, the Winograd and the patch filter gradients (stride 1 and 2), BatchNorm
    // statistics, normalisation, gradient, the transposed matrix products, both max-pool
    // gradients and the 2x2 pool, the augmentations' warp.
    const pools = repoUrl("src/backend/max_pool.ts");
    const code = `import { selectBackend } from "${repoUrl("src/backend/select.ts")}";
      import { tf } from "${repoUrl("src/deps.ts")}";
      import { setWinograd } from "${repoUrl("src/backend/kernels/winograd.ts")}";
      import { setSimdParallel, simdThreads } from "${repoUrl("src/backend/kernels/wasm_simd.ts")}";
      import { batchNormTrain } from "${repoUrl("src/backend/batch_norm.ts")}";
      import { maxPool2x2, maxPoolGrad, POOL_2X2, POOL_3X3S2 } from "${pools}";
      import { Adam } from "${repoUrl("src/train/optimizers.ts")}";
      import { moveToward } from "${repoUrl("src/train/average.ts")}";
      import { Params } from "${repoUrl("src/model/params.ts")}";
      const info = await selectBackend({ backend: "wasm", threads: 2 });
      setWinograd(true, { anySize: true });
      const r = (s, seed) => tf.randomNormal(s, 0, 1, "float32", seed);
      const grads = (xx, ff, stride) => tf.grads((a, b) => tf.sum(tf.square(tf.conv2d(a, b, stride, "same"))))([xx, ff]);
      const bn = tf.grads((a, g, b) => {
        const { y } = batchNormTrain(a, g, b, 1e-3);
        return tf.sum(tf.mul(y, tf.sin(a)));
      });
      // New tensors each run (same seeds): a filter's transform and form follow its uses.
      const run = () => {
        const x = r([8, 16, 16, 32], 1), f = r([3, 3, 32, 32], 2), x16 = r([16, 12, 12, 16], 5);
        return [
        tf.conv2d(x, f, 1, "same"), // F(4x4)
        tf.conv2d(x16, r([3, 3, 16, 16], 29), 1, "same"), // F(6x6), 12 x 12
        tf.conv2d(r([2, 8, 8, 128], 30), r([3, 3, 128, 136], 31), 1, "same"), // staged F(4x4)
        tf.conv2d(r([8, 3, 3, 32], 6), f, 1, "same"), // F(2x2)
        tf.conv2d(r([2, 4, 4, 64], 3), r([3, 3, 64, 32], 4), 1, "same"), // transposed F(2x2)
        tf.conv2d(r([4, 12, 10, 3], 27), r([3, 3, 3, 16], 28), 1, "same"), // the RGB stem's
        ...grads(x, f, 1), // Winograd filter gradient
        ...grads(x16, r([3, 3, 16, 16], 7), 1), // patch filter gradient, 16 channels
        ...grads(x16, r([3, 3, 16, 32], 8), 2), // stride 2
        ...grads(r([4, 9, 9, 8], 9), r([1, 1, 8, 16], 10), 2), // 1x1 stride 2
        batchNormTrain(r([700, 8], 11), tf.ones([8]), tf.zeros([8]), 1e-3).y,
        ...bn([r([3, 50, 10, 16], 12), r([16], 13), r([16], 14)]),
        // The transposed products dy·Wᵀ and xᵀ·dy (rows of the output in chunks).
        tf.matMul(r([128, 256], 23), r([512, 256], 24), false, true),
        tf.matMul(r([128, 512], 25), r([128, 256], 26), true, false),
        maxPoolGrad(r([9, 12, 12, 16], 19), r([9, 6, 6, 16], 20), POOL_2X2), // images in chunks
        maxPool2x2(r([9, 12, 12, 16], 19)),
        maxPoolGrad(r([9, 12, 12, 16], 19), r([9, 6, 6, 16], 21), POOL_3X3S2),
        tf.image.transform( // the augmentations' warp
          tf.randomUniform([9, 20, 20, 3], 0, 1, "float32", 22),
          tf.tensor2d(Array.from({ length: 72 }, (_, i) => [1.1, 0.1, -2, -0.1, 0.9, 1, 0, 0][i % 8] + i / 500), [9, 8]),
          "bilinear",
          "nearest",
          0,
          [16, 16],
        ),
        ...(() => { // Adam and a moving average on 100,000 weights (chunks on both threads)
          const p = new Params(), opt = new Adam({ weightDecay: 0.1 });
          p.add("big.w", r([100000], 15));
          for (let k = 0; k < 2; k++) opt.apply(p, new Map([["big.w", r([100000], 16 + k)]]), 0.01);
          const avg = tf.variable(r([100000], 18));
          moveToward(avg, p.get("big.w"), 0.9);
          return [p.get("big.w"), opt.state.get("big.w/v"), avg];
        })(),
      ].map((t) => Array.from(t.dataSync()));
      };
      run(); // starts the pool; its worker starts while this thread awaits
      for (let i = 0; i < 500 && simdThreads(tf.backend()) < 2; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const threads = simdThreads(tf.backend());
      const on = run();
      setSimdParallel(false);
      const off = run();
      const differ = on.map((a, i) => a.filter((v, j) => !Object.is(v, off[i][j])).length);
      console.log(JSON.stringify({ threads: info.threads, simd: threads, differ, n: on.length }));`;
    const res = await evalJson(code) as { threads: number; simd: number; differ: number[] };
    assert.equal(res.threads, 2);
    assert.equal(res.simd, 2, "byel's kernels run on one thread");
    assert.deepEqual(res.differ, res.differ.map(() => 0));
  },
});
