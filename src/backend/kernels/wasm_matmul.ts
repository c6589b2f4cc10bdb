/**
 * Transposed matrix products on WASM. tfjs-backend-wasm 4.22 sends a `BatchMatMul` with
 * `transposeA` or `transposeB` to a scalar triple loop (XNNPACK only takes the plain form): the
 * weight gradients of every dense layer (`xᵀ·dy`), their input gradients (`dy·Wᵀ`) and the 1x1
 * convolution gradients. Those run here on byel's `gemm_atb` / `gemm_abt`
 * (`wasm_simd/gemm.c`, SIMD, single-threaded); other calls keep tfjs's kernel.
 *
 * @module
 */
import { type Info, output, ptr, simdKernels } from "./wasm_simd.ts";
import { interposeWasmKernel, type KernelArgs } from "./interpose.ts";

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
  const k = simdKernels(args.backend);
  if (!k) return null;
  const be = args.backend;
  const outShape = (m: number, n: number) => (a.shape.length === 3 ? [1, m, n] : [m, n]);
  if (transposeA) {
    const [kk, m] = ma, [kb, n] = mb; // aᵀ [M, K] b [K, N]
    if (kb !== kk) return null;
    const c = output(be, outShape(m, n));
    k.gemm_atb(ptr(be, a), ptr(be, b), ptr(be, c), kk, m, n);
    return c;
  }
  const [m, kk] = ma, [n, kb] = mb; // a [M, K] bᵀ [K, N]
  if (kb !== kk) return null;
  const c = output(be, outShape(m, n));
  k.gemm_abt(ptr(be, a), ptr(be, b), ptr(be, c), m, n, kk);
  return c;
}

/** Puts {@link transposedMatMul} in front of tfjs's WASM `BatchMatMul`. Idempotent. */
export function registerWasmMatMul(): void {
  interposeWasmKernel("BatchMatMul", "transposed-matmul", transposedMatMul);
}
