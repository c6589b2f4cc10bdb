/**
 * Matrix products on WASM by byel's kernels (`wasm_simd/gemm.c`):
 * - plain `BatchMatMul` (`[M, K]` or `[B, M, K]` times `[K, N]`, `[1, K, N]` or `[B, K, N]`) by
 *   `gemm_ab` on every thread ({@link gemmAbMany}). tfjs-wasm sends it to XNNPACK, which packs
 *   the right operand into a new operator whenever it has not seen it: in training every weight
 *   is new each step (the BYEL heads' `[128, 512] x [512, 256]`: 4.9 ms through XNNPACK on 2
 *   threads, 3.3 by `gemm_ab` on one). A right operand used more than twice (a model in
 *   evaluation) from {@link XNNPACK_REUSED_MIN} values on goes back to XNNPACK, whose packed
 *   operator is then the faster. The same bits either way: each output is one chain of
 *   multiply-adds in k order from zero, as XNNPACK's (tests/backend/kernels/wasm_simd_test.ts).
 * - a `BatchMatMul` with `transposeA` or `transposeB`, which tfjs-backend-wasm 4.22 sends to a
 *   scalar triple loop (XNNPACK only takes the plain form): the weight gradients of every dense
 *   layer (`xᵀ·dy`), their input gradients (`dy·Wᵀ`) and the 1x1 convolution gradients, by
 *   `gemm_atb` and `gemm_abt` (rows split across threads from `TRANSPOSED_SPLIT_MACS`).
 * Other calls keep tfjs's kernel.
 *
 * @module
 */
import {
  free,
  type Info,
  output,
  type Ptr,
  ptr,
  type SimdCall,
  simdKernels,
  simdRun,
  simdSplit,
  simdThreads,
  type WasmBackend,
} from "./wasm_simd.ts";
import { interposeWasmKernel, type KernelArgs } from "./interpose.ts";

/**
 * Size (`K·N`) from which a reused right operand's product stays on XNNPACK (its operator,
 * packed once, is cached with the operand): measured on Winograd's products with a filter used
 * again and again on 2 threads, XNNPACK / `gemm_ab` time 1.14-1.35 up to 128 x 128 channels
 * (`gemm_ab` faster), 0.97 at 256 x 256 with 8 x 8 images, 0.81 at 4 x 4, 0.72 for 512 x 512.
 */
export const XNNPACK_REUSED_MIN = 256 * 256;

/**
 * Multiply-adds from which one plain product runs here: below, a call to every thread costs
 * more than it saves (`[128, 6] x [6, 6]`: 0.08 ms against XNNPACK's 0.02).
 */
export const PLAIN_MIN_MACS = 2 ** 16;

/**
 * Uses past which a right operand counts as reused (see {@link XNNPACK_REUSED_MIN}); also the
 * uses of a Winograd filter that still count as fresh (`winograd.ts`).
 */
export const FRESH_MAX_USES = 2;

/**
 * @returns whether a product with a right operand of `k x n` stays on XNNPACK because that
 * operand is a reused one whose packed operator XNNPACK keeps ({@link XNNPACK_REUSED_MIN})
 */
export function keepsXnnpack(reused: boolean, k: number, n: number): boolean {
  return reused && k * n >= XNNPACK_REUSED_MIN;
}

/**
 * `C_i = A_i B_i` for `P` pairs by `gemm_ab` (`wasm_simd/gemm.c`) on every thread: `A_i`
 * `[M, K]` at `a[i]`, `B_i` `[K, N]` at `b[i]`, `C_i` `[M, N]` at `c[i]` (byte addresses, row
 * major). Each product's rows go in a few parts of multiples of 4, every part one call with its
 * own `[K, 8]` panel of scratch, enough calls for every thread to get several whatever `P`.
 * Each output is one chain of k-ordered multiply-adds from zero: the same bits on any thread
 * count, and XNNPACK's.
 */
export function gemmAbMany(
  be: WasmBackend,
  a: Ptr[],
  b: Ptr[],
  c: Ptr[],
  dims: { m: number; k: number; n: number },
): void {
  const { m, k, n } = dims;
  const parts = Math.max(
    1,
    Math.min(Math.ceil(m / 4), Math.ceil((4 * simdThreads(be)) / a.length)),
  );
  const panels = output(be, [a.length * parts, 8 * k]);
  const pp = ptr(be, panels);
  const calls: SimdCall[] = [];
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < parts; j++) {
      const r0 = 4 * Math.floor((j * m) / (4 * parts));
      const r1 = j === parts - 1 ? m : 4 * Math.floor(((j + 1) * m) / (4 * parts));
      const panel = pp + 4 * 8 * k * (i * parts + j);
      if (r1 > r0) {
        calls.push(["gemm_ab", a[i] + 4 * r0 * k, b[i], c[i] + 4 * r0 * n, r1 - r0, n, k, panel]);
      }
    }
  }
  simdRun(be, calls);
  free(be, [panels]);
}

/** Right operands' uses by data id (a weight seen again and again is a reused one). */
const _uses = new WeakMap<object, number>();
let _ownPlain = true;

/**
 * Test and benchmark hook: plain `BatchMatMul` by byel's `gemm_ab` (default) or by tfjs's
 * XNNPACK. Both give the same bits.
 */
export function setOwnMatMul(on: boolean): void {
  _ownPlain = on;
}

/** @returns `[batch, rows, cols]` of a float32 rank-2 or rank-3 tensor, else null */
function _batched(t: Info): [number, number, number] | null {
  if (t.dtype !== "float32") return null;
  if (t.shape.length === 2) return [1, t.shape[0], t.shape[1]];
  if (t.shape.length === 3) return [t.shape[0], t.shape[1], t.shape[2]];
  return null;
}

/**
 * @returns the plain product `a b` by {@link gemmAbMany} (see the module's notes), or null
 * (tfjs's kernel then runs): other ranks, a batch of `b` that is neither 1 nor `a`'s, or a
 * reused right operand from {@link XNNPACK_REUSED_MIN} values
 */
export function plainMatMul(args: KernelArgs): Info | null {
  const { a, b } = args.inputs as { a: Info; b: Info };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  if (!_ownPlain || transposeA || transposeB) return null;
  const sa = _batched(a), sb = _batched(b);
  if (!sa || !sb || !simdKernels(args.backend)) return null;
  const [batch, m, k] = sa, [bb, kb, n] = sb;
  if (kb !== k || (bb !== 1 && bb !== batch) || m * n * k === 0) return null;
  // One small or narrow product: XNNPACK's is as quick (gemm_ab's columns past the last 8 are
  // scalar: [294912, 3] x [3, 3] took 2.9 ms against 1.3). A batch of them is slower there
  // (the hue's 128 x [2304, 3] x [3, 3]: 7.6 ms against 2.7 here).
  if (batch === 1 && (n < 8 || m * k * n < PLAIN_MIN_MACS)) return null;
  const uses = (_uses.get(b.dataId) ?? 0) + 1;
  _uses.set(b.dataId, uses);
  if (keepsXnnpack(uses > FRESH_MAX_USES, k, n)) return null;
  const be = args.backend as WasmBackend;
  const rank3 = a.shape.length === 3 || b.shape.length === 3;
  const c = output(be, rank3 ? [batch, m, n] : [m, n]);
  const [pa, pb, pc] = [a, b, c].map((t) => ptr(be, t));
  const at = (p: Ptr, i: number, size: number) => p + 4 * i * size;
  const idx = Array.from({ length: batch }, (_, i) => i);
  gemmAbMany(
    be,
    idx.map((i) => at(pa, i, m * k)),
    idx.map((i) => at(pb, bb === 1 ? 0 : i, k * n)),
    idx.map((i) => at(pc, i, m * n)),
    { m, k, n },
  );
  return c;
}

/** Multiply-adds from which `gemm_abt` (`dy·Wᵀ`) is split across threads. */
export const TRANSPOSED_SPLIT_MACS = 2 ** 22;

/** @returns `[rows, cols]` of a matrix given as `[rows, cols]` or `[1, rows, cols]`, else null */
function _matrix(t: Info): [number, number] | null {
  if (t.dtype !== "float32") return null;
  if (t.shape.length === 2) return [t.shape[0], t.shape[1]];
  if (t.shape.length === 3 && t.shape[0] === 1) return [t.shape[1], t.shape[2]];
  return null;
}

/**
 * @returns the product by byel's kernels for one matrix pair (`[R, C]` or `[1, R, C]`, every
 * dimension a multiple of 4, exactly one operand transposed), or null (tfjs's kernel then runs)
 */
export function transposedMatMul(args: KernelArgs): Info | null {
  const { a, b } = args.inputs as { a: Info; b: Info };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  if (transposeA === transposeB) return null; // plain (XNNPACK), or both transposed
  const ma = _matrix(a), mb = _matrix(b);
  if (!ma || !mb || ![...ma, ...mb].every((d) => d % 4 === 0)) return null;
  const be = args.backend;
  if (!simdKernels(be)) return null;
  // aᵀ [M, K] b [K, N], or a [M, K] bᵀ [K, N]
  const [m, kk] = transposeA ? [ma[1], ma[0]] : ma, [kb, n] = transposeB ? [mb[1], mb[0]] : mb;
  if (kb !== kk) return null;
  const c = output(be, a.shape.length === 3 ? [1, m, n] : [m, n]);
  const [pa, pb, pc] = [a, b, c].map((t) => ptr(be, t));
  // Rows r0 .. r0 + count of C (for gemm_atb, columns of a: its row stride stays M).
  const rows = (r0: number, count: number): SimdCall =>
    transposeA
      ? ["gemm_atb", pa + 4 * r0, pb, pc + 4 * r0 * n, kk, count, n, m]
      : ["gemm_abt", pa + 4 * r0 * kk, pb, pc + 4 * r0 * n, count, n, kk];
  // Rows of C in chunks of 4 on every thread (each output is its own chain of adds), where that
  // pays: [128, 256] x [512, 256]ᵀ 1.39 ms against 1.48 on one thread, [128, 256] x [6, 256]ᵀ
  // 0.26 against 0.23.
  if (m * n * kk < TRANSPOSED_SPLIT_MACS) simdRun(be, [rows(0, m)]);
  else simdSplit(be, m, rows, 4);
  return c;
}

/**
 * Puts {@link plainMatMul} and {@link transposedMatMul} in front of tfjs's WASM `BatchMatMul`.
 * Idempotent.
 */
export function registerWasmMatMul(): void {
  interposeWasmKernel(
    "BatchMatMul",
    "byel-matmul",
    (args) => plainMatMul(args) ?? transposedMatMul(args),
  );
}
