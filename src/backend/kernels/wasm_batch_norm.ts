/**
 * BatchNorm in training as three WASM kernels over byel's SIMD module (`wasm_simd/batch_norm.c`),
 * used by `batchNormTrain` (`../batch_norm.ts`) on the WASM backend:
 *
 * - `ByelBnStats` `{x}` → `[mean, variance]` (biased), per channel;
 * - `ByelBnNorm` `{x, mean, variance, gamma, beta}`, `{epsilon, relu}` → `[y, invStd]`, `y`
 *   through a relu when `relu` is set (tfjs's `Relu`: `max(0, y)`);
 * - `ByelBnGrad` `{dy, x, mean, gamma, invStd[, out]}` → `[dx, dGamma, dBeta]` (the closed
 *   form); with `out` (the relu's output), `dy` first times the relu's step (`out > 0`), as
 *   tfjs's relu gradient `dy · step(x)`: the same bits as the three kernels (`Cast`, `Step`,
 *   `Multiply`) and the `Relu` that the fused form saves.
 *
 * The gradient recomputes `x̂ = (x - mean) · invStd` from `x` (the same bits as the forward's)
 * instead of the forward writing it out: the forward then writes one tensor instead of two, and
 * training keeps `x` alive for the gradient in place of an `x̂` of the same size.
 *
 * Each is one or two passes over the data; tfjs's route took two transposing reductions for
 * the statistics and about ten full-size elementwise kernels for the forward and backward.
 * The passes run in chunks of rows on every thread (`simdRun`); sums are taken per block of
 * 128 rows and the blocks added in order, so the result has the same bits on any thread count.
 * `x` is `[..., C]` with C a multiple of 4, float32.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import {
  free,
  type Info,
  output,
  ptr,
  type SimdCall,
  simdKernels,
  simdSplit,
} from "./wasm_simd.ts";
import type { Tensor } from "../../tensors.ts";
import { ownWasmKernelReady, registerOwnWasmKernels } from "./interpose.ts";

type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

/** Rows per summation block (`BN_BLOCK` in `wasm_simd/batch_norm.c`). */
const BN_BLOCK = 128;

function _rowsAndChannels(x: Info): [number, number] {
  const c = x.shape[x.shape.length - 1];
  return [tf.util.sizeFromShape(x.shape) / c, c];
}

/**
 * Runs `call(r0, n)` for chunks of rows `r0 .. r0 + n` (multiples of {@link BN_BLOCK}) on every
 * thread; `at.row(p, r0)` and `at.block(p, r0)` are the addresses of row `r0` of a `[rows, C]`
 * array and of its block's row in a `[blocks, C]` array of block sums.
 */
function _byRows(
  backend: tf.KernelBackend,
  rows: number,
  c: number,
  call: (r0: number, n: number, at: _Addresses) => SimdCall,
): void {
  const at: _Addresses = {
    row: (p: number, r0: number) => p + 4 * r0 * c,
    block: (p: number, r0: number) => p + 4 * (r0 / BN_BLOCK) * c,
  };
  simdSplit(backend, rows, (r0, n) => call(r0, n, at), BN_BLOCK);
}

/** Addresses within a chunk of rows: see {@link _byRows}. */
interface _Addresses {
  row(p: number, r0: number): number;
  block(p: number, r0: number): number;
}

function _stats({ inputs, backend }: Args): Info[] {
  const { x } = inputs as { x: Info };
  const k = simdKernels(backend)!;
  const [rows, c] = _rowsAndChannels(x);
  const blocks = Math.ceil(rows / BN_BLOCK);
  const mean = output(backend, [c]), variance = output(backend, [c]);
  const sums = output(backend, [blocks, c]);
  const [px, pm, pv, ps] = [x, mean, variance, sums].map((t) => ptr(backend, t));
  // Block sums on every thread, then their sum in order: the same bits on any thread count.
  _byRows(
    backend,
    rows,
    c,
    (r0, n, at) => ["bn_sum_blocks", at.row(px, r0), n, c, at.block(ps, r0)],
  );
  k.bn_combine(ps, blocks, c, rows, pm);
  _byRows(backend, rows, c, (r0, n, at) => [
    "bn_sqdev_blocks",
    at.row(px, r0),
    n,
    c,
    pm,
    at.block(ps, r0),
  ]);
  k.bn_combine(ps, blocks, c, rows, pv);
  free(backend, [sums]);
  return [mean, variance];
}

function _norm({ inputs, backend, attrs }: Args): Info[] {
  const { x, mean, variance, gamma, beta } = inputs as Record<string, Info>;
  const k = simdKernels(backend)!;
  const [rows, c] = _rowsAndChannels(x);
  const y = output(backend, x.shape), invStd = output(backend, [c]);
  const [px, pm, pv, pg, pb, py, pi] = [x, mean, variance, gamma, beta, y, invStd].map(
    (t) => ptr(backend, t),
  );
  k.bn_invstd(pv, c, attrs.epsilon as number, pi);
  _byRows(backend, rows, c, (r0, n, at) => [
    "bn_norm_rows",
    at.row(px, r0),
    n,
    c,
    pm,
    pi,
    pg,
    pb,
    at.row(py, r0),
    attrs.relu ? 1 : 0,
  ]);
  return [y, invStd];
}

function _grad({ inputs, backend }: Args): Info[] {
  const { dy, x, mean, gamma, invStd } = inputs as Record<string, Info>;
  const out = (inputs as Record<string, Info | undefined>).out; // the relu's output, if fused
  const pout = out ? ptr(backend, out) : 0;
  const outRow = (r0: number, at: _Addresses) => out ? at.row(pout, r0) : 0;
  const k = simdKernels(backend)!;
  const [rows, c] = _rowsAndChannels(dy);
  const blocks = Math.ceil(rows / BN_BLOCK);
  const dx = output(backend, dy.shape), dGamma = output(backend, [c]), dBeta = output(backend, [c]);
  const sumsB = output(backend, [blocks, c]), sumsG = output(backend, [blocks, c]);
  const [pdy, px, pm, pg, pi, pdx, pdg, pdb, psb, psg] = [
    dy,
    x,
    mean,
    gamma,
    invStd,
    dx,
    dGamma,
    dBeta,
    sumsB,
    sumsG,
  ].map((t) => ptr(backend, t));
  _byRows(backend, rows, c, (r0, n, at) => [
    "bn_grad_blocks",
    at.row(pdy, r0),
    at.row(px, r0),
    pm,
    pi,
    n,
    c,
    at.block(psb, r0),
    at.block(psg, r0),
    outRow(r0, at),
  ]);
  k.bn_combine(psb, blocks, c, 0, pdb);
  k.bn_combine(psg, blocks, c, 0, pdg);
  free(backend, [sumsB, sumsG]);
  _byRows(backend, rows, c, (r0, n, at) => [
    "bn_grad_rows",
    at.row(pdy, r0),
    at.row(px, r0),
    pm,
    n,
    c,
    rows,
    pg,
    pi,
    pdb,
    pdg,
    at.row(pdx, r0),
    outRow(r0, at),
  ]);
  return [dx, dGamma, dBeta];
}

/** Registers the three kernels on the WASM backend. Idempotent. */
export function registerWasmBatchNorm(): void {
  registerOwnWasmKernels([["ByelBnStats", _stats], ["ByelBnNorm", _norm], ["ByelBnGrad", _grad]]);
}

/** @returns whether `batchNormTrain` of `x` can run on these kernels (active backend WASM) */
export function wasmBatchNormAvailable(x: Tensor): boolean {
  return x.dtype === "float32" && x.shape[x.shape.length - 1] % 4 === 0 &&
    ["ByelBnStats", "ByelBnNorm", "ByelBnGrad"].every(ownWasmKernelReady);
}
