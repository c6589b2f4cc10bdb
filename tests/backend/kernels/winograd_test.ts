/**
 * The WASM Winograd convolution (`src/backend/kernels/winograd.ts`): forward convolutions (plain and
 * fused with bias and relu, F(2x2, 3x3) and F(4x4, 3x3), "same", "valid" and odd sizes) and the
 * input gradient match the CPU backend, and so do F(6x6, 3x3)'s; byel's own
 * products give the bits of XNNPACK's, and the
 * filter gradient chunk by chunk, and the fused F(4x4) convolution, the bits of their staged
 * routes;
 * transformed filters are cached per filter and freed with it; tiny convolutions stay on tfjs's
 * kernel.
 */
import assert from "node:assert/strict";
import { evalJson, repoUrl } from "../../_helpers/eval_script.ts";
import { tf } from "../../../src/deps.ts";
import { selectBackend } from "../../../src/backend/select.ts";
import {
  clearWinogradCache,
  FILTER_GRAD_CHUNK,
  FUSED63_CHUNK,
  FUSED_CHUNK,
  setWinograd,
  setWinograd63,
  setWinogradChunkedFilterGrad,
  setWinogradFilterGradMinTiles,
  setWinogradFused,
  setWinogradMinChannels,
  setWinogradOwnProducts,
  winograd63Pays,
  winogradCacheSize,
  winogradEligible,
  winogradFilterGradEligible,
  winogradTile,
} from "../../../src/backend/kernels/winograd.ts";
import { maxRelErr } from "../../_helpers/grad_cases.ts";
import { Params } from "../../../src/model/params.ts";
import { resnetForward, resnetInit } from "../../../src/model/resnet.ts";
import { Rng } from "../../../src/rng.ts";

type Shape4 = [number, number, number, number];

Deno.test("winogradEligible(), winogradFilterGradEligible() and winogradTile() choose", () => {
  const g = (x: Shape4, f: Shape4, s = 1, d = 1) => ({
    xShape: x,
    filterShape: f,
    strides: [s, s] as [number, number],
    dilations: [d, d] as [number, number],
    dataFormat: "NHWC",
  });
  assert.equal(winogradEligible(g([32, 16, 16, 64], [3, 3, 64, 64])), true);
  assert.equal(winogradEligible(g([32, 16, 16, 64], [3, 3, 64, 64], 2)), false); // stride 2
  assert.equal(winogradEligible(g([32, 16, 16, 64], [3, 3, 64, 64], 1, 2)), false); // dilated
  assert.equal(winogradEligible(g([32, 16, 16, 64], [1, 1, 64, 64])), false); // 1x1
  assert.equal(winogradEligible(g([32, 16, 16, 64], [3, 3, 64, 62])), false); // K % 4
  assert.equal(winogradEligible(g([32, 16, 16, 8], [3, 3, 8, 8])), false); // too narrow
  assert.equal(winogradEligible(g([32, 16, 16, 16], [3, 3, 16, 16])), true); // the floor, 16
  assert.equal(winogradEligible(g([1, 4, 4, 64], [3, 3, 64, 64])), false); // too little work
  // Filter gradient: by default with any number of tiles per input channel, many (first stage)
  // or few (last stage: 32 tiles for 512 channels); the hook sets a floor.
  assert.equal(winogradFilterGradEligible(g([32, 16, 16, 64], [3, 3, 64, 64]), 16, 16), true);
  const last = g([32, 2, 2, 512], [3, 3, 512, 512]);
  assert.equal(winogradFilterGradEligible(last, 2, 2), true);
  try {
    setWinogradFilterGradMinTiles(0.0625);
    assert.equal(winogradFilterGradEligible(last, 2, 2), true);
    setWinogradFilterGradMinTiles(0.07);
    assert.equal(winogradFilterGradEligible(last, 2, 2), false);
    assert.equal(winogradFilterGradEligible(g([32, 16, 16, 64], [3, 3, 64, 64]), 16, 16), true);
  } finally {
    setWinogradFilterGradMinTiles();
  }
  assert.equal(winogradFilterGradEligible(last, 2, 2), true);
  // The benchmark hook moves the channel floor, for the convolution and the filter gradient
  // apart, and restores the defaults (16 for both).
  const narrow = g([128, 48, 48, 16], [3, 3, 16, 16]);
  assert.equal(winogradEligible(narrow), true);
  assert.equal(winogradFilterGradEligible(narrow, 48, 48), true);
  try {
    setWinogradMinChannels({ conv: 32 });
    assert.equal(winogradEligible(narrow), false);
    setWinogradMinChannels({ filterGrad: 32 });
    assert.equal(winogradEligible(narrow), true);
    assert.equal(winogradFilterGradEligible(narrow, 48, 48), false);
  } finally {
    setWinogradMinChannels();
  }
  assert.equal(winogradEligible(narrow), true);
  assert.equal(winogradFilterGradEligible(narrow, 48, 48), true);
  assert.equal(winogradTile(16, 16), 4);
  assert.equal(winogradTile(4, 5), 4);
  assert.equal(winogradTile(2, 2), 2);
  assert.equal(winogradTile(8, 3), 2);
  // F(6x6) where it needs at most 0.8 of F(4x4)'s products: 6 x 6 (64 per image against 144),
  // 12 x 12 (256 against 324), 6 x 12 (128 against 216); not 16 (576 each) nor 8, 7 or 4.
  const f63Cases = [
    [6, 6, true],
    [5, 5, true],
    [12, 12, true],
    [6, 12, true],
    [48, 48, true],
    [16, 16, false],
    [8, 8, false],
    [7, 7, false],
    [4, 4, false],
    [3, 3, false],
  ] as const;
  for (const [oh, ow, f63] of f63Cases) {
    assert.equal(winograd63Pays(oh, ow), f63, `${oh} x ${ow}`);
  }
  setWinograd63(false);
  assert.equal(winograd63Pays(6, 6), false);
  setWinograd63(true);
});

interface Case {
  x: Shape4;
  f: Shape4;
  pad: "same" | "valid" | number;
  fused?: "relu" | "linear";
}

const CASES: Case[] = [
  { x: [2, 8, 8, 32], f: [3, 3, 32, 36], pad: "same" }, // F(4x4), exact tiles
  { x: [3, 7, 9, 8], f: [3, 3, 8, 12], pad: "same" }, // F(4x4), partial tiles
  { x: [2, 2, 2, 16], f: [3, 3, 16, 8], pad: "same" }, // F(2x2), transposed products
  { x: [2, 5, 3, 4], f: [3, 3, 4, 4], pad: "same" }, // F(2x2), odd sizes
  { x: [2, 9, 9, 8], f: [3, 3, 8, 8], pad: "valid" }, // 7x7 out, no padding
  { x: [1, 6, 6, 4], f: [3, 3, 4, 8], pad: 2 }, // explicit padding 2: 8x8 out
  { x: [2, 8, 8, 16], f: [3, 3, 16, 16], pad: "same", fused: "relu" },
  { x: [2, 3, 3, 8], f: [3, 3, 8, 4], pad: "same", fused: "linear" },
  // few tiles for the channels: transposed products
  { x: [1, 3, 5, 32], f: [3, 3, 32, 8], pad: "same" }, // partial tiles
  { x: [1, 2, 2, 16], f: [3, 3, 16, 12], pad: "same", fused: "relu" },
];

/** The case's convolution on the active backend (inside a tidy). */
function convCase(c: Case): tf.Tensor4D {
  const x = tf.randomNormal(c.x, 0, 1, "float32", 1) as tf.Tensor4D;
  const f = tf.randomNormal(c.f, 0, 0.3, "float32", 2) as tf.Tensor4D;
  const bias = tf.randomNormal([c.f[3]], 0, 1, "float32", 3) as tf.Tensor1D;
  return c.fused
    ? tf.fused.conv2d({ x, filter: f, strides: 1, pad: c.pad, bias, activation: c.fused })
    : tf.conv2d(x, f, 1, c.pad);
}

async function convOn(backend: "cpu" | "wasm", c: Case): Promise<Float32Array> {
  await selectBackend({ backend, threads: backend === "wasm" ? 1 : undefined });
  return tf.tidy(() => convCase(c)).dataSync() as Float32Array;
}

Deno.test("Winograd convolutions on wasm match the cpu backend", async () => {
  setWinograd(true, { anySize: true });
  try {
    for (const c of CASES) {
      const ref = await convOn("cpu", c);
      const got = await convOn("wasm", c);
      const e = maxRelErr(got, ref);
      assert.ok(e < 1e-4, `${JSON.stringify(c)}: max rel err ${e}`);
      // Without Winograd the same call differs (else this test would not test it).
      setWinograd(false);
      const direct = await convOn("wasm", c);
      setWinograd(true, { anySize: true });
      assert.ok(maxRelErr(direct, got) > 0, `${JSON.stringify(c)} did not run Winograd`);
    }
  } finally {
    setWinograd(true);
  }
});

Deno.test("F(6x6) convolutions match the cpu backend and F(4x4)", async () => {
  setWinograd(true, { anySize: true });
  const cases: Case[] = [
    { x: [2, 6, 6, 16], f: [3, 3, 16, 24], pad: "same" }, // one whole tile
    { x: [3, 5, 5, 8], f: [3, 3, 8, 16], pad: "same", fused: "relu" }, // a partial tile
    { x: [2, 8, 8, 8], f: [3, 3, 8, 8], pad: "valid", fused: "linear" }, // no padding
    { x: [2, 11, 12, 16], f: [3, 3, 16, 8], pad: "same", fused: "relu" }, // 2 x 2 tiles, partial
    // chunks of 16 tile rows (FUSED63_CHUNK / (64 + 64)), the last one short
    { x: [20, 6, 6, 64], f: [3, 3, 64, 64], pad: "same", fused: "relu" },
  ];
  assert.equal(Math.floor(FUSED63_CHUNK / 128), 16);
  const inputGrad = (c: Case) => {
    const v = c.pad === "valid" ? 2 : 0;
    const dy = tf.randomNormal([c.x[0], c.x[1] - v, c.x[2] - v, c.f[3]], 0, 1, "float32", 4);
    const w = tf.randomNormal(c.f, 0, 0.3, "float32", 5) as tf.Tensor4D;
    return tf.conv2dTranspose(dy as tf.Tensor4D, w, c.x, 1, c.pad as "same" | "valid");
  };
  const on = async (backend: "cpu" | "wasm", f: () => tf.Tensor) => {
    await selectBackend({ backend, threads: backend === "wasm" ? 1 : undefined });
    return tf.tidy(f).dataSync() as Float32Array;
  };
  try {
    for (const c of cases) {
      // The input gradient is a convolution to the input's size (8 x 8 "valid": F(4x4)).
      const steps = [["forward", () => convCase(c)], [
        "input gradient",
        () => inputGrad(c),
      ]] as const;
      for (const [what, f] of steps.slice(0, winograd63Pays(c.x[1], c.x[2]) ? 2 : 1)) {
        const ref = await on("cpu", f);
        const got = await on("wasm", f);
        const e = maxRelErr(got, ref);
        // F(6x6) rounds about 3x as much as F(4x4) here (2.2e-4 against 7.3e-5 at 64 channels).
        assert.ok(e < 5e-4, `${what} ${JSON.stringify(c)}: max rel err ${e}`);
        // F(4x4) rounds differently (else this would not test F(6x6)), within its tolerance.
        setWinograd63(false);
        const f43 = await on("wasm", f);
        setWinograd63(true);
        assert.ok(maxRelErr(f43, got) > 0, `${what} ${JSON.stringify(c)} did not run F(6x6)`);
        assert.ok(maxRelErr(f43, ref) < 1e-4, `${what} ${JSON.stringify(c)}: F(4x4)`);
      }
    }
  } finally {
    setWinograd63(true);
    setWinograd(true);
  }
});

Deno.test("Winograd's products by gemm_ab give the bits of XNNPACK's BatchMatMul", async () => {
  await selectBackend({ backend: "wasm", threads: 1 });
  setWinograd(true, { anySize: true });
  const both = async (f: () => tf.Tensor) => {
    const out: Float32Array[] = [];
    for (const own of [false, true]) {
      setWinogradOwnProducts(own);
      const t = f();
      out.push(await t.data() as Float32Array);
      t.dispose();
    }
    return out;
  };
  try {
    for (const c of CASES) {
      const [xnn, own] = await both(() => tf.tidy(() => convCase(c)));
      assert.deepEqual(own, xnn, JSON.stringify(c));
    }
    // The input gradient, transposed (few tiles) and through the rotated filter (many).
    const inputGrads: [Shape4, Shape4][] = [
      [[2, 2, 2, 32], [3, 3, 32, 16]],
      [[2, 8, 8, 8], [3, 3, 8, 12]],
    ];
    for (const [x, f] of inputGrads) {
      const [xnn, own] = await both(() =>
        tf.tidy(() => {
          const dy = tf.randomNormal([x[0], x[1], x[2], f[3]], 0, 1, "float32", 4) as tf.Tensor4D;
          const w = tf.randomNormal(f, 0, 0.3, "float32", 5) as tf.Tensor4D;
          return tf.conv2dTranspose(dy, w, x, 1, "same");
        })
      );
      assert.deepEqual(own, xnn, `input gradient ${JSON.stringify([x, f])}`);
    }
  } finally {
    setWinogradOwnProducts(true);
    setWinograd(true);
  }
});

Deno.test("input and filter gradients by Winograd on wasm match cpu", async () => {
  // Many tiles (rotated-filter convolution), few tiles (transposed products with the rotated
  // transform), odd sizes, no padding.
  const cases: { x: Shape4; f: Shape4; pad: "same" | "valid" }[] = [
    { x: [2, 8, 8, 16], f: [3, 3, 16, 20], pad: "same" },
    { x: [2, 2, 2, 32], f: [3, 3, 32, 24], pad: "same" },
    { x: [1, 3, 5, 32], f: [3, 3, 32, 16], pad: "same" },
    { x: [2, 4, 4, 32], f: [3, 3, 32, 24], pad: "valid" },
  ];
  const grads = async (backend: "cpu" | "wasm", c: (typeof cases)[number]) => {
    await selectBackend({ backend, threads: backend === "wasm" ? 1 : undefined });
    const x = tf.randomNormal(c.x, 0, 1, "float32", 4) as tf.Tensor4D;
    const f = tf.randomNormal(c.f, 0, 0.3, "float32", 5) as tf.Tensor4D;
    const r = tf.randomNormal(tf.conv2d(x, f, 1, c.pad).shape, 0, 1, "float32", 6);
    const [dx, df] = tf.grads((a, b) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, c.pad), r))
    )([x, f]);
    const out = [await dx.data(), await df.data()] as Float32Array[];
    tf.dispose([x, f, r, dx, df]);
    return out;
  };
  try {
    for (const c of cases) {
      const ref = await grads("cpu", c);
      setWinograd(false);
      const direct = await grads("wasm", c);
      setWinograd(true, { anySize: true });
      const got = await grads("wasm", c);
      for (const [i, name] of ["dx", "dfilter"].entries()) {
        const e = maxRelErr(got[i], ref[i]);
        assert.ok(e < 1e-4, `${JSON.stringify(c)} ${name}: ${e}`);
        assert.ok(maxRelErr(got[i], direct[i]) > 0, `${name} did not go through Winograd`);
      }
    }
  } finally {
    setWinograd(true);
  }
});

Deno.test("the filter gradient chunk by chunk gives the bits of the staged route", async () => {
  await selectBackend({ backend: "wasm", threads: 1 });
  setWinograd(true, { anySize: true });
  // Chunks of rows·tw tiles, rows = FILTER_GRAD_CHUNK / (tw·(C + K)): one chunk; chunks that
  // cross images, with a short last one (odd sides, partial tiles, "valid"); chunks of 3 tile
  // rows of 5-row images.
  const cases: { x: Shape4; f: Shape4; pad: "same" | "valid" }[] = [
    { x: [2, 8, 8, 16], f: [3, 3, 16, 20], pad: "same" },
    { x: [4, 9, 9, 64], f: [3, 3, 64, 64], pad: "same" },
    { x: [3, 11, 7, 64], f: [3, 3, 64, 192], pad: "valid" },
    { x: [2, 10, 10, 256], f: [3, 3, 256, 256], pad: "same" },
  ];
  const tw = (c: (typeof cases)[number]) => Math.ceil((c.x[2] - (c.pad === "valid" ? 2 : 0)) / 2);
  const rows = cases.map((c) => Math.floor(FILTER_GRAD_CHUNK / (tw(c) * (c.x[3] + c.f[3]))));
  assert.ok(rows[1] < 4 * 5 && rows[2] < 3 * 5 && rows[3] === 3, `rows per chunk ${rows}`);
  try {
    for (const c of cases) {
      const out: Float32Array[] = [];
      for (const chunked of [false, true]) {
        setWinogradChunkedFilterGrad(chunked);
        const df = tf.tidy(() => {
          const x = tf.randomNormal(c.x, 0, 1, "float32", 4) as tf.Tensor4D;
          const f = tf.randomNormal(c.f, 0, 0.3, "float32", 5) as tf.Tensor4D;
          const r = tf.randomNormal(tf.conv2d(x, f, 1, c.pad).shape, 0, 1, "float32", 6);
          return tf.grad((b) => tf.sum(tf.mul(tf.conv2d(x, b as tf.Tensor4D, 1, c.pad), r)))(f);
        });
        out.push(await df.data() as Float32Array);
        df.dispose();
      }
      assert.deepEqual(out[1], out[0], JSON.stringify(c));
    }
  } finally {
    setWinogradChunkedFilterGrad(true);
    setWinograd(true);
  }
});

Deno.test("the fused F(4x4) convolution gives the bits of the staged pipeline", async () => {
  await selectBackend({ backend: "wasm", threads: 1 });
  setWinograd(true, { anySize: true });
  setWinograd63(false); // F(6x6) has no staged route: these sizes would take it
  // Chunks of rows tile rows, rows = FUSED_CHUNK / (tw·(C + K)): one chunk; chunks that cross
  // images with a short last one ("valid", partial tiles, bias and relu); a filter of 128 x 128.
  const cases: (Case & { rows: number; total: number })[] = [
    { x: [2, 8, 8, 16], f: [3, 3, 16, 16], pad: "same", fused: "relu", rows: 64, total: 4 },
    { x: [3, 13, 11, 64], f: [3, 3, 64, 128], pad: "valid", fused: "relu", rows: 7, total: 9 },
    { x: [2, 10, 10, 128], f: [3, 3, 128, 128], pad: "same", fused: "linear", rows: 5, total: 6 },
    { x: [2, 9, 9, 16], f: [3, 3, 16, 24], pad: "same", rows: 34, total: 6 },
  ];
  for (const c of cases) {
    const oh = c.x[1] - (c.pad === "valid" ? 2 : 0), ow = c.x[2] - (c.pad === "valid" ? 2 : 0);
    const tw = Math.ceil(ow / 4);
    assert.equal(Math.floor(FUSED_CHUNK / (tw * (c.x[3] + c.f[3]))), c.rows, JSON.stringify(c));
    assert.equal(c.x[0] * Math.ceil(oh / 4), c.total, JSON.stringify(c));
  }
  try {
    for (const c of cases) {
      const out: Float32Array[] = [];
      for (const fused of [false, true]) {
        setWinogradFused(fused);
        const y = tf.tidy(() => convCase(c));
        out.push(await y.data() as Float32Array);
        y.dispose();
      }
      assert.deepEqual(out[1], out[0], JSON.stringify(c));
      // The input gradient (the convolution with the rotated filter) too.
      const dx: Float32Array[] = [];
      for (const fused of [false, true]) {
        setWinogradFused(fused);
        const g = tf.tidy(() => {
          const v = c.pad === "valid" ? 2 : 0;
          const dy = tf.randomNormal([c.x[0], c.x[1] - v, c.x[2] - v, c.f[3]], 0, 1, "float32", 4);
          const w = tf.randomNormal(c.f, 0, 0.3, "float32", 5) as tf.Tensor4D;
          return tf.conv2dTranspose(dy as tf.Tensor4D, w, c.x, 1, c.pad as "same" | "valid");
        });
        dx.push(await g.data() as Float32Array);
        g.dispose();
      }
      assert.deepEqual(dx[1], dx[0], `input gradient ${JSON.stringify(c)}`);
    }
  } finally {
    setWinogradFused(true);
    setWinograd63(true);
    setWinograd(true);
  }
});

Deno.test("transformed filters are cached per filter and freed after it", async () => {
  await selectBackend({ backend: "wasm", threads: 1 });
  setWinograd(true, { anySize: true });
  try {
    const x = tf.randomNormal([1, 8, 8, 8], 0, 1, "float32", 7) as tf.Tensor4D;
    const f1 = tf.randomNormal([3, 3, 8, 8], 0, 1, "float32", 8) as tf.Tensor4D;
    clearWinogradCache();
    tf.conv2d(x, f1, 1, "same").dispose();
    assert.equal(winogradCacheSize(), 1);
    tf.conv2d(x, f1, 1, "same").dispose();
    assert.equal(winogradCacheSize(), 1, "second call with the same filter: a hit");
    f1.dispose();
    const f2 = tf.randomNormal([3, 3, 8, 8], 0, 1, "float32", 9) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    tf.conv2d(x, f2, 1, "same").dispose();
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
    assert.equal(winogradCacheSize(), 1, "f1's entry was swept when f2's was added");
    tf.dispose([x, f2]);
  } finally {
    setWinograd(true);
  }
});

Deno.test({
  name: "Winograd on threaded WASM (shared memory module) matches tfjs's convolution",
  ignore: (navigator.hardwareConcurrency ?? 1) < 2,
  fn: async () => {
    const code = `import { selectBackend } from "${repoUrl("src/backend/select.ts")}";
      import { tf } from "${repoUrl("src/deps.ts")}";
      import { setWinograd } from "${repoUrl("src/backend/kernels/winograd.ts")}";
      const info = await selectBackend({ backend: "wasm", threads: 2 });
      const shared = tf.backend().wasm.wasmMemory?.buffer instanceof SharedArrayBuffer;
      // F(4x4) at 16 x 16, F(6x6) at 12 x 12 (its filter transform split by input channels)
      const out = [[16, 64, 1e-4], [12, 32, 5e-4]].map(([s, c, tol]) => {
        setWinograd(true, { anySize: true });
        const x = tf.randomNormal([8, s, s, c], 0, 1, "float32", 1);
        const f = tf.randomNormal([3, 3, c, c], 0, 0.1, "float32", 2);
        const w = tf.conv2d(x, f, 1, "same").dataSync();
        setWinograd(false);
        const d = tf.conv2d(x, f, 1, "same").dataSync();
        let e = 0, diff = 0;
        for (let i = 0; i < d.length; i++) {
          e = Math.max(e, Math.abs(w[i] - d[i]) / (1 + Math.abs(d[i])));
          if (w[i] !== d[i]) diff++;
        }
        return { s, e, diff, tol };
      });
      console.log(JSON.stringify({ threads: info.threads, shared, out }));`;
    const r = await evalJson(code) as {
      threads: number;
      shared: boolean;
      out: { s: number; diff: number; e: number; tol: number }[];
    };
    assert.equal(r.threads, 2);
    assert.equal(r.shared, true);
    for (const o of r.out) {
      assert.ok(o.diff > 0, `${o.s} px: Winograd did not run`);
      assert.ok(o.e < o.tol, `${o.s} px: max rel err ${o.e}`);
    }
  },
});

Deno.test("a new filter with few tiles runs transposed, a reused one in the packed form; both match cpu", async () => {
  // 8 tiles of 2x2 for 32 channels: transposed F(2x2) while new; the packed form is F(4x4).
  const shape = { x: [2, 4, 4, 32] as Shape4, f: [3, 3, 32, 24] as Shape4 };
  await selectBackend({ backend: "cpu" });
  const ref = tf.tidy(() =>
    tf.conv2d(
      tf.randomNormal(shape.x, 0, 1, "float32", 11) as tf.Tensor4D,
      tf.randomNormal(shape.f, 0, 0.3, "float32", 12) as tf.Tensor4D,
      1,
      "same",
    )
  ).dataSync() as Float32Array;
  await selectBackend({ backend: "wasm", threads: 1 });
  setWinograd(true, { anySize: true });
  try {
    const x = tf.randomNormal(shape.x, 0, 1, "float32", 11) as tf.Tensor4D;
    const f = tf.randomNormal(shape.f, 0, 0.3, "float32", 12) as tf.Tensor4D;
    const runs: Float32Array[] = [];
    for (let i = 0; i < 4; i++) runs.push(tf.conv2d(x, f, 1, "same").dataSync() as Float32Array);
    for (const [i, r] of runs.entries()) {
      assert.ok(maxRelErr(r, ref) < 1e-4, `call ${i + 1}: ${maxRelErr(r, ref)}`);
    }
    assert.deepEqual(runs[1], runs[0], "calls 1 and 2: the same (transposed) computation");
    assert.deepEqual(runs[3], runs[2], "calls 3 and 4: the same (packed-filter) computation");
    assert.ok(maxRelErr(runs[2], runs[0]) > 0, "the two forms both ran");
    tf.dispose([x, f]);
  } finally {
    setWinograd(true);
  }
});

Deno.test("a ResNet-18 training step's gradients on WASM, with every byel kernel forced, match cpu", async () => {
  // Width 0.5 at 32 px: channels 32-256 at 8x8 down to 1x1, so with `anySize` every 3x3
  // stride-1 convolution takes Winograd (both tile sizes, transposed products, the input- and
  // filter-gradient routes), and BatchNorm, the stem's patches and the transposed products run
  // on byel's kernels too.
  const arch = {
    family: "resnet",
    inputNorm: "imagenet",
    norm: "batch",
    depth: 18,
    width: 0.5,
    stem: "imagenet",
    inputSize: 32,
  } as const;
  const grads = async (backend: "cpu" | "wasm") => {
    await selectBackend({ backend, threads: backend === "wasm" ? 1 : undefined });
    const p = new Params();
    const dim = resnetInit(p, "net", { arch, rng: new Rng(3) });
    p.add("head.w", tf.randomNormal([dim, 6], 0, 0.1, "float32", 4));
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, "float32", 5) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], "int32"), 6);
    const names = p.trainable();
    const { value, grads } = tf.variableGrads(() => {
      const feat = resnetForward(p, "net", x, { arch, ctx: { train: true } });
      return tf.losses.softmaxCrossEntropy(y, tf.matMul(feat, p.get("head.w"))) as tf.Scalar;
    }, names.map((n) => p.get(n)));
    const out = new Map<string, Float32Array>();
    for (const n of names) out.set(n, await grads[p.get(n).name].data() as Float32Array);
    out.set("loss", await value.data() as Float32Array);
    tf.dispose([value, ...Object.values(grads), x, y]);
    p.dispose();
    return out;
  };
  const ref = await grads("cpu");
  setWinograd(true, { anySize: true });
  try {
    const got = await grads("wasm");
    // Error relative to each gradient's largest entry: float32 through 20 layers lands near
    // 1e-4 on WASM with or without Winograd (measured 3e-5 to 1.5e-4 both ways).
    for (const [name, r] of ref) {
      const g = got.get(name)!;
      let err = 0, scale = 0;
      for (let i = 0; i < r.length; i++) {
        err = Math.max(err, Math.abs(g[i] - r[i]));
        scale = Math.max(scale, Math.abs(r[i]));
      }
      assert.ok(err <= 1e-3 * scale, `${name}: error ${err} against largest ${scale}`);
    }
  } finally {
    setWinograd(true);
  }
});
