import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { RECIPE_AUGMENT } from "../../src/config.ts";
import {
  affineTransform,
  augmentBatch,
  type AugmentParams,
  blur3,
  drawAugmentParams,
  drawRandConvFilter,
  hueMatrix,
  IMAGENET_MEAN,
  IMAGENET_STD,
  normalizeInput,
  RAND_CONV_SIDE,
  randomResizedCrop,
} from "../../src/data/augment.ts";
import { Rng } from "../../src/rng.ts";
import "../../src/backend/kernels/mod.ts";
import { selectBackend } from "../../src/backend/select.ts";

await tf.setBackend("cpu");

const identity: AugmentParams = {
  crop: [0, 0, 8, 8],
  flip: false,
  zoom: 1,
  rotation: 0,
  shift: [0, 0],
  brightness: 1,
  contrast: 1,
  saturation: 1,
  hue: 0,
  grayscale: false,
  blurSigma: 0,
  randConv: 0,
  randConvFilter: [],
};

Deno.test("randomResizedCrop() stays inside the image and within the scale range", () => {
  const rng = new Rng(1);
  for (let i = 0; i < 200; i++) {
    const [top, left, h, w] = randomResizedCrop(64, { scale: [0.2, 1], ratio: [0.75, 4 / 3], rng });
    assert.ok(top >= 0 && left >= 0 && top + h <= 64 && left + w <= 64);
    assert.ok((h * w) / 4096 >= 0.15 && (h * w) / 4096 <= 1.05);
  }
});

Deno.test("drawAugmentParams() is reproducible from the seed and honours the probabilities", () => {
  const a = drawAugmentParams(RECIPE_AUGMENT, 500, { size: 64, rng: new Rng(5) });
  const b = drawAugmentParams(RECIPE_AUGMENT, 500, { size: 64, rng: new Rng(5) });
  assert.deepEqual(a, b);
  const frac = (f: (p: AugmentParams) => boolean) => a.filter(f).length / a.length;
  assert.ok(Math.abs(frac((p) => p.flip) - 0.5) < 0.08);
  assert.ok(Math.abs(frac((p) => p.grayscale) - 0.2) < 0.06);
  assert.ok(Math.abs(frac((p) => p.blurSigma > 0) - 0.2) < 0.06);
  assert.ok(Math.abs(frac((p) => p.brightness !== 1) - 0.3) < 0.07);
  for (const p of a) {
    assert.ok(p.blurSigma === 0 || (p.blurSigma >= 1 && p.blurSigma <= 2));
    assert.ok(Math.abs(p.hue) <= 0.2);
  }
});

/** Where the transform sends output pixel (x, y). */
function apply(t: number[], x: number, y: number): [number, number] {
  return [t[0] * x + t[1] * y + t[2], t[3] * x + t[4] * y + t[5]];
}

Deno.test("affineTransform() maps output pixels to the source as crop, flip, zoom, rotation, shift say", () => {
  const close = (a: number[], b: number[]) =>
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-9, `${a} != ${b}`));
  const id = { ...identity, crop: [0, 0, 64, 64] as [number, number, number, number] };
  close(affineTransform(id, 64), [1, 0, 0, 0, 1, 0, 0, 0]);
  // A 64 px source shown at 32 px: output pixel centres land on the 2x2 blocks' centres.
  close(apply(affineTransform(id, 32), 0, 0), [0.5, 0.5]);
  // The right half of the image (a 32 x 64 crop) at 32 px: x maps into 32..63.
  close(apply(affineTransform({ ...id, crop: [0, 32, 64, 32] }, 32), 0, 0), [32, 0.5]);
  // A flip sends column 0 to column 63.
  close(apply(affineTransform({ ...id, flip: true }, 64), 0, 10), [63, 10]);
  // Zoom 2 about the centre: the corner shows the point halfway to the centre.
  close(apply(affineTransform({ ...id, zoom: 2 }, 64), -0.5, -0.5), [15.5, 15.5]);
  // A quarter turn (counter-clockwise): the top-left corner shows the source's top-right one.
  close(apply(affineTransform({ ...id, rotation: Math.PI / 2 }, 64), -0.5, -0.5), [63.5, -0.5]);
  // Content shifted right by 10%: output pixel 6.4 + x shows source pixel x.
  close(apply(affineTransform({ ...id, shift: [0.1, 0] }, 64), 16.4, 16), [10, 16]);
});

Deno.test("augmentBatch() with identity parameters only normalises", () => {
  const img = tf.randomUniform([2, 8, 8, 3]) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const out = augmentBatch(img, [identity, identity], { inputSize: 8, inputNorm: "imagenet" });
  assert.equal(tf.memory().numTensors, before + 1);
  const want = tf.div(tf.sub(img, [...IMAGENET_MEAN]), [...IMAGENET_STD]);
  assert.ok(tf.max(tf.abs(tf.sub(out, want))).dataSync()[0] < 1e-5);
  tf.dispose([img, out, want]);
});

Deno.test("augmentBatch() flips, grays and blurs per image", () => {
  const img = tf.randomUniform([3, 8, 8, 3]) as tf.Tensor4D;
  const flip = { ...identity, flip: true };
  const gray = { ...identity, grayscale: true };
  const blur = { ...identity, blurSigma: 1.5 };
  const out = augmentBatch(img, [flip, gray, blur], { inputSize: 8, inputNorm: "imagenet" });
  const raw = tf.add(tf.mul(out, [...IMAGENET_STD]), [...IMAGENET_MEAN]);
  const [f, g, b] = tf.unstack(raw);
  const [i0, , i2] = tf.unstack(img);
  assert.ok(tf.max(tf.abs(tf.sub(f, tf.reverse(i0, 1)))).dataSync()[0] < 1e-5);
  const gv = g.arraySync() as number[][][];
  assert.ok(Math.abs(gv[3][4][0] - gv[3][4][2]) < 1e-5);
  const sd = (t: tf.Tensor) => tf.moments(t).variance.dataSync()[0];
  assert.ok(sd(b) < sd(i2)); // blur lowers the variance of noise
  tf.dispose([img, out, raw, f, g, b, i0, i2]);
});

Deno.test("hueMatrix() is the identity at 0 and keeps grays gray", () => {
  const m0 = hueMatrix(0);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(m0[i][j] - (i === j ? 1 : 0)) < 1e-6);
  }
  const m = hueMatrix(0.2);
  for (const row of m) assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-3);
});

Deno.test("normalizeInput() standardises each image (image, gray) or by ImageNet's statistics", () => {
  const x = tf.add(tf.mul(tf.randomUniform([3, 6, 6, 3], 0, 1, "float32", 4), [0.2, 0.5, 1]), [
    [[[0.1]]],
    [[[0.3]]],
    [[[0]]],
  ]) as tf.Tensor4D;
  for (const norm of ["image", "gray"] as const) {
    const y = normalizeInput(x, norm);
    const { mean, variance } = tf.moments(y, [1, 2, 3]);
    for (const m of mean.dataSync()) assert.ok(Math.abs(m) < 1e-5);
    // unit variance, short of 1 by the 1e-3 added to the deviation
    for (const v of variance.dataSync()) assert.ok(v > 0.97 && v <= 1, `variance ${v}`);
    if (norm === "gray") {
      const [r, g, b] = tf.split(y, 3, 3).map((t) => t.dataSync());
      r.forEach((v, i) => assert.ok(v === g[i] && v === b[i]));
    }
    tf.dispose([y, mean, variance]);
  }
  // A brighter, higher-contrast copy normalises to the same image.
  const a = normalizeInput(x, "image"),
    b = normalizeInput(tf.add(tf.mul(x, 1.7), 0.2) as tf.Tensor4D, "image");
  assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] < 1e-2); // (the 1e-3 again)
  tf.dispose([x, a, b]);
});

/** A [7, 7, 3, 3] RandConv filter holding `w` ([k, k, 3, 3]) at its centre. */
function centred(w: number[][][][]): number[] {
  const k = w.length, off = (RAND_CONV_SIDE - k) / 2;
  const f = new Array(RAND_CONV_SIDE * RAND_CONV_SIDE * 9).fill(0);
  for (let y = 0; y < k; y++) {
    for (let x = 0; x < k; x++) {
      for (let i = 0; i < 3; i++) {
        for (let o = 0; o < 3; o++) {
          f[((y + off) * RAND_CONV_SIDE + x + off) * 9 + i * 3 + o] = w[y][x][i][o];
        }
      }
    }
  }
  return f;
}

Deno.test("augmentBatch() RandConv: per-image filters, matched to the image's statistics, blended by weight", () => {
  const img = tf.randomUniform([3, 8, 8, 3], 0, 1, "float32", 9) as tf.Tensor4D;
  // Image 0: a 1x1 filter swapping red and blue, weight 1: the same mean and spread, so the
  // output is exactly the swapped image. Image 1: untouched. Image 2: a 3x3 filter, weight 0.4.
  const swap = [[[[0, 0, 1], [0, 1, 0], [1, 0, 0]]]];
  const rng = new Rng(3);
  const w3 = [0, 1, 2].map(() =>
    [0, 1, 2].map(() => [0, 1, 2].map(() => [0, 1, 2].map(() => rng.normal())))
  );
  const params = [
    { ...identity, randConv: 1, randConvFilter: centred(swap) },
    identity,
    { ...identity, randConv: 0.4, randConvFilter: centred(w3) },
  ];
  const out = augmentBatch(img, params, { inputSize: 8, inputNorm: "imagenet" });
  const raw = tf.unstack(tf.add(tf.mul(out, [...IMAGENET_STD]), [...IMAGENET_MEAN]));
  const src = tf.unstack(img);
  const close = (a: tf.Tensor, b: tf.Tensor, tol: number) =>
    tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] < tol;
  assert.ok(close(raw[0], tf.reverse(src[0], 2), 5e-4)); // (the 1e-4 added to the deviation)
  assert.ok(close(raw[1], src[1], 1e-5));
  // Reference for image 2: reflect pad, a plain conv2d, standardise, blend, clip.
  const x = tf.expandDims(src[2], 0) as tf.Tensor4D;
  const pad = tf.mirrorPad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], "reflect");
  const y = tf.conv2d(pad, tf.tensor4d(w3.flat(3), [3, 3, 3, 3]), 1, "valid");
  const mx = tf.moments(x), my = tf.moments(y);
  const m = tf.add(
    tf.mul(tf.div(tf.sub(y, my.mean), tf.sqrt(my.variance)), tf.sqrt(mx.variance)),
    mx.mean,
  );
  const want = tf.squeeze(tf.clipByValue(tf.add(tf.mul(x, 0.6), tf.mul(m, 0.4)), 0, 1), [0]);
  assert.ok(close(raw[2], want, 1e-3));
  assert.ok(!close(raw[2], src[2], 1e-2)); // and it did change the image
  tf.dispose([
    img,
    out,
    ...raw,
    ...src,
    x,
    pad,
    y,
    mx.mean,
    mx.variance,
    my.mean,
    my.variance,
    m,
    want,
  ]);
});

Deno.test("drawAugmentParams() draws RandConv only when enabled, with centred filters of side 1-7", () => {
  const off = drawAugmentParams(RECIPE_AUGMENT, 50, { size: 16, rng: new Rng(2) });
  assert.ok(off.every((p) => p.randConv === 0 && p.randConvFilter.length === 0));
  const on = drawAugmentParams({ ...RECIPE_AUGMENT, randConvP: 0.5 }, 400, {
    size: 16,
    rng: new Rng(2),
  });
  const used = on.filter((p) => p.randConv > 0);
  assert.ok(Math.abs(used.length / on.length - 0.5) < 0.08);
  const sides = new Set<number>();
  for (const p of used) {
    // the side is the extent of the non-zero taps around the centre
    let r = 0;
    p.randConvFilter.forEach((v, j) => {
      if (v === 0) return;
      const t = Math.floor(j / 9), y = Math.floor(t / 7), x = t % 7;
      r = Math.max(r, Math.abs(y - 3), Math.abs(x - 3));
    });
    sides.add(2 * r + 1);
  }
  assert.deepEqual([...sides].sort(), [1, 3, 5, 7]);
  // Kaiming scale: a 1x1 filter's taps have variance 1/3.
  const taps = Array.from({ length: 2000 }, (_, i) => drawRandConvFilter(new Rng(7, i)))
    .filter((f) => f.filter((v) => v !== 0).length === 9).flatMap((f) => f.filter((v) => v !== 0));
  const v = taps.reduce((s, t) => s + t * t, 0) / taps.length;
  assert.ok(Math.abs(v - 1 / 3) < 0.05, `variance ${v}`);
});

Deno.test("blur3() on WASM (one kernel) gives the bits of tfjs's slices and addN, on cpu too", async () => {
  const byOps = (x: tf.Tensor4D, s: number[]) =>
    tf.tidy(() => {
      // The composition the kernel replaces, written out: reflect pad, eight shifted views.
      const [n, h, w] = x.shape;
      const pad = tf.mirrorPad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], "reflect");
      const at = (dy: number, dx: number) => tf.slice(pad, [0, 1 + dy, 1 + dx, 0], [n, h, w, 3]);
      const a = s.map((v) => (v > 0 ? Math.exp(-1 / (2 * v * v)) : 0));
      const per = (f: (a: number, zz: number) => number) =>
        tf.tensor4d(a.map((v) => f(v, (1 + 2 * v) * (1 + 2 * v))), [n, 1, 1, 1]);
      const edges = tf.addN([at(-1, 0), at(1, 0), at(0, -1), at(0, 1)]);
      const corners = tf.addN([at(-1, -1), at(-1, 1), at(1, -1), at(1, 1)]);
      return tf.addN([
        tf.mul(x, per((_, zz) => 1 / zz)),
        tf.mul(edges, per((v, zz) => v / zz)),
        tf.mul(corners, per((v, zz) => (v * v) / zz)),
      ]);
    });
  for (const backend of ["wasm", "cpu"] as const) {
    await selectBackend({ backend, threads: backend === "wasm" ? 1 : undefined });
    for (const [h, w] of [[2, 2], [3, 5], [17, 9], [48, 48]]) {
      const x = tf.randomUniform([5, h, w, 3], 0, 1, "float32", h * w) as tf.Tensor4D;
      const s = [0, 0.4, 0.9, 1.5, 3];
      const got = blur3(x, s), want = byOps(x, s);
      const g = got.dataSync(), o = want.dataSync();
      const differ = g.filter((v, i) => !Object.is(v, o[i])).length;
      assert.equal(differ, 0, `${backend} ${h}x${w}: ${differ} of ${g.length} values differ`);
      // sigma 0 is the identity
      assert.deepEqual(
        Array.from(tf.tidy(() => tf.slice(got, [0], [1]).dataSync())),
        Array.from(tf.tidy(() => tf.slice(x, [0], [1]).dataSync())),
      );
      tf.dispose([x, got, want]);
    }
  }
  await selectBackend({ backend: "cpu" });
});

Deno.test("the warp (Transform, bilinear, nearest fill) on WASM runs byel's kernel with the bits of tfjs's", async () => {
  const { setOwnWarp } = await import("../../src/backend/kernels/wasm_augment.ts");
  await selectBackend({ backend: "wasm" });
  const rng = new Rng(5);
  // Real augmentation transforms (crops, flips, zooms, rotations, shifts), a projective row,
  // one that reaches far outside the image, and one row shared by every image.
  const cases: { n: number; side: number; out: number; rows: number[][] }[] = [];
  const params = drawAugmentParams(RECIPE_AUGMENT, 6, { size: 40, rng });
  cases.push({ n: 6, side: 40, out: 32, rows: params.map((p) => affineTransform(p, 32)) });
  cases.push({
    n: 3,
    side: 17,
    out: 23,
    rows: [[1.1, 0.2, -3, -0.1, 0.9, 2, 0.01, -0.004], [5, 0, -40, 0, 5, -40, 0, 0], [
      -1,
      0,
      16,
      0,
      1,
      0,
      0,
      0,
    ]],
  });
  cases.push({ n: 4, side: 9, out: 9, rows: [[0.7, 0.1, 1.5, -0.2, 0.8, 0.5, 0, 0]] });
  for (const { n, side, out, rows } of cases) {
    const x = tf.randomUniform([n, side, side, 3], 0, 1, "float32", side) as tf.Tensor4D;
    const t = tf.tensor2d(rows.flat(), [rows.length, 8]);
    const run = () => tf.image.transform(x, t, "bilinear", "nearest", 0, [out, out]);
    const got = run();
    setOwnWarp(false);
    const want = run();
    setOwnWarp(true);
    const g = got.dataSync(), w = want.dataSync();
    assert.equal(g.length, n * out * out * 3);
    const differ = g.filter((v, i) => !Object.is(v, w[i])).length;
    assert.equal(differ, 0, `${side} -> ${out}: ${differ} of ${g.length} values differ`);
    // Other fill modes stay with tfjs's kernel (and still agree with it).
    const reflect = tf.image.transform(x, t, "bilinear", "reflect", 0, [out, out]);
    assert.equal(reflect.shape[1], out);
    tf.dispose([x, t, got, want, reflect]);
  }
  await selectBackend({ backend: "cpu" });
});
