/**
 * The convolution with its 2x2 max pool in one pass (`src/backend/conv_pool.ts`,
 * `ByelConvPool` in `src/backend/kernels/wasm_conv_pool.ts`): the bits of the convolution
 * followed by the pool, through F(6x6) and F(4x4) output tiles (odd sizes: the last row or
 * column dropped) and through the fallback; a VGG in evaluation gives the same bits either way,
 * on one thread and on two, and leaks nothing.
 */
import assert from "node:assert/strict";
import { evalJson, repoUrl } from "../_helpers/eval_script.ts";
import { tf } from "../../src/deps.ts";
import { selectBackend } from "../../src/backend/select.ts";
import { convBiasMaxPool2x2, setOwnConvPool } from "../../src/backend/conv_pool.ts";
import { wasmConvPoolAvailable } from "../../src/backend/kernels/wasm_conv_pool.ts";
import { setWinograd, winograd63Pays } from "../../src/backend/kernels/winograd.ts";
import { type ArchConfig, QUICK } from "../../src/config.ts";

type Shape4 = [number, number, number, number];

/** `convBiasMaxPool2x2` of a case, by one kernel (`own`) or as the convolution then the pool. */
async function convPool(x: Shape4, k: number, relu: boolean, own: boolean) {
  setOwnConvPool(own);
  try {
    const y = tf.tidy(() => {
      const xt = tf.randomNormal(x, 0, 1, "float32", 1) as tf.Tensor4D;
      const f = tf.randomNormal([3, 3, x[3], k], 0, 0.3, "float32", 2) as tf.Tensor4D;
      const b = tf.randomNormal([k], 0, 1, "float32", 3) as tf.Tensor1D;
      return convBiasMaxPool2x2(xt, f, b, relu);
    });
    const out = { shape: y.shape, data: await y.data() as Float32Array };
    y.dispose();
    return out;
  } finally {
    setOwnConvPool(true);
  }
}

Deno.test("ByelConvPool gives the bits of the convolution then the pool", async () => {
  await selectBackend({ backend: "wasm", threads: 1 });
  setWinograd(true, { anySize: true });
  const cases: { x: Shape4; k: number; relu: boolean; what: string }[] = [
    { x: [2, 12, 12, 16], k: 16, relu: true, what: "F(6x6), whole tiles" },
    { x: [3, 6, 6, 32], k: 64, relu: true, what: "F(6x6), 6 x 6 to 3 x 3" },
    { x: [2, 11, 10, 16], k: 8, relu: false, what: "F(6x6), partial tiles, odd rows" },
    { x: [2, 16, 16, 16], k: 16, relu: true, what: "F(4x4)" },
    { x: [2, 13, 15, 8], k: 16, relu: false, what: "F(4x4), odd rows and columns" },
    { x: [1, 6, 6, 128], k: 256, relu: true, what: "staged F(4x4): the fallback" },
  ];
  assert.equal(winograd63Pays(12, 12), true);
  assert.equal(winograd63Pays(13, 15), false);
  try {
    for (const c of cases) {
      const x = tf.zeros(c.x) as tf.Tensor4D, f = tf.zeros([3, 3, c.x[3], c.k]) as tf.Tensor4D;
      assert.equal(wasmConvPoolAvailable(x, f), true, c.what);
      tf.dispose([x, f]);
      const two = await convPool(c.x, c.k, c.relu, false);
      const one = await convPool(c.x, c.k, c.relu, true);
      const pooled = [c.x[0], Math.floor(c.x[1] / 2), Math.floor(c.x[2] / 2), c.k];
      assert.deepEqual(one.shape, pooled, c.what);
      assert.deepEqual(two.shape, pooled, c.what);
      assert.deepEqual(one.data, two.data, c.what);
      assert.ok(one.data.some((v) => v !== 0), c.what);
    }
  } finally {
    setWinograd(true);
  }
});

Deno.test("convBiasMaxPool2x2 on cpu is the convolution then the pool", async () => {
  await selectBackend({ backend: "cpu" });
  const x = tf.randomNormal([2, 8, 8, 4], 0, 1, "float32", 1) as tf.Tensor4D;
  const f = tf.randomNormal([3, 3, 4, 8], 0, 0.3, "float32", 2) as tf.Tensor4D;
  const b = tf.randomNormal([8], 0, 1, "float32", 3) as tf.Tensor1D;
  const y = convBiasMaxPool2x2(x, f, b, true);
  const conv = tf.relu(tf.add(tf.conv2d(x, f, 1, "same"), b)) as tf.Tensor4D;
  const ref = tf.maxPool(conv, 2, 2, "valid");
  assert.deepEqual(y.shape, [2, 4, 4, 8]);
  assert.deepEqual(await y.data(), await ref.data());
  tf.dispose([x, f, b, y, conv, ref]);
});

/** The quick preset's network, as a VGG with BatchNorm (the layers that take the pools). */
const ARCH: ArchConfig = { ...QUICK.arch, family: "vgg", norm: "batch" };

/** A VGG's evaluation features with and without the one-kernel pools (JSON-able). */
const vggCode = (threads: number) => `
  import { tf } from "${repoUrl("src/deps.ts")}";
  import { selectBackend } from "${repoUrl("src/backend/select.ts")}";
  import { setOwnConvPool } from "${repoUrl("src/backend/conv_pool.ts")}";
  import { encoderForward, encoderInit } from "${repoUrl("src/model/encoder.ts")}";
  import { Params } from "${repoUrl("src/model/params.ts")}";
  import { Rng } from "${repoUrl("src/rng.ts")}";
  const info = await selectBackend({ backend: "wasm", threads: ${threads} });
  const arch = ${JSON.stringify(ARCH)};
  const p = new Params();
  encoderInit(p, "enc", { arch, rng: new Rng(5) });
  const x = tf.randomUniform([16, 48, 48, 3], 0, 1, "float32", 7);
  // Three uses first: a filter's first two count as new, and small convolutions of new
  // filters go to tfjs's kernel (winograd.ts), other bits than the Winograd routes after.
  const out = [];
  for (const own of [false, false, false, false, true, true]) {
    setOwnConvPool(own);
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => encoderForward(p, "enc", x, { arch, ctx: { train: false } }));
    out.push({ own, data: Array.from(await y.data()), leaked: tf.memory().numTensors - before - 1 });
    y.dispose();
  }
  console.log(JSON.stringify({ threads: info.threads, out }));`;

for (const threads of [1, 2]) {
  Deno.test({
    name:
      `a VGG in evaluation gives the same bits with the one-kernel pools (${threads} thread(s))`,
    ignore: threads > 1 && (navigator.hardwareConcurrency ?? 1) < 2,
    fn: async () => {
      const r = await evalJson(vggCode(threads)) as {
        threads: number;
        out: { own: boolean; data: number[]; leaked: number }[];
      };
      assert.equal(r.threads, threads);
      const [two, one, again] = r.out.slice(3);
      assert.deepEqual(one.data, two.data);
      assert.deepEqual(again.data, two.data);
      assert.ok(two.data.some((v) => v !== 0));
      // the second run folds nothing new: no tensor left behind
      assert.equal(again.leaked, 0);
    },
  });
}
