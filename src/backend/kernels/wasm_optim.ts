/**
 * The optimizer's and the moving averages' updates as single WASM kernels over byel's SIMD
 * module (`wasm_simd/optim.c`), used by `Adam` (`src/train/optimizers.ts`) and `moveToward`
 * (`src/train/average.ts`) on the WASM backend:
 *
 * - `ByelAdam` `{p, g, m, v, lr1, c2}`, `{beta1, beta2, eps, weightDecay}` → `[p', m', v']`;
 * - `ByelLerp` `{a, b}`, `{decay}` → `[a d + b (1 - d)]`.
 *
 * tfjs's composition takes 12 elementwise kernels per parameter for Adam and 3 for a moving
 * average, each a call with its own set-up: for the quick preset's small networks, that
 * per-kernel cost, not the arithmetic, was the update's time. These compute the same float32
 * operations in the same order, so they give the same bits; large tensors are split into
 * chunks on every thread (`simdRun`).
 *
 * @module
 */
import { tf } from "../../deps.ts";
import type { Tensor } from "../../tensors.ts";
import { ownWasmKernelReady, registerOwnWasmKernels } from "./interpose.ts";
import { type Info, output, ptr, type SimdCall, simdRun, simdSplit } from "./wasm_simd.ts";

type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

/** Elements per chunk of an update's split (below it, one call). */
const _CHUNK = 16384;

/** Calls `call(offsetBytes, count)` over chunks of `n` elements, on every thread. */
function _byElements(
  backend: tf.KernelBackend,
  n: number,
  call: (at: number, count: number) => SimdCall,
): void {
  if (n < 2 * _CHUNK) simdRun(backend, [call(0, n)]);
  else simdSplit(backend, n, (i0, count) => call(4 * i0, count), 4);
}

function _adam({ inputs, backend, attrs }: Args): Info[] {
  const { p, g, m, v, lr1, c2 } = inputs as Record<string, Info>;
  const { beta1, beta2, eps, weightDecay } = attrs as Record<string, number>;
  const n = tf.util.sizeFromShape(p.shape);
  const po = output(backend, p.shape), mo = output(backend, p.shape), vo = output(backend, p.shape);
  const [pp, pg, pm, pv, pl, pc, ppo, pmo, pvo] = [p, g, m, v, lr1, c2, po, mo, vo].map((t) =>
    ptr(backend, t)
  );
  _byElements(backend, n, (at, count) => [
    "adam_update",
    pp + at,
    pg + at,
    pm + at,
    pv + at,
    count,
    beta1,
    1 - beta1,
    beta2,
    1 - beta2,
    eps,
    weightDecay > 0 ? 1 : 0,
    weightDecay,
    pl,
    pc,
    ppo + at,
    pmo + at,
    pvo + at,
  ]);
  return [po, mo, vo];
}

function _lerp({ inputs, backend, attrs }: Args): Info {
  const { a, b } = inputs as Record<string, Info>;
  const d = attrs.decay as number;
  const n = tf.util.sizeFromShape(a.shape);
  const out = output(backend, a.shape);
  const [pa, pb, po] = [a, b, out].map((t) => ptr(backend, t));
  _byElements(
    backend,
    n,
    (at, count) => ["lerp_update", pa + at, pb + at, count, d, 1 - d, po + at],
  );
  return out;
}

/** Registers the two kernels on the WASM backend. Idempotent. */
export function registerWasmOptim(): void {
  registerOwnWasmKernels([["ByelAdam", _adam], ["ByelLerp", _lerp]]);
}

/** @returns whether the fused updates can run on `t` (float32 on the active WASM backend) */
export function wasmOptimAvailable(t: Tensor): boolean {
  return t.dtype === "float32" && ownWasmKernelReady("ByelAdam") && ownWasmKernelReady("ByelLerp");
}
