/**
 * Convolution gradients for the WASM backend, expressed as forward convolutions so that they run
 * on XNNPACK (multi-threaded, SIMD) instead of tfjs's scalar loops.
 *
 * - `Conv2DBackpropFilter` is missing from tfjs-backend-wasm 4.22. The filter gradient
 *   `dW[fh, fw, ci, co] = Σ_{n, oh, ow} x[n, oh·s + fh − padTop, ow·s + fw − padLeft, ci] ·
 *   dy[n, oh, ow, co]` is a stride-1 convolution of `x` seen as `[Cin, H, W, N]` (channels as
 *   batch) with `dy` seen as an `[OH, OW, N, Cout]` filter dilated by the forward stride `s`.
 * - `Conv2DBackpropInput` exists but is a single-threaded scalar loop. The input gradient is the
 *   convolution of `dy` (zeros inserted between rows and columns when `s > 1`) with the filter
 *   rotated by 180° and its channel axes swapped.
 * - 1×1 convolutions with stride 1 take both gradients as one matrix product.
 * - 3×3 convolutions with stride 1 (when {@link winogradEligible}) take the filter gradient by
 *   Winograd F(2x2, 3x3) where the tiles are many (`winogradFilterGrad`), and the input gradient
 *   by `winogradInputGrad` or, with many tiles, through the Winograd `Conv2D`.
 * - Other filter gradients with narrow patches (`FH·FW·Cin` up to {@link PATCH_MAX_WIDTH}: the
 *   RGB stem, 16-channel layers, stride-2 and 1x1 stride-2 convolutions) are one product of
 *   patches built a block at a time (`_patchFilterGrad`), on every thread.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import {
  type ConvGeometry,
  winogradEligible,
  winogradFilterGrad,
  winogradFilterGradEligible,
  winogradInputGrad,
} from "./winograd.ts";
import { free, output, ptr, type SimdCall, simdKernels, simdRun } from "./wasm_simd.ts";

type Info = tf.TensorInfo;
type Backend = tf.KernelBackend;
type Pad = [[number, number], [number, number], [number, number], [number, number]];

/** Calls a registered WASM kernel directly (we are already inside a kernel). */
function _k(backend: Backend, name: string, inputs: Record<string, Info>, attrs = {}): Info {
  const k = tf.getKernel(name, "wasm");
  if (!k) throw new Error(`wasm kernel ${name} is not registered`);
  return k.kernelFunc({ inputs, attrs, backend } as never) as Info;
}

function _free(backend: Backend, ...infos: Info[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

/**
 * A stride-1 convolution with explicit padding whose bottom/right padding may be negative
 * (meaning: rows/columns of `x` the output never reaches); those are sliced off first.
 */
function _conv(
  backend: Backend,
  x: Info,
  filter: Info,
  dilation: [number, number],
  pad: { top: number; bottom: number; left: number; right: number },
): Info {
  let input = x;
  const cutH = Math.max(0, -pad.bottom), cutW = Math.max(0, -pad.right);
  if (cutH > 0 || cutW > 0) {
    const [n, h, w, c] = x.shape;
    input = _k(backend, "Slice", { x }, { begin: [0, 0, 0, 0], size: [n, h - cutH, w - cutW, c] });
  }
  const explicit: Pad = [[0, 0], [pad.top, Math.max(0, pad.bottom)], [
    pad.left,
    Math.max(0, pad.right),
  ], [0, 0]];
  const out = _k(backend, "Conv2D", { x: input, filter }, {
    strides: [1, 1],
    pad: explicit,
    dataFormat: "NHWC",
    dilations: dilation,
    dimRoundingMode: undefined,
  });
  if (input !== x) _free(backend, input);
  return out;
}

function _convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: { strides: number | [number, number]; pad: unknown; dimRoundingMode?: unknown },
) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad as "same",
    attrs.dimRoundingMode as "floor" | undefined,
  );
}

/** The attributes both convolution-gradient kernels receive. */
interface _GradAttrs {
  strides: [number, number];
  pad: unknown;
  dataFormat: string;
  dimRoundingMode?: unknown;
}

/** Conv geometry of a gradient kernel's call; only NHWC is supported (throws otherwise). */
function _nhwcConvInfo(
  kernel: string,
  attrs: _GradAttrs,
  xShape: number[],
  filterShape: number[],
): ReturnType<typeof _convInfo> {
  if (attrs.dataFormat !== "NHWC") {
    throw new Error(`wasm ${kernel} supports NHWC only, got ${attrs.dataFormat}`);
  }
  return _convInfo(xShape, filterShape, attrs);
}

/** @returns the geometry the Winograd checks take, for a convolution without dilation */
function _geometry(
  xShape: number[],
  filterShape: number[],
  strides: [number, number],
  dataFormat: string,
): ConvGeometry {
  return { xShape, filterShape, strides, dilations: [1, 1], dataFormat };
}

/** `Conv2DBackpropFilter` (NHWC, dilation 1) on WASM. */
export function conv2DBackpropFilterWasm(
  args: { inputs: tf.NamedTensorInfoMap; backend: Backend; attrs: tf.NamedAttrMap },
): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const backend = args.backend;
  const attrs = args.attrs as unknown as _GradAttrs & {
    filterShape: [number, number, number, number];
  };
  const info = _nhwcConvInfo("Conv2DBackpropFilter", attrs, x.shape, attrs.filterShape);
  const [fh, fw, cin, cout] = attrs.filterShape;
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;

  if (fh === 1 && fw === 1 && sh === 1 && sw === 1 && top === 0 && left === 0) {
    // dW = xᵀ · dy over all pixels.
    const a = _k(backend, "Reshape", { x }, { shape: [1, -1, cin] });
    const b = _k(backend, "Reshape", { x: dy }, { shape: [1, -1, cout] });
    const m = _k(backend, "BatchMatMul", { a, b }, { transposeA: true, transposeB: false });
    const out = _k(backend, "Reshape", { x: m }, { shape: [1, 1, cin, cout] });
    _free(backend, a, b, m);
    return out;
  }
  const geometry = _geometry(x.shape, attrs.filterShape, [sh, sw], attrs.dataFormat);
  if (winogradFilterGradEligible(geometry, oh, ow)) {
    const dw = winogradFilterGrad(backend, x, dy, { padTop: top, padLeft: left });
    if (dw) return dw;
  }
  const patches = _patchFilterGrad(backend, x, dy, info, attrs.filterShape);
  if (patches) return patches;
  const xt = _k(backend, "Transpose", { x }, { perm: [3, 1, 2, 0] }); // [Cin, H, W, N]
  const dyt = _k(backend, "Transpose", { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, N, Cout]
  const h = x.shape[1], w = x.shape[2];
  const g = _conv(backend, xt, dyt, [sh, sw], {
    top,
    left,
    bottom: fh + (oh - 1) * sh - h - top,
    right: fw + (ow - 1) * sw - w - left,
  }); // [Cin, FH, FW, Cout]
  const out = _k(backend, "Transpose", { x: g }, { perm: [1, 2, 0, 3] }); // [FH, FW, Cin, Cout]
  _free(backend, xt, dyt, g);
  return out;
}

/**
 * Widest patch row (`FH·FW·Cin`) the filter gradient goes through patches with, where Winograd
 * does not take it (see `conv2DBackpropFilterWasm`). Measured on 2 threads (a batch of 128 at
 * 48 px, or ResNet-18's shapes at 32 x 64 px), against the direct route's transposes and
 * repacked XNNPACK convolution: 3x3 16 -> 16 at 48 px 67 ms against 286-299, 16 -> 32 at 24 px
 * 29 against 82; stride 2, 3x3 64 -> 128 23 against 26, 128 -> 256 16 against 22, but 256 ->
 * 512 (width 2304) 22 against 20; 1x1 stride 2 64 -> 128 1.6 against 12.6. Where Winograd is
 * eligible (32 channels and more, stride 1) it stays faster (24 px 32 -> 32: 51 against 59).
 */
export const PATCH_MAX_WIDTH = 1152;
let _patchMaxWidth = PATCH_MAX_WIDTH;
/** Patch rows per block in `patch_filter_grad` (its `KC`, `wasm_simd/gemm.c`). */
const PATCH_ROWS = 256;
/**
 * Chunks of images the patch filter gradient is split into, whatever the thread count: each
 * chunk's partial gradient is summed in order, so the result has the same bits on any number
 * of threads.
 */
const PATCH_CHUNKS = 8;

/** Test and benchmark hook: the widest patch row {@link _patchFilterGrad} takes (0: none). */
export function setPatchMaxWidth(width: number): void {
  _patchMaxWidth = width;
}

/**
 * The filter gradient of a convolution with narrow patches (any stride) as one product,
 * `dW = patchesᵀ · dy`, by byel's `patch_filter_grad` (`wasm_simd/gemm.c`), which builds the
 * patches a block of rows at a time next to the product. The direct route convolves `x` seen as
 * `[Cin, H, W, N]` with all of `dy` as its filter, which XNNPACK must repack every step (for the
 * 7x7 stem, 2 M values) and runs as a convolution with a 32x32 kernel over 3 images: slow on both
 * counts (see {@link PATCH_MAX_WIDTH}). The batch is split into {@link PATCH_CHUNKS} chunks of
 * images that run on every thread (`simdRun`), each into its own partial gradient; `sum_parts`
 * adds them in order.
 *
 * @returns `[FH, FW, Cin, Cout]`, or null when it does not apply
 */
function _patchFilterGrad(
  backend: Backend,
  x: Info,
  dy: Info,
  info: ReturnType<typeof _convInfo>,
  filterShape: [number, number, number, number],
): Info | null {
  const [fh, fw, cin, cout] = filterShape;
  if (fh * fw * cin > _patchMaxWidth || cout % 4 !== 0 || info.dilationHeight !== 1) return null;
  if (info.dilationWidth !== 1) return null;
  const k = simdKernels(backend);
  if (!k) return null;
  const [n, h, w] = x.shape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const taps = fh * fw * cin, mp = Math.ceil(taps / 4) * 4;
  const chunks = Math.min(n, PATCH_CHUNKS);
  // Per chunk: patches a block of rows at a time, and a partial gradient [mp, cout].
  const scratch = output(backend, [chunks, PATCH_ROWS, mp]);
  const parts = output(backend, [chunks, mp, cout]);
  const px = ptr(backend, x), pdy = ptr(backend, dy);
  const ps = ptr(backend, scratch), pp = ptr(backend, parts);
  const calls: SimdCall[] = [];
  for (let i = 0; i < chunks; i++) {
    const b0 = Math.floor((i * n) / chunks), b1 = Math.floor(((i + 1) * n) / chunks);
    calls.push([
      "patch_filter_grad",
      px + 4 * b0 * h * w * cin,
      b1 - b0,
      h,
      w,
      cin,
      fh,
      fw,
      sh,
      sw,
      info.padInfo.top,
      info.padInfo.left,
      oh,
      ow,
      mp,
      pdy + 4 * b0 * oh * ow * cout,
      cout,
      ps + 4 * i * PATCH_ROWS * mp,
      pp + 4 * i * mp * cout,
    ]);
  }
  simdRun(backend, calls);
  const dw = output(backend, filterShape);
  // The first taps rows of each part, summed (the padding rows past them are dropped).
  k.sum_parts(ptr(backend, dw), pp, chunks, mp * cout, taps * cout);
  free(backend, [scratch, parts]);
  return dw;
}

/**
 * The input gradient's filter: `[FH, FW, Cin, Cout]` rotated by 180° with its channel axes
 * swapped, `out[a, b, o, i] = w[FH-1-a, FW-1-b, i, o]`, in one pass in JavaScript. tfjs-wasm's
 * `Reverse` is a scalar index loop: measured here at 153 ms for a 3x3x512x512 filter, 7x the
 * 22 ms convolution it feeds, with `Transpose` another 43 ms; this loop does both in a few ms.
 *
 * @param backend the WASM backend @param filter `[FH, FW, Cin, Cout]` float32
 * @returns `[FH, FW, Cout, Cin]` (caller frees)
 */
export function rotateFilter(backend: Backend, filter: Info): Info {
  const [fh, fw, cin, cout] = filter.shape;
  const wasm = backend as Backend & {
    makeOutput(shape: number[], dtype: "float32"): Info;
    typedArrayFromHeap(t: Info): Float32Array;
  };
  // Allocate first: growing the heap would detach views taken before.
  const result = wasm.makeOutput([fh, fw, cout, cin], "float32");
  const src = wasm.typedArrayFromHeap(filter), out = wasm.typedArrayFromHeap(result);
  const taps = fh * fw, block = cin * cout, tile = 16;
  for (let k = 0; k < taps; k++) {
    const s0 = (taps - 1 - k) * block, d0 = k * block; // tap (a, b) reads tap (FH-1-a, FW-1-b)
    // Tiles of input channels keep the strided writes within a few cache lines.
    for (let i0 = 0; i0 < cin; i0 += tile) {
      const i1 = Math.min(cin, i0 + tile);
      for (let o = 0; o < cout; o++) {
        for (let i = i0; i < i1; i++) out[d0 + o * cin + i] = src[s0 + i * cout + o];
      }
    }
  }
  return result;
}

/** `Conv2DBackpropInput` (NHWC, dilation 1) on WASM, through XNNPACK. */
export function conv2DBackpropInputWasm(
  args: { inputs: tf.NamedTensorInfoMap; backend: Backend; attrs: tf.NamedAttrMap },
): Info {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const backend = args.backend;
  const attrs = args.attrs as unknown as _GradAttrs & {
    inputShape: [number, number, number, number];
  };
  const info = _nhwcConvInfo("Conv2DBackpropInput", attrs, attrs.inputShape, filter.shape);
  const [fh, fw, cin, cout] = filter.shape;
  const [n, h, w] = attrs.inputShape;
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;

  if (fh === 1 && fw === 1 && sh === 1 && sw === 1 && top === 0 && left === 0) {
    // dx = dy · Wᵀ per pixel.
    const a = _k(backend, "Reshape", { x: dy }, { shape: [1, -1, cout] });
    const b = _k(backend, "Reshape", { x: filter }, { shape: [1, cin, cout] });
    const m = _k(backend, "BatchMatMul", { a, b }, { transposeA: false, transposeB: true });
    const out = _k(backend, "Reshape", { x: m }, { shape: [n, h, w, cin] });
    _free(backend, a, b, m);
    return out;
  }
  // The input gradient as a convolution of dy with the rotated, channel-swapped filter.
  const geometry = _geometry(dy.shape, [fh, fw, cout, cin], [sh, sw], attrs.dataFormat);
  if (winogradEligible(geometry)) {
    const dx = winogradInputGrad(backend, dy, filter, {
      padTop: top,
      padLeft: left,
      inputShape: attrs.inputShape,
    });
    if (dx) return dx;
  }
  // Zero insertion: [N, OH, OW, C] -> [N, OH, 1, OW, 1, C] -> pad -> [N, OH·sh, OW·sw, C].
  let dyd = dy;
  if (sh > 1 || sw > 1) {
    const r = _k(backend, "Reshape", { x: dy }, { shape: [n, oh, 1, ow, 1, cout] });
    const p = _k(backend, "PadV2", { x: r }, {
      paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
      constantValue: 0,
    });
    dyd = _k(backend, "Reshape", { x: p }, { shape: [n, oh * sh, ow * sw, cout] });
    _free(backend, r, p);
  }
  const wt = rotateFilter(backend, filter); // [FH, FW, Cout, Cin]
  const pt = fh - 1 - top, pl = fw - 1 - left;
  if (pt < 0 || pl < 0) {
    _free(backend, wt);
    if (dyd !== dy) _free(backend, dyd);
    throw new Error("wasm Conv2DBackpropInput: padding larger than the filter is not supported");
  }
  const out = _conv(backend, dyd, wt, [1, 1], {
    top: pt,
    left: pl,
    bottom: h + fh - 1 - pt - dyd.shape[1],
    right: w + fw - 1 - pl - dyd.shape[2],
  });
  _free(backend, wt);
  if (dyd !== dy) _free(backend, dyd);
  return out;
}

/**
 * Registers the WASM convolution gradients (replacing tfjs's scalar `Conv2DBackpropInput`).
 * Idempotent; must run before the WASM backend starts so no stale setup function is kept.
 */
export function registerWasmConvGrads(): void {
  for (
    const [name, fn] of [
      ["Conv2DBackpropFilter", conv2DBackpropFilterWasm],
      ["Conv2DBackpropInput", conv2DBackpropInputWasm],
    ] as const
  ) {
    if (tf.getKernel(name, "wasm")?.kernelFunc === fn) continue;
    if (tf.getKernel(name, "wasm")) tf.unregisterKernel(name, "wasm");
    tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc: fn as tf.KernelFunc });
  }
}
