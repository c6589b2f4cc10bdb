/**
 * The WASM SIMD arithmetic peak of one thread, measured: a tiny module, assembled here from
 * bytes (no toolchain), runs 12 independent f32x4 chains of `acc = acc * m + a` in a loop, as
 * a separate multiply and add (what XNNPACK's WASM SIMD kernels issue) and, where the runtime
 * has relaxed SIMD, as one fused `f32x4.relaxed_madd`. Twelve chains keep the multiply and add
 * pipelines busy without spilling V8's 16 vector registers.
 *
 * @example
 * ```ts
 * const { mulAdd } = simdPeak();
 * console.log(`${mulAdd.toFixed(1)} GFLOP/s per thread`);
 * ```
 *
 * @module
 */

const _CHAINS = 12;

function _leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function _f32(v: number): number[] {
  return [...new Uint8Array(new Float32Array([v]).buffer)];
}

function _section(id: number, body: number[]): number[] {
  return [id, ..._leb(body.length), ...body];
}

/**
 * Assembles `run(iters: i32) -> f32`: `iters` rounds of {@link _CHAINS} f32x4 multiply-adds,
 * returning lane 0 of their sum (so that no work is dead).
 *
 * @param fused use `f32x4.relaxed_madd` instead of `f32x4.mul` + `f32x4.add`
 * @returns the module's bytes
 */
export function simdModule(fused: boolean): Uint8Array<ArrayBuffer> {
  const SIMD = 0xfd, GET = 0x20, SET = 0x21;
  const splat = [SIMD, ..._leb(0x13)], add = [SIMD, ..._leb(0xe4)], mul = [SIMD, ..._leb(0xe6)];
  const madd = [SIMD, ..._leb(0x105)];
  const m = _CHAINS + 1, a = _CHAINS + 2; // locals: 0 iters, 1..12 chains, 13 m, 14 a
  const code: number[] = [
    0x43,
    ..._f32(0.9999),
    ...splat,
    SET,
    m,
    0x43,
    ..._f32(1e-4),
    ...splat,
    SET,
    a,
  ]; // deno-fmt-ignore
  for (let i = 1; i <= _CHAINS; i++) code.push(0x43, ..._f32(i / 16), ...splat, SET, i);
  code.push(0x02, 0x40, 0x03, 0x40); // block, loop
  code.push(GET, 0, 0x45, 0x0d, 1); // br_if out when iters == 0
  for (let i = 1; i <= _CHAINS; i++) {
    if (fused) code.push(GET, i, GET, m, GET, a, ...madd, SET, i);
    else code.push(GET, i, GET, m, ...mul, GET, a, ...add, SET, i);
  }
  code.push(GET, 0, 0x41, 1, 0x6b, SET, 0, 0x0c, 0, 0x0b, 0x0b); // iters -= 1; br loop; ends
  code.push(GET, 1);
  for (let i = 2; i <= _CHAINS; i++) code.push(GET, i, ...add);
  code.push(SIMD, ..._leb(0x1f), 0, 0x0b); // f32x4.extract_lane 0; end
  const body = [1, _CHAINS + 2, 0x7b, ...code]; // one local group: 14 x v128
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ..._section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]),
    ..._section(3, [1, 0]),
    ..._section(7, [1, 3, ...new TextEncoder().encode("run"), 0x00, 0]),
    ..._section(10, [1, ..._leb(body.length), ...body]),
  ]); // deno-fmt-ignore
}

/** FLOPs per loop round: chains x 4 lanes x (multiply + add). */
export const FLOPS_PER_ROUND = _CHAINS * 4 * 2;

/**
 * @returns the best of `repeats` timed runs, in GFLOP/s, on the calling thread; null when the
 * runtime rejects the module (no SIMD, or no relaxed SIMD for `fused`)
 * @param fused relaxed-SIMD fused multiply-add
 */
export function measureSimd(fused: boolean, opts: { ms?: number; repeats?: number } = {}) {
  const bytes = simdModule(fused);
  if (!WebAssembly.validate(bytes)) return null;
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const run = inst.exports.run as (n: number) => number;
  run(1000); // tier-up
  // Calibrate to ~ms per run.
  let iters = 1 << 16;
  for (;;) {
    const t0 = performance.now();
    run(iters);
    const dt = performance.now() - t0;
    if (dt > (opts.ms ?? 100) / 4 || iters > 1 << 30) {
      iters = Math.max(1, Math.round(iters * (opts.ms ?? 100) / Math.max(dt, 1e-3)));
      break;
    }
    iters *= 4;
  }
  let best = 0;
  for (let r = 0; r < (opts.repeats ?? 5); r++) {
    const t0 = performance.now();
    const v = run(iters);
    const s = (performance.now() - t0) / 1000;
    if (!Number.isFinite(v)) throw new Error(`SIMD microbenchmark diverged: ${v}`);
    best = Math.max(best, iters * FLOPS_PER_ROUND / s / 1e9);
  }
  return best;
}

/** The measured per-thread peaks. */
export interface SimdPeak {
  /** GFLOP/s per thread with f32x4.mul + f32x4.add. */
  mulAdd: number | null;
  /** GFLOP/s per thread with f32x4.relaxed_madd; null without relaxed SIMD. */
  fma: number | null;
}

/** @returns the per-thread WASM SIMD peaks, measured on the calling thread */
export function simdPeak(opts: { ms?: number; repeats?: number } = {}): SimdPeak {
  return { mulAdd: measureSimd(false, opts), fma: measureSimd(true, opts) };
}

if (import.meta.main) console.log(JSON.stringify(simdPeak()));
