/**
 * The BatchNorm block sums of byel's SIMD module (`wasm_simd/batch_norm.c`) against their
 * contract, bit for bit: each block's sum, per channel, is the float32 chain of adds down the
 * block's rows in order from +0, whatever the channel count (groups of 16 channels held in
 * registers, 4-channel tails, passes of rows within a block). Emulated in JavaScript with
 * `Math.fround` after every operation, which is what one float32 SIMD lane does. The gradient's
 * sums take x̂ recomputed from x as the forward computes it.
 */
import assert from "node:assert/strict";
import { PLAIN } from "../../../src/backend/kernels/wasm_simd/module.ts";

const BN_BLOCK = 128;
const f = Math.fround;

/** The module on a memory of its own, and a bump allocator of float32 arrays in it. */
function kernels() {
  const memory = new WebAssembly.Memory({ initial: 512 });
  const module = new WebAssembly.Module(Uint8Array.from(atob(PLAIN), (c) => c.charCodeAt(0)));
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<
    string,
    (...a: number[]) => void
  >;
  let top = 64;
  const alloc = (values: number[] | number): { at: number; get: () => Float32Array } => {
    const n = typeof values === "number" ? values : values.length;
    const at = top;
    top += 4 * n + 64;
    if (typeof values !== "number") new Float32Array(memory.buffer, at, n).set(values);
    return { at, get: () => new Float32Array(memory.buffer, at, n).slice() };
  };
  return { k, alloc };
}

/** @returns `[blocks, C]` sums of `term(row, channel)` in row order from +0, as float32 */
function blockSums(rows: number, c: number, term: (r: number, ch: number) => number) {
  const blocks = Math.ceil(rows / BN_BLOCK), out = new Float32Array(blocks * c);
  for (let b = 0; b < blocks; b++) {
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let r = b * BN_BLOCK; r < Math.min(rows, (b + 1) * BN_BLOCK); r++) {
        s = f(s + term(r, ch));
      }
      out[b * c + ch] = s;
    }
  }
  return out;
}

/** Values with large and small magnitudes, so that a different order of adds shows. */
const values = (n: number, seed: number) =>
  Array.from(
    { length: n },
    (_, i) => f(Math.sin(i * 0.731 + seed) * 10 ** ((i * 7 + seed) % 5 - 2)),
  );

Deno.test("BatchNorm block sums (bn_sum_blocks, bn_sqdev_blocks) are the in-order float32 sums", () => {
  // 300 rows: two full blocks and a tail of 44; the channel counts take 16-channel groups, a
  // 4-channel tail after them, and passes of 56, 32 and 4 rows inside a block.
  for (const c of [4, 16, 36, 64, 512]) {
    const rows = c === 512 ? 140 : 300;
    const { k, alloc } = kernels();
    const xs = values(rows * c, c), mean = values(c, 1);
    const x = alloc(xs), m = alloc(mean), out = alloc(Math.ceil(rows / BN_BLOCK) * c);
    k.bn_sum_blocks(x.at, rows, c, out.at);
    assert.deepEqual(out.get(), blockSums(rows, c, (r, ch) => xs[r * c + ch]), `sums, C ${c}`);
    k.bn_sqdev_blocks(x.at, rows, c, m.at, out.at);
    const sq = (r: number, ch: number) => {
      const d = f(xs[r * c + ch] - mean[ch]);
      return f(d * d);
    };
    assert.deepEqual(out.get(), blockSums(rows, c, sq), `squared deviations, C ${c}`);
  }
});

Deno.test("BatchNorm gradient block sums (bn_grad_blocks) are the in-order float32 sums, with and without the relu's step", () => {
  for (const c of [4, 16, 32, 36]) {
    const rows = 300;
    const { k, alloc } = kernels();
    const dys = values(rows * c, 2), xs = values(rows * c, 3);
    const mean = values(c, 5), invStd = values(c, 6).map((v) => f(1 / (1 + Math.abs(v))));
    // The relu's output: zero for about half of the entries, which then pass no gradient.
    const outs = values(rows * c, 4).map((v) => (v > 0 ? v : 0));
    const [dy, x, m, is, out] = [dys, xs, mean, invStd, outs].map((v) => alloc(v));
    const blocks = Math.ceil(rows / BN_BLOCK);
    const db = alloc(blocks * c), dg = alloc(blocks * c);
    for (const relu of [false, true]) {
      k.bn_grad_blocks(dy.at, x.at, m.at, is.at, rows, c, db.at, dg.at, relu ? out.at : 0);
      const g = (r: number, ch: number) => {
        const i = r * c + ch;
        return relu ? f(dys[i] * (outs[i] > 0 ? 1 : 0)) : dys[i];
      };
      // x̂ recomputed as the forward has it: (x - mean) · invStd.
      const xHat = (r: number, ch: number) => f(f(xs[r * c + ch] - mean[ch]) * invStd[ch]);
      const what = `C ${c}${relu ? ", relu" : ""}`;
      assert.deepEqual(db.get(), blockSums(rows, c, g), `dbeta sums, ${what}`);
      const gx = (r: number, ch: number) => f(g(r, ch) * xHat(r, ch));
      assert.deepEqual(dg.get(), blockSums(rows, c, gx), `dgamma sums, ${what}`);
    }
  }
});
