/**
 * Max pooling's gradient (`src/backend/max_pool.ts`): the plain loop equals the CPU backend's
 * gradient for both windows (to rounding where windows overlap); on WASM the pools run
 * `ByelMaxPoolGrad`, whose result has the loop's bits, with ties, NaN, -Infinity and -0
 * gradients, odd sizes, channel counts past the SIMD width and batches split into chunks;
 * nothing leaks. The 2x2 pool's forward on WASM (`ByelMaxPool2x2`) gives tfjs's values, and
 * with NaN the value of the pixel its gradient goes to.
 */
import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { selectBackend } from "../../src/backend/select.ts";
import {
  maxPool2x2,
  maxPool3x3s2,
  maxPoolGrad,
  maxPoolGradLoop,
  POOL_2X2,
  POOL_3X3S2,
  type PoolWindow,
  setOwnMaxPool,
} from "../../src/backend/max_pool.ts";
import { registerWasmPool } from "../../src/backend/kernels/wasm_pool.ts";

type Shape = [number, number, number, number];
const SHAPES: Shape[] = [[2, 6, 6, 5], [1, 7, 5, 3], [9, 9, 7, 16], [3, 8, 8, 4], [2, 6, 10, 12]];
const WINDOWS: [PoolWindow, (x: tf.Tensor4D) => tf.Tensor4D][] = [
  [POOL_2X2, maxPool2x2],
  [POOL_3X3S2, maxPool3x3s2],
];

/** Input values: few distinct levels (many ties), with NaN and -Infinity in places. */
function input(n: number, special: boolean): Float32Array {
  const x = Float32Array.from({ length: n }, (_, i) => Math.round(3 * Math.sin(i * 1.7)) / 2 + 0); // no -0
  if (special) {
    for (let i = 0; i < n; i += 37) x[i] = NaN;
    for (let i = 11; i < n; i += 29) x[i] = -Infinity;
    x.fill(-Infinity, 0, Math.min(n, 40)); // whole windows of -Infinity
  }
  return x;
}

/** Upstream gradient values, with -0 in places. */
function upstream(n: number): Float32Array {
  const g = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
  for (let i = 0; i < n; i += 7) g[i] = -0;
  return g;
}

Deno.test("maxPoolGradLoop() equals the CPU backend's max-pool gradient for both windows", async () => {
  await selectBackend({ backend: "cpu" });
  for (const [w, pool] of WINDOWS) {
    for (const shape of SHAPES) {
      const x = tf.tensor4d(input(shape.reduce((a, c) => a * c), false), shape);
      const y = pool(x);
      const dy = tf.tensor4d(upstream(y.size), y.shape);
      const want = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pool(t as tf.Tensor4D), dy)))(x);
      const got = maxPoolGradLoop(x.dataSync(), dy.dataSync(), x.shape, y.shape, w);
      // The CPU kernel sums overlapping windows' shares in another order: equal to rounding.
      const ws = want.dataSync();
      const err = got.reduce((m, v, i) => Math.max(m, Math.abs(v - ws[i])), 0);
      assert.ok(err < 1e-6, `${w.size}x${w.size} ${shape}: ${err}`);
      tf.dispose([x, y, dy, want]);
    }
  }
});

Deno.test("on wasm both pools equal tf.maxPool on cpu, and their gradient runs ByelMaxPoolGrad with the loop's bits", async () => {
  await selectBackend({ backend: "wasm" });
  for (const [w, pool] of WINDOWS) {
    for (const shape of SHAPES) {
      for (const special of [false, true]) {
        const xs = input(shape.reduce((a, c) => a * c), special);
        const x = tf.tensor4d(xs, shape);
        const y = pool(x);
        const dy = tf.tensor4d(upstream(y.size), y.shape);
        const before = tf.memory().numTensors;
        const prof = await tf.profile(() =>
          tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pool(t as tf.Tensor4D), dy)))(x)
        );
        const g = prof.result as tf.Tensor;
        assert.ok(prof.kernelNames.includes("ByelMaxPoolGrad"), `${prof.kernelNames}`);
        const want = maxPoolGradLoop(xs, dy.dataSync(), shape, y.shape, w);
        const got = g.dataSync();
        const differ = want.filter((v, i) => !Object.is(v, got[i])).length;
        assert.equal(differ, 0, `${w.size}x${w.size} ${shape} special=${special}`);
        assert.equal(tf.memory().numTensors, before + 1); // the gradient only
        if (!special) {
          const direct = maxPoolGrad(x, dy, w);
          assert.deepEqual(Array.from(direct.dataSync()), Array.from(want));
          direct.dispose();
          // The forward pass against the CPU backend (XNNPACK's pool on wasm).
          const yw = Array.from(y.dataSync());
          tf.dispose([x, y, dy, g]);
          await selectBackend({ backend: "cpu" });
          const xc = tf.tensor4d(xs, shape), yc = pool(xc);
          assert.deepEqual(yw, Array.from(yc.dataSync()));
          tf.dispose([xc, yc]);
          await selectBackend({ backend: "wasm" });
        } else tf.dispose([x, y, dy, g]);
      }
    }
  }
  await selectBackend({ backend: "cpu" });
});

/** The 2x2 pool as the gradient's scan sees it: each window's first maximum (strict >). */
function firstMax2x2(xs: Float32Array, [b, h, w, c]: Shape): Float32Array {
  const oh = Math.floor(h / 2), ow = Math.floor(w / 2), y = new Float32Array(b * oh * ow * c);
  for (let n = 0; n < b; n++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let ch = 0; ch < c; ch++) {
          const at = (yy: number, xx: number) => xs[((n * h + yy) * w + xx) * c + ch];
          let best = at(2 * i, 2 * j);
          for (const [dy, dx] of [[0, 1], [1, 0], [1, 1]]) {
            const v = at(2 * i + dy, 2 * j + dx);
            if (v > best) best = v;
          }
          y[((n * oh + i) * ow + j) * c + ch] = best;
        }
      }
    }
  }
  return y;
}

Deno.test("on wasm the 2x2 pool runs ByelMaxPool2x2: tfjs's values, and with NaN the value its gradient's pixel has", async () => {
  await selectBackend({ backend: "wasm" });
  try {
    for (const shape of SHAPES) {
      for (const special of [false, true]) {
        const xs = input(shape.reduce((a, c) => a * c), special);
        const x = tf.tensor4d(xs, shape);
        setOwnMaxPool(true);
        const prof = await tf.profile(() => maxPool2x2(x));
        const own = prof.result as tf.Tensor;
        const ran = prof.kernelNames.includes("ByelMaxPool2x2");
        assert.equal(ran, shape[3] % 4 === 0, `${shape}: ${prof.kernelNames}`);
        setOwnMaxPool(false);
        const theirs = maxPool2x2(x);
        const [a, b] = [own.dataSync(), theirs.dataSync()];
        const want = firstMax2x2(xs, shape);
        if (ran) {
          const differ = a.filter((v, i) => !Object.is(v, want[i])).length;
          assert.equal(differ, 0, `${shape} special=${special}`);
        }
        if (!special) assert.deepEqual(a, b, `${shape}: tfjs's pool`);
        tf.dispose([x, own, theirs]);
      }
    }
  } finally {
    setOwnMaxPool(true);
  }
  await selectBackend({ backend: "cpu" });
});

Deno.test("on wasm without byel's kernels registered (a page's bare tf.setBackend), the 2x2 pool is tfjs's", async () => {
  await selectBackend({ backend: "wasm" });
  const x = tf.tensor4d(input(2 * 6 * 6 * 8, false), [2, 6, 6, 8]);
  const want = maxPool2x2(x);
  tf.unregisterKernel("ByelMaxPool2x2", "wasm");
  try {
    const prof = await tf.profile(() => maxPool2x2(x));
    assert.ok(!prof.kernelNames.includes("ByelMaxPool2x2"), `${prof.kernelNames}`);
    assert.deepEqual((prof.result as tf.Tensor).dataSync(), want.dataSync());
    tf.dispose(prof.result as tf.Tensor);
  } finally {
    registerWasmPool();
  }
  assert.ok(tf.getKernel("ByelMaxPool2x2", "wasm"));
  tf.dispose([x, want]);
  await selectBackend({ backend: "cpu" });
});
