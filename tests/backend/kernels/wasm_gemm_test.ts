/**
 * byel's `gemm_ab` (`src/backend/kernels/wasm_simd/gemm.c`, the Winograd products): `C = A B`
 * for shapes that take every path (4 x 8 blocks from a packed panel, 4-column and single-column
 * tails of N, single rows of M's tail, K of 1), bit for bit against float32 arithmetic done
 * here, and its rows split anywhere give the same bits.
 */
import assert from "node:assert/strict";
import { PLAIN } from "../../../src/backend/kernels/wasm_simd/module.ts";

const memory = new WebAssembly.Memory({ initial: 64 });
const module = new WebAssembly.Module(Uint8Array.from(atob(PLAIN), (c) => c.charCodeAt(0)));
const gemmAb = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm_ab as (
  ...args: number[]
) => void;

/** `C = A B` in float32 (each product rounded, then added to the sum in order of k, from 0). */
function reference(a: Float32Array, b: Float32Array, m: number, n: number, k: number) {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s = Math.fround(s + Math.fround(a[i * k + t] * b[t * n + j]));
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Runs gemm_ab on rows [r0, r1) of A at byte offsets in this test's memory. */
function run(a: Float32Array, b: Float32Array, m: number, n: number, k: number, splits: number[]) {
  const pa = 0, pb = pa + 4 * a.length, pc = pb + 4 * b.length, panel = pc + 4 * m * n;
  const f32 = new Float32Array(memory.buffer);
  f32.set(a, pa / 4);
  f32.set(b, pb / 4);
  f32.fill(NaN, pc / 4, pc / 4 + m * n + 8 * k); // every output must be written
  const bounds = [0, ...splits, m];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [r0, r1] = [bounds[i], bounds[i + 1]];
    gemmAb(pa + 4 * r0 * k, pb, pc + 4 * r0 * n, r1 - r0, n, k, panel);
  }
  return new Float32Array(memory.buffer, pc, m * n).slice();
}

Deno.test("gemm_ab gives float32 arithmetic's bits on every path, its rows split anywhere", () => {
  // [M, N, K]: blocks only; N tail of 4; N tails of 1-3; M tail; K = 1; one row; wide K.
  const shapes = [[8, 16, 12], [4, 12, 7], [5, 11, 9], [9, 21, 5], [6, 8, 1], [1, 3, 4], [
    12,
    24,
    300,
  ]];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  for (const [m, n, k] of shapes) {
    const a = Float32Array.from({ length: m * k }, rand);
    const b = Float32Array.from({ length: k * n }, rand);
    const want = reference(a, b, m, n, k);
    const whole = run(a, b, m, n, k, []);
    assert.deepEqual(whole, want, `[${m}, ${k}] x [${k}, ${n}]`);
    if (m > 4) assert.deepEqual(run(a, b, m, n, k, [4, m - 1]), want, `[${m}, ${k}] split`);
  }
});
