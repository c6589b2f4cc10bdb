/**
 * Broadcast `Add`, `Sub`, `Multiply` and `RealDiv` on WASM by byel's SIMD kernels
 * (`wasm_simd/binary.c`): tfjs-wasm computes each element's broadcast index in a scalar loop,
 * about 4 ms for `[128, 48, 48, 3] - [3]` (the input normalisation) against 0.3 for equal
 * shapes. Taken: float32, one operand of the output's shape, the other broadcast over it as a
 * suffix of its dimensions (`[C]`, `[W, C]`: a per-channel mean) or a prefix with ones after
 * (`[B, H, W, 1]`, `[B, 1, 1, 1]`: a gray image, a factor per image), outputs of
 * {@link BROADCAST_MIN_SIZE} values and more. Everything else (equal shapes, which tfjs runs on
 * XNNPACK; mixed patterns such as `[B, 1, 1, C]`; small tensors) stays on tfjs's kernel. Each
 * output is the same IEEE float32 operation on the same two values: the same bits.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { interposeWasmKernel, type KernelArgs } from "./interpose.ts";
import { type Info, output, ptr, type SimdCall, simdKernels, simdSplit } from "./wasm_simd.ts";

/** Output size from which a broadcast operation runs here (below, tfjs's loop is quick). */
export const BROADCAST_MIN_SIZE = 4096;

const _OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 } as const;
type _Op = keyof typeof _OPS;

let _enabled = true;

/** Test and benchmark hook: the broadcast operations by byel's kernels (default) or tfjs's. */
export function setOwnBroadcast(on: boolean): void {
  _enabled = on;
}

/**
 * How `small` broadcasts over `out` (both shapes, `small` right-aligned): `suffix` with `n`
 * values per row, `prefix` with `n` values per broadcast element, or null for other patterns
 * (and for equal shapes or a single value).
 */
export function broadcastPattern(
  small: readonly number[],
  out: readonly number[],
): { kind: "suffix" | "prefix"; n: number } | null {
  const size = (s: readonly number[]) => tf.util.sizeFromShape([...s]);
  if (small.length > out.length || size(small) <= 1 || size(small) === size(out)) return null;
  const s = [...Array(out.length - small.length).fill(1), ...small];
  // Suffix: ones, then the output's own dimensions to the end.
  let k = s.length;
  while (k > 0 && s[k - 1] === out[k - 1]) k--;
  if (s.slice(0, k).every((d) => d === 1)) return { kind: "suffix", n: size(out.slice(k)) };
  // Prefix: the output's own dimensions, then ones to the end.
  let j = 0;
  while (j < s.length && s[j] === out[j]) j++;
  if (s.slice(j).every((d) => d === 1)) return { kind: "prefix", n: size(out.slice(j)) };
  return null;
}

function _binary(op: _Op, { inputs, backend }: KernelArgs): Info | null {
  if (!_enabled) return null;
  const { a, b } = inputs as { a: Info; b: Info };
  if (a.dtype !== "float32" || b.dtype !== "float32") return null;
  let shape: number[];
  try {
    shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  } catch {
    return null; // tfjs's kernel reports the mismatch
  }
  const total = tf.util.sizeFromShape(shape);
  if (total < BROADCAST_MIN_SIZE || !simdKernels(backend)) return null;
  const same = (t: Info) => tf.util.arraysEqual(t.shape, shape);
  const swap = !same(a);
  if (swap && !same(b)) return null;
  const [full, small] = swap ? [b, a] : [a, b];
  const pattern = broadcastPattern(small.shape, shape);
  if (!pattern) return null;
  const out = output(backend, shape);
  const [pf, ps, po] = [full, small, out].map((t) => ptr(backend, t));
  const units = total / pattern.n; // rows (suffix) or broadcast elements (prefix)
  const name = pattern.kind === "suffix" ? "bcast_suffix" : "bcast_prefix";
  simdSplit(
    backend,
    units,
    (u0, n): SimdCall => [name, _OPS[op], swap ? 1 : 0, pf, ps, po, u0, u0 + n, pattern.n],
    4,
  );
  return out;
}

/** Puts the broadcast kernels in front of tfjs's WASM binary operations. Idempotent. */
export function registerWasmBinary(): void {
  for (const op of Object.keys(_OPS) as _Op[]) {
    interposeWasmKernel(op, "byel-broadcast", (args) => _binary(op, args));
  }
}
