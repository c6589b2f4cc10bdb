/**
 * Winograd convolution for the WASM backend: 3x3 convolutions with stride 1 (most of a
 * ResNet's compute, forward and input gradient alike) with fewer multiplications: F(4x4, 3x3)
 * (36 per 4x4 output tile instead of 144, 4x fewer) where the output is at least 4x4, else
 * F(2x2, 3x3) (16 per 2x2 tile instead of 36, 2.25x fewer); outputs that F(6x6, 3x3)'s 8x8
 * tiles (64 products per 36 outputs) cover with at most 0.8 of F(4x4)'s products, by F(6x6)
 * instead (6 x 6: one tile of 64 against four of 36; 12 to 48: {@link winograd63Pays}).
 *
 * The three transforms (filter, input tiles, output tiles; `wasm_simd/winograd.c`) are our own
 * WebAssembly SIMD code (`wasm_simd.ts`), instantiated on tfjs-backend-wasm's own memory so they
 * read and write tensors in place; so are the 16 or 36 matrix products between them
 * (`gemm_ab`, on every thread: {@link setWinogradOwnProducts}). Transformed filters are cached
 * per filter tensor: a weight used by several convolutions in a step (two views, or every batch
 * of an evaluation) is transformed once. For a new filter, the products run transposed where
 * the tiles are few, and not at all (tfjs's convolution instead) where they are small; the
 * filter gradient uses byel's own `gemm_atb` (`winogradFilterGrad`). F(4x4) convolutions of up to
 * {@link FUSED_MAX_FILTER} run fused, a chunk of tiles through all three stages in cache
 * ({@link setWinogradFused}).
 *
 * `Conv2D` and `FusedConv2D` (linear or relu, optional bias) on WASM go through here when the
 * convolution qualifies ({@link winogradEligible}); every other call goes to tfjs's kernel.
 * Numerics: the transforms add rounding, more for F(4x4, 3x3) (its points ±2 scale terms by up
 * to 8) and more again for F(6x6, 3x3) (up to 32, about 3x F(4x4)'s error); parity with the CPU
 * backend is tested in tests/backend/kernels/winograd_test.ts.
 *
 * @module
 */
import { tf } from "../../deps.ts";
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
import { interposeWasmKernel, type KernelArgs, tfjsWasmKernel } from "./interpose.ts";
import { FRESH_MAX_USES, gemmAbMany, keepsXnnpack } from "./wasm_matmul.ts";
import { narrowConv2d, narrowConvEligible } from "./wasm_conv_narrow.ts";

type DataId = object;

type _Filter = (g: Ptr, n: number, ...u: Ptr[]) => void;
interface _Exports {
  wino_filter_grad: _Filter;
}

/**
 * Input transforms (`x, B, H, W, C, pt, pl, th, tw, [T,] v...`) and output transforms
 * (`y, B, OH, OW, K, th, tw, [T,] bias, relu, m...`) by export name; the `_t` ones (transposed
 * tile matrices) take the row stride `T`. All run a batch in chunks of images on every thread
 * ({@link _inputTiles}, {@link _outputTiles}).
 */
type _InputName = "wino_input" | "wino_input_t" | "wino43_input";
type _OutputName = "wino_output" | "wino_output_t" | "wino43_output";

/** One Winograd variant: output tile `m x m`, `(m + 2)^2` products per tile. */
interface _Variant {
  m: 2 | 4;
  products: number;
  input: _InputName;
  output: _OutputName;
}

function _variant(m: 2 | 4): _Variant {
  return m === 2
    ? { m, products: 16, input: "wino_input", output: "wino_output" }
    : { m, products: 36, input: "wino43_input", output: "wino43_output" };
}

/**
 * @returns the output tile size for an output of `oh x ow`: F(4x4, 3x3) (36 products per 16
 * outputs, 2.25 per output) where both sides are at least 4, else F(2x2, 3x3) (4 per output)
 */
export function winogradTile(oh: number, ow: number): 2 | 4 {
  return oh >= 4 && ow >= 4 ? 4 : 2;
}

/**
 * Smallest channel counts (in and out) and direct multiply-adds per call worth the transforms.
 * It was 32 while the transforms and products ran on one thread (then, at 16 channels,
 * Winograd took 1.3x the time of tfjs's convolution, bench/winograd.ts). With `gemm_ab` and the
 * transforms on every thread, 16 pays: side by side (`deno run -A bench/ab.ts --switch
 * wino32`), the quick preset's supervised, BYEL and inference steps ran 1.13x, 1.10x and 1.14x
 * faster from 16 channels than from 32 on 2 cores. Narrower layers (only the smoke preset's)
 * were not measured and stay on tfjs's convolution.
 */
export const WINOGRAD_MIN_CHANNELS = 16;
/** @see WINOGRAD_MIN_CHANNELS */
export const WINOGRAD_MIN_MACS = 2 ** 24;
/**
 * The filter gradient goes through Winograd only while the 2x2 tiles number at least this many
 * per input channel (see `conv2DBackpropFilterWasm`): its products sum over the tiles, so with
 * few tiles they are short. It was 8 while the products ran on one thread (then, in BYEL steps
 * of ResNet-18 at 64 px, bench/profile_step.ts: 2x faster than the direct route's two-threaded
 * XNNPACK convolution at 32 tiles per channel, 0.9x at 4, 0.6x at 0.5). With `gemm_ab` on every
 * thread every count pays: side by side (`deno run -A bench/ab.ts --switch fg-tiles8 --config
 * r18`, ResNet-18 at 64 px, batch 32, whose second to fourth stages have 4, 0.5 and 0.06 tiles
 * per channel), from any count against from 8 made the supervised step 1.12x and 1.34x faster
 * in two runs and the BYEL step 1.23x and 1.09x; with byel's kernels on one thread (`--serial`,
 * as in the browser) 1.01x and 0.98x, no change. The quick preset's layers have 9 or more at
 * its batch of 128, so its routes (and bits) do not depend on it.
 */
export const WINOGRAD_FILTER_GRAD_MIN_TILES_PER_CHANNEL = 0;

let _enabled = true;
let _anySize = false;
let _minChannels = WINOGRAD_MIN_CHANNELS;
let _filterGradMinChannels = WINOGRAD_MIN_CHANNELS;
let _filterGradMinTiles = WINOGRAD_FILTER_GRAD_MIN_TILES_PER_CHANNEL;

/**
 * Benchmark hook: the smallest channel counts taken by Winograd, for the convolution and its
 * input gradient (`conv`) and for the filter gradient (`filterGrad`); defaults
 * {@link WINOGRAD_MIN_CHANNELS}.
 */
export function setWinogradMinChannels(
  opts: { conv?: number; filterGrad?: number } = {},
): void {
  _minChannels = opts.conv ?? WINOGRAD_MIN_CHANNELS;
  _filterGradMinChannels = opts.filterGrad ?? WINOGRAD_MIN_CHANNELS;
}

/**
 * Benchmark hook: the 2x2 tiles per input channel from which the filter gradient runs by
 * Winograd; default {@link WINOGRAD_FILTER_GRAD_MIN_TILES_PER_CHANNEL}.
 */
export function setWinogradFilterGradMinTiles(
  perChannel: number = WINOGRAD_FILTER_GRAD_MIN_TILES_PER_CHANNEL,
): void {
  _filterGradMinTiles = perChannel;
}

/**
 * Turns the Winograd path on or off (on by default); off sends every convolution to tfjs's own
 * kernel, for comparisons and benchmarks.
 *
 * @param opts `anySize`: also take convolutions below the size thresholds (tests)
 */
export function setWinograd(on: boolean, opts: { anySize?: boolean } = {}): void {
  _enabled = on;
  _anySize = opts.anySize ?? false;
}

/** The Winograd functions of byel's SIMD module on `backend`'s memory, or null. */
function _transforms(backend: WasmBackend): _Exports | null {
  return simdKernels(backend) as unknown as _Exports | null;
}

/** @returns whether the WASM backend can run Winograd convolutions here */
export function winogradAvailable(): boolean {
  return tf.getBackend() === "wasm" && _transforms(tf.backend() as WasmBackend) !== null;
}

/** A convolution's geometry as the kernels see it. */
export interface ConvGeometry {
  /** `[B, H, W, C]` */
  xShape: number[];
  /** `[FH, FW, C, K]` */
  filterShape: number[];
  strides: [number, number];
  dilations: [number, number];
  dataFormat: string;
}

/**
 * @returns whether the filter gradient of a convolution with output `outHeight x outWidth` runs
 * by Winograd: {@link winogradEligible} and enough tiles per input channel
 * ({@link WINOGRAD_FILTER_GRAD_MIN_TILES_PER_CHANNEL}; any count under `setWinograd`'s
 * `anySize`)
 */
export function winogradFilterGradEligible(
  g: ConvGeometry,
  outHeight: number,
  outWidth: number,
): boolean {
  const tiles = g.xShape[0] * Math.ceil(outHeight / 2) * Math.ceil(outWidth / 2);
  const [, , c, k] = g.filterShape;
  return winogradEligible(g) &&
    (_anySize || (c >= _filterGradMinChannels && k >= _filterGradMinChannels &&
      tiles >= _filterGradMinTiles * g.xShape[3]));
}

/** @returns whether a convolution (or its input gradient) runs by Winograd on WASM */
export function winogradEligible(g: ConvGeometry): boolean {
  const [fh, fw, c, k] = g.filterShape;
  const [b, h, w] = g.xShape;
  const big = b * h * w * c * k * 9 >= WINOGRAD_MIN_MACS && c >= _minChannels &&
    k >= _minChannels;
  return _enabled && (big || _anySize) && fh === 3 && fw === 3 && g.strides[0] === 1 &&
    g.strides[1] === 1 &&
    g.dilations[0] === 1 && g.dilations[1] === 1 && g.dataFormat === "NHWC" &&
    c % 4 === 0 && k % 4 === 0;
}

/** Transformed filters of one filter tensor, by layout, and how often the filter was used. */
interface _CacheEntry {
  backend: WasmBackend;
  /** By {@link _Layout}. */
  u: Map<_Layout, Info[]>;
  uses: number;
}

/**
 * Transformed filters by filter tensor; entries whose filter was freed are dropped when a new
 * filter is added.
 */
const _filterCache = new Map<DataId, _CacheEntry>();

/** @returns how many filters have cached transforms (diagnostics and tests) */
export function winogradCacheSize(): number {
  return _filterCache.size;
}

/** Frees every cached filter transform (tests, and before a backend is disposed). */
export function clearWinogradCache(): void {
  for (const { backend, u } of _filterCache.values()) {
    if (backend.wasm) free(backend, [...u.values()].flat());
  }
  _filterCache.clear();
}

/** @returns the cache entry of `filter`, new if needed (sweeping freed filters' entries) */
function _entry(backend: WasmBackend, filter: Info): _CacheEntry {
  let entry = _filterCache.get(filter.dataId);
  if (!entry) {
    for (const [id, e] of _filterCache) {
      if (e.backend.wasm && e.backend.dataIdMap.has(id)) continue; // filter alive
      if (e.backend.wasm) free(e.backend, [...e.u.values()].flat()); // else: backend disposed
      _filterCache.delete(id);
    }
    entry = { backend, u: new Map(), uses: 0 };
    _filterCache.set(filter.dataId, entry);
  }
  return entry;
}

/**
 * How a filter `g` `[3, 3, C, K]` is transformed: `"2"` / `"4"` F(2x2) / F(4x4) as `[C, K]`
 * matrices; `"2t"` F(2x2) as `[K, C]` (for transposed products); `"2r"` F(2x2) of `g` rotated
 * 180° in space, as `[C, K]` (the input gradient's filter, for transposed products); `"4p"`
 * F(4x4) as one `[36, C·K]` tensor, each component in panels of 8 columns (`wino_pack8`: the
 * fused convolution's layout, {@link setWinogradFused}); `"6p"` F(6x6) as one `[64, C·K + 16]`
 * tensor in the same panels (the fused F(6x6) convolution's, {@link winograd63Pays}).
 */
type _Layout = "2" | "4" | "2t" | "2r" | "4p" | "6p";

/** @returns the transformed filters of `filter` in `layout`, `[1, rows, cols]` each (cached) */
function _filter(
  backend: WasmBackend,
  entry: _CacheEntry,
  filter: Info,
  layout: _Layout,
): Info[] {
  const hit = entry.u.get(layout);
  if (hit) return hit;
  const [, , c, k] = filter.shape;
  if (layout === "6p") {
    // Straight into the packed layout, input channels split across threads (each element is
    // computed alone: the same bits however split).
    // Components 16 floats further apart than C·K (see wino63_filter).
    const packed = output(backend, [64, c * k + 16]), g = ptr(backend, filter);
    const pp = ptr(backend, packed);
    simdSplit(backend, c, (c0, n): SimdCall => ["wino63_filter", g, c, k, c0, c0 + n, pp]);
    entry.u.set(layout, [packed]);
    return [packed];
  }
  if (layout === "4p") {
    // F(4x4)'s transforms into scratch, then each component packed into its slice.
    const tmp = Array.from({ length: 36 }, () => output(backend, [c * k]));
    const tp = tmp.map((t) => ptr(backend, t));
    const g = ptr(backend, filter);
    simdSplit(
      backend,
      c * k,
      (e0, n): SimdCall => ["wino43_filter", g, c * k, e0, e0 + n, ...tp],
      4,
    );
    const packed = output(backend, [36, c * k]), pp = ptr(backend, packed);
    simdRun(backend, tp.map((t, q): SimdCall => ["wino_pack8", t, pp + 4 * q * c * k, c, k]));
    free(backend, tmp);
    entry.u.set(layout, [packed]);
    return [packed];
  }
  const f = _variant(layout === "4" ? 4 : 2);
  const shape = layout === "2t" ? [1, k, c] : [1, c, k];
  const u = Array.from({ length: f.products }, () => output(backend, shape));
  const g = ptr(backend, filter), ptrs = u.map((t) => ptr(backend, t));
  // F(2x2)'s transforms in chunks on every thread (a new filter every training step: 512 x 512
  // channels took 7 ms on one thread); each element is computed alone, so the same bits.
  if (layout === "2t") {
    simdSplit(backend, k, (k0, n): SimdCall => ["wino_filter_t", g, c, k, k0, k0 + n, ...ptrs], 4);
  } else if (layout === "4") {
    simdSplit(
      backend,
      c * k,
      (e0, n): SimdCall => ["wino43_filter", g, c * k, e0, e0 + n, ...ptrs],
      4,
    );
  } else {
    const name = layout === "2r" ? "wino_filter_rot" : "wino_filter";
    simdSplit(backend, c * k, (e0, n): SimdCall => [name, g, c * k, e0, e0 + n, ...ptrs], 4);
  }
  entry.u.set(layout, u);
  return u;
}

/**
 * Multiply-adds per product below which a new filter's convolution is left to tfjs: each
 * product with an operand XNNPACK has not seen creates an operator (measured at about 0.4 ms
 * each, whatever the size), so 16 or 36 small products cost more than one direct convolution
 * (ResNet-18 x0.25 in training: 6 ms direct, 40 ms by Winograd). Filters in use again
 * (evaluation) have their operators cached and take Winograd at any size. That was measured
 * when the products ran on XNNPACK; byel's `gemm_ab` creates no operator, but the threshold
 * and the transposed form below are kept as they were, so that the same convolutions take the
 * same route and training keeps its bits (re-measuring them is open work).
 */
export const WINOGRAD_MIN_PRODUCT_MACS = 2 ** 21;

/**
 * A stride-1 3x3 convolution by Winograd F(m x m, 3x3) (m from {@link winogradTile}), with
 * optional bias and relu, and optionally the 2x2 stride-2 max pool of its output.
 *
 * @param x `[B, H, W, C]` @param filter `[3, 3, C, K]`
 * @param opts `pad` top and left, `out` the output height and width; `pool`: return the max
 * pool of the output instead, from the output tiles (only the fused routes do: otherwise null,
 * and the call does not count as a use of the filter)
 * @returns `[B, OH, OW, K]` (pooled `[B, OH / 2, OW / 2, K]`), or null when the transforms are
 * unavailable or tfjs's convolution is the better choice (a new filter and small products:
 * {@link WINOGRAD_MIN_PRODUCT_MACS})
 */
export function winogradConv2d(
  backend: tf.KernelBackend,
  x: Info,
  filter: Info,
  opts: {
    padTop: number;
    padLeft: number;
    outHeight: number;
    outWidth: number;
    bias?: Info;
    relu?: boolean;
    pool?: boolean;
  },
): Info | null {
  const be = backend as WasmBackend;
  const fx = _transforms(be);
  if (!fx) return null;
  const { outHeight: oh, outWidth: ow } = opts;
  const entry = _entry(be, filter);
  // XNNPACK repacks the right-hand operand of every product it has not seen: for a new filter
  // that is C x K per product, costly when the tiles are few (ResNet's last stages, where
  // packing took 4x the product itself). Then the products run transposed,
  // M_kᵀ = U_kᵀ V_kᵀ, so the small T x C tile matrix is the packed side. A filter in use
  // again and again (evaluation) goes back to the packed-filter form once its packing is paid.
  // (Measured on XNNPACK's products; kept with gemm_ab's: see WINOGRAD_MIN_PRODUCT_MACS.)
  // Fresh: used at most FRESH_MAX_USES times, this call included.
  const fresh = entry.uses + 1 <= FRESH_MAX_USES;
  const k = filter.shape[3], route = _route(fresh, x.shape, k, oh, ow);
  if (opts.pool && route !== 4 && route !== 6) return null; // not a use of the filter
  entry.uses++;
  if (route === "tfjs") return null;
  if (route === "transposed") return _transposedConv(be, x, _filter(be, entry, filter, "2t"), opts);
  if (route !== "staged") {
    return _fusedConv(
      be,
      x,
      _filter(be, entry, filter, route === 6 ? "6p" : "4p")[0],
      k,
      opts,
      route,
    );
  }
  const f = _variant(winogradTile(oh, ow));
  const u = _filter(be, entry, filter, f.m === 4 ? "4" : "2"); // P x [1, C, K]
  const step = { m: f.m, input: f.input, output: f.output, transposed: false, reused: !fresh };
  return _pipeline(be, x, u, opts, step);
}

/**
 * How `winogradConv2d` runs a convolution: `"tfjs"` (a new filter and small products:
 * {@link WINOGRAD_MIN_PRODUCT_MACS}), `"transposed"` F(2x2) (a new filter with few tiles), the
 * fused F(6x6) or F(4x4) kernel (`6`, `4`), else the `"staged"` F(4x4) or F(2x2) pipeline.
 *
 * @param fresh whether the filter counts as new in this call (its uses up to FRESH_MAX_USES)
 */
function _route(
  fresh: boolean,
  xShape: number[],
  k: number,
  oh: number,
  ow: number,
): "tfjs" | "transposed" | 4 | 6 | "staged" {
  const [b, , , c] = xShape;
  const small = (m: number) =>
    fresh && _tiles(b, oh, ow, m) * c * k < WINOGRAD_MIN_PRODUCT_MACS && !_anySize;
  if (fresh && _fewTiles(xShape, oh, ow)) return small(2) ? "tfjs" : "transposed";
  const m = winogradTile(oh, ow);
  if (small(m)) return "tfjs";
  if (m === 4 && winograd63Pays(oh, ow) && _fusedEligible(c, k, Math.ceil(ow / 6), 6)) return 6;
  if (m === 4 && _fusedEligible(c, k, Math.ceil(ow / 4), 4)) return 4;
  return "staged";
}

/**
 * Runs an input transform of `x` into the tile matrices `v` (th x tw tiles per image), in
 * chunks of images on every thread. Tile `t` of image `n` is row (or, transposed, column)
 * `n·th·tw + t`, so a chunk from image `n0` starts `n0·th·tw` rows (columns) in.
 */
function _inputTiles(
  be: WasmBackend,
  input: _InputName,
  x: Info,
  at: { padTop: number; padLeft: number; th: number; tw: number },
  v: Info[],
): void {
  const [b, h, w, c] = x.shape;
  const perImage = at.th * at.tw, tiles = b * perImage;
  const transposed = input === "wino_input_t";
  const x0 = ptr(be, x), v0 = v.map((t) => ptr(be, t));
  simdSplit(be, b, (n0, n): SimdCall => {
    // float offsets -> byte addresses
    const vs = v0.map((p) => p + 4 * n0 * perImage * (transposed ? 1 : c));
    return [
      input,
      x0 + 4 * n0 * h * w * c,
      n,
      h,
      w,
      c,
      at.padTop,
      at.padLeft,
      at.th,
      at.tw,
      ...(transposed ? [tiles] : []),
      ...vs,
    ];
  });
}

/**
 * Runs an output transform of the products `m` into `y` `[B, OH, OW, K]` (with bias and relu),
 * in chunks of images on every thread (see {@link _inputTiles}).
 */
function _outputTiles(
  be: WasmBackend,
  name: _OutputName,
  y: Info,
  at: { th: number; tw: number; bias: Ptr; relu: number },
  m: Info[],
): void {
  const [b, oh, ow, k] = y.shape;
  const perImage = at.th * at.tw, tiles = b * perImage;
  const transposed = name === "wino_output_t";
  const y0 = ptr(be, y), m0 = m.map((t) => ptr(be, t));
  simdSplit(be, b, (n0, n): SimdCall => [
    name,
    y0 + 4 * n0 * oh * ow * k,
    n,
    oh,
    ow,
    k,
    at.th,
    at.tw,
    ...(transposed ? [tiles] : []),
    at.bias,
    at.relu,
    ...m0.map((p) => p + 4 * n0 * perImage * (transposed ? 1 : k)),
  ]);
}

/**
 * Input transform, products, output transform of a stride-1 3x3 convolution. Plain layout:
 * `V_k` `[1, T, C]` times `u_k` `[1, C, K]`. Transposed (`m` = 2): `u_k` `[1, K, C]` times `V_kᵀ`
 * `[1, C, T]`, so that the tile side was the operand XNNPACK packed (see `winogradConv2d`).
 */
function _pipeline(
  be: WasmBackend,
  x: Info,
  u: Info[],
  opts: Parameters<typeof winogradConv2d>[3],
  step: {
    m: 2 | 4;
    input: _InputName;
    output: _OutputName;
    transposed: boolean;
    /** The filter is past its fresh uses (its XNNPACK operators, if any, are worth keeping). */
    reused?: boolean;
  },
): Info {
  const [b, , , c] = x.shape;
  const { m, transposed } = step;
  const k = transposed ? u[0].shape[1] : u[0].shape[2];
  const { outHeight: oh, outWidth: ow } = opts;
  const th = Math.ceil(oh / m), tw = Math.ceil(ow / m), tiles = b * th * tw;
  const v = u.map(() => output(be, transposed ? [1, c, tiles] : [1, tiles, c]));
  _inputTiles(be, step.input, x, { ...opts, th, tw }, v);
  // P x [1, T, K], or [1, K, T] transposed
  const products = transposed
    ? _products(be, u, v, false)
    : _products(be, v, u, step.reused === true);
  free(be, v);
  const y = output(be, [b, oh, ow, k]);
  _outputTiles(be, step.output, y, {
    th,
    tw,
    bias: opts.bias ? ptr(be, opts.bias) : 0,
    relu: opts.relu ? 1 : 0,
  }, products);
  free(be, products);
  return y;
}

let _ownProducts = true;
let _fused = true;

/**
 * Tile·channels (`tiles · (C + K)`) per chunk of the fused F(4x4) convolution
 * (`wino43_conv`): a chunk's 36 input and 36 product tiles are 36 x 16 KB, within the L2 cache.
 * Measured against the staged pipeline (`bench/winograd_fused.ts --serial`: the quick preset's
 * layers, batch 128, 48 px at 16 channels to 6 px at 128, one thread): chunks of 4096 were
 * 1.09-1.24x faster on every layer; 1024 and 8192 lost on some (0.98-0.99x).
 */
export const FUSED_CHUNK = 4096;
/**
 * Largest `C·K` taken by the fused convolution: every chunk reads all 36 of the filter's
 * transforms, `36·C·K` floats. Measured faster than the staged pipeline up to 128 x 128
 * (1.10-1.16x at 6 x 6 px); wider layers (ResNet-18's, mostly transposed F(2x2) anyway) keep
 * the staged one.
 */
export const FUSED_MAX_FILTER = 128 * 128;

/**
 * Test and benchmark hook: F(4x4) convolutions fused (input tiles, products and output tiles
 * a chunk of tiles at a time in cache, default) or staged through memory (each transform and
 * product over the whole batch). Both give the same bits, which
 * tests/backend/kernels/winograd_test.ts checks.
 */
export function setWinogradFused(on: boolean): void {
  _fused = on;
}

/**
 * Tile·channels per chunk of the fused F(6x6) convolution (`wino63_conv`): its 64 input and 64
 * product tiles per tile take about the bytes of {@link FUSED_CHUNK}'s 36.
 */
export const FUSED63_CHUNK = 2048;

let _f63 = true;

/**
 * Test and benchmark hook: F(6x6, 3x3) where {@link winograd63Pays} (default) or F(4x4) for
 * every output of 4 x 4 and more, as before F(6x6) existed. The two round differently.
 */
export function setWinograd63(on: boolean): void {
  _f63 = on;
}

/**
 * Largest ratio of F(6x6)'s products (64 per 8x8 tile of 36 outputs) to F(4x4)'s (36 per tile
 * of 16) at which an output runs by F(6x6): 0.44 at 6 x 6 (one tile of 64 per image against
 * four of 36 that mostly overhang it), 0.79 at 12, 24 and 48 (the quick preset's other
 * stages), 1 at 16 and 1.8 at 8 (ResNet-18's at 64 px, which keep F(4x4)). Measured side by
 * side (scratch script, batch 128, a new filter every call so that its transform counts, 2
 * threads, medians of 12), F(6x6) against F(4x4), ms: 48 x 48 16 -> 16 channels 6.3 / 7.7,
 * 24 x 24 16 -> 32 2.8 / 3.5, 32 -> 32 5.2 / 6.0, 12 x 12 32 -> 64 2.2 / 2.6, 64 -> 64
 * 4.7 / 5.6, 6 x 6 64 -> 128 2.1 / 4.0, 128 -> 128 3.9 / 7.8.
 */
export const F63_MAX_PRODUCT_RATIO = 0.8;

/**
 * @returns whether an output of `oh x ow` runs by F(6x6, 3x3) (when its channels suit the
 * fused kernel): {@link F63_MAX_PRODUCT_RATIO}; sides of 5-6, 9-12, 17-18, 21-24, ... 45-48
 */
export function winograd63Pays(oh: number, ow: number): boolean {
  const products = (m: number, p: number) => Math.ceil(oh / m) * Math.ceil(ow / m) * p;
  return _f63 && oh >= 4 && ow >= 4 &&
    products(6, 64) <= F63_MAX_PRODUCT_RATIO * products(4, 36);
}

/**
 * @returns whether an F(m x m) convolution (m 4 or 6) of `c -> k` channels, `tw` tiles wide,
 * runs fused
 */
function _fusedEligible(c: number, k: number, tw: number, m: 4 | 6): boolean {
  return _fused && _ownProducts && k % 8 === 0 && c * k <= FUSED_MAX_FILTER &&
    tw * (c + k) <= (m === 4 ? FUSED_CHUNK : FUSED63_CHUNK);
}

/**
 * The fused F(4x4, 3x3) or F(6x6, 3x3) convolution (`wino43_conv`, `wino63_conv`): the batch's
 * tile rows in parts, two per thread, each part a chunk of {@link FUSED_CHUNK} (or
 * {@link FUSED63_CHUNK}) tile·channels at a time in its own scratch.
 *
 * @param up the filter's packed transforms `[36, C·K]` (layout `"4p"`) or `[64, C·K + 16]`
 * (`"6p"`)
 * @returns `[B, OH, OW, K]`, or with `opts.pool` its 2x2 max pool `[B, OH / 2, OW / 2, K]`
 */
function _fusedConv(
  be: WasmBackend,
  x: Info,
  up: Info,
  k: number,
  opts: Parameters<typeof winogradConv2d>[3],
  m: 4 | 6,
): Info {
  const [b, h, w, c] = x.shape;
  const { outHeight: oh, outWidth: ow } = opts;
  const th = Math.ceil(oh / m), tw = Math.ceil(ow / m), total = b * th;
  const chunk = m === 4 ? FUSED_CHUNK : FUSED63_CHUNK, components = (m + 2) ** 2;
  const rows = Math.max(1, Math.floor(chunk / (tw * (c + k))));
  const threads = simdThreads(be), parts = Math.min(total, threads === 1 ? 1 : 2 * threads);
  // The kernels set their components a cache line (16 floats) further apart than the tiles.
  const slot = components * (rows * tw * (c + k) + 32);
  const yShape = opts.pool ? [b, Math.floor(oh / 2), Math.floor(ow / 2), k] : [b, oh, ow, k];
  const y = output(be, yShape), scratch = output(be, [parts, slot]);
  const [px, py, ps, pu] = [x, y, scratch, up].map((t) => ptr(be, t));
  const bias = opts.bias ? ptr(be, opts.bias) : 0, relu = opts.relu ? 1 : 0;
  simdRun(
    be,
    Array.from({ length: parts }, (_, i): SimdCall => [
      m === 4 ? "wino43_conv" : "wino63_conv",
      px,
      h,
      w,
      c,
      opts.padTop,
      opts.padLeft,
      py,
      oh,
      ow,
      k,
      th,
      tw,
      Math.floor((i * total) / parts),
      Math.floor(((i + 1) * total) / parts),
      rows,
      bias,
      relu,
      opts.pool ? 1 : 0,
      ps + 4 * i * slot,
      pu,
    ]),
  );
  free(be, [scratch]);
  return y;
}

/**
 * Tiles (`rows·tw`) times channels (`C + K`) per chunk of the chunked filter gradient
 * (`wino_filter_grad_tiles`): one component's V and Z chunks are 32 KB, a thread's 8 of them
 * 256 KB, within the L2 caches of the machines measured.
 */
export const FILTER_GRAD_CHUNK = 8192;
let _chunkedFilterGrad = true;

/**
 * Test and benchmark hook: the Winograd filter gradient chunk by chunk in cache (default) or,
 * turned off, staged through memory (every tile transformed first, then `gemm_atb`). Both give
 * the same bits, which tests/backend/kernels/winograd_test.ts checks.
 */
export function setWinogradChunkedFilterGrad(on: boolean): void {
  _chunkedFilterGrad = on;
}

/**
 * Test and benchmark hook: the Winograd products by byel's `gemm_ab` (default) or, turned off,
 * by tfjs's XNNPACK `BatchMatMul` as before. Both give the same bits (each output one chain of
 * multiply-adds in channel order from zero), which tests/backend/kernels/winograd_test.ts checks.
 */
export function setWinogradOwnProducts(on: boolean): void {
  _ownProducts = on;
}

/**
 * The products `a_i b_i` of a Winograd pipeline, `a_i` `[1, M, K]` times `b_i` `[1, K, N]`
 * (`P` of them), by byel's `gemm_ab` (`wasm_simd/gemm.c`): each product's rows in a few parts
 * of multiples of 4, every part one call, all on every thread (`simdRun`), each call with its
 * own `[K, 8]` panel of scratch. tfjs's `BatchMatMul` packs its right operand into a new XNNPACK
 * operator whenever that operand is new, and in training both are (a new filter every step, new
 * tiles every call). Measured here on 2 threads, a convolution with a new filter, forward:
 * 128 x 12 x 12, 64 -> 64 channels, 30 ms through XNNPACK, 27 by `gemm_ab`; 32 x 8 x 8,
 * 256 -> 256, 75 against 32; the steps of bench/steps.ts (the two alternating, medians) for
 * the quick preset, supervised 1,078 ms against 1,016, BYEL 2,903 against 2,643; ResNet-18 at
 * 64 px, 1,465 against 1,291 and 3,751 against 3,235. A right operand that is a reused filter's
 * transform (evaluation) keeps its XNNPACK operator from one call to the next, and from
 * `XNNPACK_REUSED_MIN` values on (`keepsXnnpack`), XNNPACK's prepacked product is the faster
 * one.
 *
 * @param reusedB whether `b` are a reused filter's cached transforms
 * @returns `P` x `[1, M, N]`
 */
function _products(be: WasmBackend, a: Info[], b: Info[], reusedB: boolean): Info[] {
  const [, m, k] = a[0].shape, n = b[0].shape[2];
  if (!_ownProducts || keepsXnnpack(reusedB, k, n)) {
    const matMul = tfjsWasmKernel("BatchMatMul"); // XNNPACK's, not byel's in front of it
    return a.map((ai, i) =>
      matMul({
        inputs: { a: ai, b: b[i] },
        attrs: { transposeA: false, transposeB: false },
        backend: be,
      }) as Info
    );
  }
  const out = a.map(() => output(be, [1, m, n]));
  const at = (t: Info[]) => t.map((x) => ptr(be, x));
  gemmAbMany(be, at(a), at(b), at(out), { m, k, n });
  return out;
}

/** F(2x2, 3x3) with transposed products; `ut` are `[1, K, C]` transforms. */
function _transposedConv(
  be: WasmBackend,
  x: Info,
  ut: Info[],
  opts: Parameters<typeof winogradConv2d>[3],
): Info {
  const step = { m: 2 as const, input: "wino_input_t", output: "wino_output_t" } as const;
  return _pipeline(be, x, ut, opts, { ...step, transposed: true });
}

/** @returns the tile count of `b` outputs of `oh x ow` in `m x m` tiles (rows of a product) */
function _tiles(b: number, oh: number, ow: number, m: number): number {
  return b * Math.ceil(oh / m) * Math.ceil(ow / m);
}

/** @returns whether a stride-1 3x3 convolution has few enough tiles for transposed products */
function _fewTiles(xShape: number[], outHeight: number, outWidth: number): boolean {
  const tiles = xShape[0] * Math.ceil(outHeight / 2) * Math.ceil(outWidth / 2);
  return 2 * tiles <= xShape[3];
}

/**
 * The input gradient of a stride-1 3x3 convolution with few tiles for its channels, by
 * transposed F(2x2, 3x3) products with the filter's spatially rotated transform: no rotated,
 * channel-swapped copy of the filter is made (for 512 x 512 channels that copy alone cost more
 * than the products). Other shapes return null (the caller convolves with the rotated filter).
 *
 * @param dy `[B, OH, OW, K]` @param filter `[3, 3, C, K]` the forward filter
 * @param opts the forward's padding, and `inputShape` `[B, H, W, C]`
 * @returns `[B, H, W, C]` or null
 */
export function winogradInputGrad(
  backend: tf.KernelBackend,
  dy: Info,
  filter: Info,
  opts: { padTop: number; padLeft: number; inputShape: number[] },
): Info | null {
  const be = backend as WasmBackend;
  const [b, h, w, c] = opts.inputShape;
  if (!_fewTiles(dy.shape, h, w)) return null;
  const small = _tiles(b, h, w, 2) * c * dy.shape[3] < WINOGRAD_MIN_PRODUCT_MACS;
  if (small && !_anySize) return null; // a new filter every call: see WINOGRAD_MIN_PRODUCT_MACS
  const fx = _transforms(be);
  if (!fx) return null;
  const ut = _filter(be, _entry(be, filter), filter, "2r"); // 16 x [1, C, K]
  return _transposedConv(be, dy, ut, {
    padTop: 2 - opts.padTop,
    padLeft: 2 - opts.padLeft,
    outHeight: h,
    outWidth: w,
  });
}

/**
 * The filter gradient of a stride-1 3x3 convolution by Winograd F(2x2, 3x3):
 * `dU_k = V_kᵀ Z_k` summed over tiles by 16 matrix products, with `V = Bᵀ d B` the forward's
 * input tiles and `Z = A dY Aᵀ` the output gradient's tiles, then `dW = Gᵀ dU G`. The products
 * are byel's own (`wasm_simd/atb.h`): both operands are new every step, and XNNPACK would first
 * repack one of them, slower than the product itself. By default the tiles are made and
 * multiplied a chunk of tiles at a time, in cache (`wino_filter_grad_tiles`, each thread its own
 * rows of the 4 x 4 components, {@link FILTER_GRAD_CHUNK}); the staged route (every tile to
 * memory first, then `gemm_atb`) is the fallback for more than 4 threads, and gives the same
 * bits.
 *
 * @param x `[B, H, W, C]` the forward input @param dy `[B, OH, OW, K]`
 * @returns `[3, 3, C, K]`, or null when the transforms are unavailable
 */
export function winogradFilterGrad(
  backend: tf.KernelBackend,
  x: Info,
  dy: Info,
  opts: { padTop: number; padLeft: number },
): Info | null {
  const be = backend as WasmBackend;
  const fx = _transforms(be);
  if (!fx) return null;
  const [b, h, w, c] = x.shape;
  const [, oh, ow, k] = dy.shape;
  const th = Math.ceil(oh / 2), tw = Math.ceil(ow / 2);
  const du = output(be, [16, c, k]), pdu = ptr(be, du); // dU: 16 x [C, K]
  const duAt = (q: number) => pdu + 4 * q * c * k;
  const groups = simdThreads(be);
  if (_chunkedFilterGrad && groups <= 4) {
    // Each call: its own rows of the 16 components, its own scratch (16 x [rows·tw, C + K],
    // and the 48 floats by which wino_filter_grad_tiles sets the Z tiles off the V tiles).
    const rows = Math.max(1, Math.floor(FILTER_GRAD_CHUNK / (tw * (c + k))));
    const slot = 16 * rows * tw * (c + k) + 48;
    const scratch = output(be, [groups, slot]);
    const [px, pdy, ps] = [x, dy, scratch].map((t) => ptr(be, t));
    simdRun(
      be,
      Array.from({ length: groups }, (_, g): SimdCall => [
        "wino_filter_grad_tiles",
        px,
        pdy,
        b,
        h,
        w,
        c,
        oh,
        ow,
        k,
        opts.padTop,
        opts.padLeft,
        th,
        tw,
        rows,
        Math.round((4 * g) / groups),
        Math.round((4 * (g + 1)) / groups),
        ps + 4 * g * slot,
        pdu,
      ]),
    );
    free(be, [scratch]);
  } else _stagedFilterGrad(be, x, dy, opts, { th, tw, duAt });
  const dw = output(be, [3, 3, c, k]);
  fx.wino_filter_grad(ptr(be, dw), c * k, ...Array.from({ length: 16 }, (_, q) => duAt(q)));
  free(be, [du]);
  return dw;
}

/**
 * The staged route of {@link winogradFilterGrad}: every tile transformed to memory first
 * (16 x [T, C] and 16 x [T, K]), then the 16 products by `gemm_atb`, one call each, on every
 * thread, into `duAt(q)`.
 */
function _stagedFilterGrad(
  be: WasmBackend,
  x: Info,
  dy: Info,
  opts: { padTop: number; padLeft: number },
  at: { th: number; tw: number; duAt: (q: number) => Ptr },
): void {
  const [b, , , c] = x.shape;
  const [, oh, ow, k] = dy.shape;
  const { th, tw } = at, tiles = b * th * tw;
  const v = Array.from({ length: 16 }, () => output(be, [tiles, c]));
  _inputTiles(be, "wino_input", x, { ...opts, th, tw }, v); // 16 x [T, C]
  const z = Array.from({ length: 16 }, () => output(be, [tiles, k]));
  const dy0 = ptr(be, dy), z0 = z.map((t) => ptr(be, t)), perImage = th * tw;
  simdSplit(be, b, (n0, n): SimdCall => [ // 16 x [T, K], in chunks of images
    "wino_dy",
    dy0 + 4 * n0 * oh * ow * k,
    n,
    oh,
    ow,
    k,
    th,
    tw,
    ...z0.map((p) => p + 4 * n0 * perImage * k),
  ]);
  // The 16 products are independent: one call each, on every thread (A's row stride C).
  const product = (vi: Info, i: number): SimdCall => [
    "gemm_atb",
    ptr(be, vi),
    ptr(be, z[i]),
    at.duAt(i),
    tiles,
    c,
    k,
    c,
  ];
  simdRun(be, v.map(product));
  free(be, [...v, ...z]);
}

/**
 * Runs a (fused) conv through Winograd, or directly where it has few input channels
 * (`wasm_conv_narrow.ts`), if it qualifies; null means "use tfjs's kernel". With `pool`, only
 * a fused Winograd route, returning the 2x2 max pool of the output.
 */
function _tryWinograd(args: KernelArgs, fused: boolean, pool = false): Info | null {
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, Info>;
  const attrs = args.attrs as unknown as {
    strides: number | [number, number];
    pad: "same" | "valid" | number | number[][];
    dataFormat: string;
    dilations: number | [number, number];
    dimRoundingMode?: "floor" | "round" | "ceil";
    activation?: string;
  };
  if (x.dtype !== "float32" || filter.dtype !== "float32") return null;
  if (fused && (preluActivationWeights || !["linear", "relu"].includes(attrs.activation!))) {
    return null;
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== filter.shape[3])) return null;
  if ((attrs.dataFormat ?? "NHWC") !== "NHWC" || x.shape[3] !== filter.shape[2]) return null;
  const pair = (v: number | [number, number]) =>
    (typeof v === "number" ? [v, v] : v) as [
      number,
      number,
    ];
  const strides = pair(attrs.strides), dilations = pair(attrs.dilations ?? 1);
  const wino = winogradEligible({
    xShape: x.shape,
    filterShape: filter.shape,
    strides,
    dilations,
    dataFormat: "NHWC",
  });
  if (!wino && (pool || !narrowConvEligible(args.backend, x, filter, dilations))) return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    attrs.pad as "same",
    attrs.dimRoundingMode,
  );
  if (info.outHeight <= 0 || info.outWidth <= 0) return null;
  const g = {
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    bias: fused ? bias : undefined,
    relu: fused && attrs.activation === "relu",
    pool,
  };
  return wino
    ? winogradConv2d(args.backend, x, filter, g)
    : narrowConv2d(args.backend, x, filter, { ...g, strides });
}

/**
 * The convolution of a `ByelConvPool` call (`wasm_conv_pool.ts`: `FusedConv2D`'s inputs, `pad`
 * a number, stride 1) with the 2x2 max pool of its output, by a fused Winograd route.
 *
 * @returns `[B, OH / 2, OW / 2, K]`, or null where no fused route takes the convolution
 */
export function winogradConvPool(args: KernelArgs): Info | null {
  const attrs = { ...args.attrs, strides: 1, dilations: 1, dataFormat: "NHWC" };
  return _tryWinograd({ ...args, attrs }, true, true);
}

/**
 * Puts Winograd and the narrow direct convolution in front of tfjs's WASM `Conv2D` and
 * `FusedConv2D` (tfjs's own kernels keep every case neither takes). Idempotent.
 */
export function registerWinograd(): void {
  interposeWasmKernel("Conv2D", "winograd", (args) => _tryWinograd(args, false));
  interposeWasmKernel("FusedConv2D", "winograd", (args) => _tryWinograd(args, true));
}
