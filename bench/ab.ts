/**
 * One kernel switch, side by side in one process: each of `bench/steps.ts`'s steps is built
 * once, warmed up under both settings, then run in rounds that alternate the two (which goes
 * first alternates too), and the medians are printed. Noise between runs on a shared machine is
 * far larger than between the two settings of one run, so this is the measure of a change.
 *
 *   deno run -A bench/ab.ts [--switch products|fused-relu|pool-loop|warp-tfjs|fg-staged|
 *        staged43|broadcast-tfjs|matmul-xnnpack|pool-tfjs|narrow-tfjs|wino32|wino32-filter|
 *        fg-tiles8|fg-tiles2|f43|convpool-separate]
 *        [--config quick|r18] [--kinds supervised,byel,inference] [--rounds 4] [--serial]
 *
 * Switches (`a` is the default setting, `b` the alternative):
 * - `products`: the Winograd products by byel's `gemm_ab` (a) or by tfjs's XNNPACK
 *   `BatchMatMul` (b, `setWinogradOwnProducts(false)`); the same bits.
 * - `fused-relu`: BatchNorm's relu fused into its WASM kernels (a) or a separate `tf.relu` (b,
 *   `setFusedBnRelu(false)`); the same bits.
 * - `pool-loop`: the max-pool gradients by byel's kernel (a) or by the plain-JS loop on the
 *   tensors' data that preceded it (b, `setOwnMaxPoolGrad(false)`); the same bits.
 * - `warp-tfjs`: the augmentations' warp (`Transform`, bilinear, nearest fill) by byel's kernel
 *   (a) or by tfjs-wasm's (b, `setOwnWarp(false)`); the same bits.
 * - `fg-staged`: the Winograd filter gradient a chunk of tiles at a time in cache (a) or staged
 *   through memory, every tile transformed first and then multiplied (b,
 *   `setWinogradChunkedFilterGrad(false)`); the same bits.
 * - `staged43`: F(4x4) convolutions fused, a chunk of tiles through the input transform, the
 *   products and the output transform in cache (a), or each stage over the whole batch through
 *   memory (b, `setWinogradFused(false)`); the same bits.
 * - `broadcast-tfjs`: broadcast `Add`, `Sub`, `Multiply` and `RealDiv` (a per-channel mean, a
 *   gray image, a factor per image) by byel's kernels (a) or by tfjs-wasm's scalar loop (b,
 *   `setOwnBroadcast(false)`); the same bits.
 * - `matmul-xnnpack`: plain `BatchMatMul` (the heads' dense layers) by byel's `gemm_ab` on every
 *   thread (a) or by tfjs's XNNPACK, which packs every new weight first (b, `setOwnMatMul(false)`);
 *   the same bits.
 * - `pool-tfjs`: the 2x2 max pool's forward by byel's kernel on every thread (a) or by tfjs's
 *   XNNPACK pool (b, `setOwnMaxPool(false)`); the same bits (values without NaN).
 * - `narrow-tfjs`: the RGB stem's convolution by byel's direct kernel on every thread (a) or
 *   by tfjs's XNNPACK igemm (b, `setOwnNarrowConv(false)`); the same bits.
 * - `wino32`, `wino32-filter`: Winograd from 16 channels (a, the default) or from 32 (b, the
 *   default until the 16-channel layers' transforms paid) for the convolution, its input
 *   gradient and its filter gradient, or with `-filter` for the filter gradient only (the
 *   16-channel layers' filter gradients then go through the patch product,
 *   `setWinogradMinChannels`); other rounding.
 * - `fg-tiles8`, `fg-tiles2`: the filter gradient by Winograd with any number of 2x2 tiles per
 *   input channel (a, the default) or from 8 (the default until the products ran on every
 *   thread) or 2 (b, `setWinogradFilterGradMinTiles`; at 64 px, batch 32, ResNet-18's second
 *   stage has 4 per channel, its third 0.5, its fourth 0.06); other rounding. The quick preset's
 *   layers all have 9 or more.
 * - `f43`: the outputs F(6x6, 3x3) Winograd takes (`winograd63Pays`: every stage of the quick
 *   preset, 6 to 48 px) by F(6x6) (a, the default, 8x8 tiles of 64 products; at 6 x 6 one per
 *   image) or by F(4x4, 3x3) (b, 6x6 tiles of 36; at 6 x 6 four, `setWinograd63(false)`); other
 *   rounding.
 * - `convpool-separate`: in evaluation, a VGG stage's last convolution and its 2x2 pool as one
 *   kernel pooling the Winograd output tiles (a) or as the convolution then the pool (b,
 *   `setOwnConvPool(false)`); the same bits. Only the inference step has them.
 *
 * `--serial` runs byel's kernels on the calling thread only, as in the browser
 * (`setSimdParallel(false)`; tfjs's own kernels keep their threads).
 *
 * `r18` is ResNet-18 at full width, 64 px, batch 32 (the `r18-w1/64` rows).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { selectBackend } from "../src/backend/select.ts";
import { setFusedBnRelu } from "../src/backend/batch_norm.ts";
import { setOwnMaxPool, setOwnMaxPoolGrad } from "../src/backend/max_pool.ts";
import { setOwnConvPool } from "../src/backend/conv_pool.ts";
import { setOwnWarp } from "../src/backend/kernels/wasm_augment.ts";
import { setOwnBroadcast } from "../src/backend/kernels/wasm_binary.ts";
import { setOwnMatMul } from "../src/backend/kernels/wasm_matmul.ts";
import { setOwnNarrowConv } from "../src/backend/kernels/wasm_conv_narrow.ts";
import { setSimdParallel } from "../src/backend/kernels/wasm_simd.ts";
import {
  setWinograd63,
  setWinogradChunkedFilterGrad,
  setWinogradFilterGradMinTiles,
  setWinogradFused,
  setWinogradMinChannels,
  setWinogradOwnProducts,
} from "../src/backend/kernels/winograd.ts";
import type { StepKind } from "./flops.ts";
import { quickConfig, r18Config } from "./spec.ts";
import { buildStep } from "./steps.ts";

/** Each switch: its two settings, `a` first (the default). */
const SWITCHES: Record<string, { a: string; b: string; set: (b: boolean) => void }> = {
  products: { a: "gemm_ab", b: "xnnpack", set: (b) => setWinogradOwnProducts(!b) },
  "fused-relu": { a: "fused", b: "separate", set: (b) => setFusedBnRelu(!b) },
  "pool-loop": { a: "kernel", b: "loop", set: (b) => setOwnMaxPoolGrad(!b) },
  "warp-tfjs": { a: "byel", b: "tfjs", set: (b) => setOwnWarp(!b) },
  "fg-staged": { a: "chunked", b: "staged", set: (b) => setWinogradChunkedFilterGrad(!b) },
  staged43: { a: "fused", b: "staged", set: (b) => setWinogradFused(!b) },
  "broadcast-tfjs": { a: "byel", b: "tfjs", set: (b) => setOwnBroadcast(!b) },
  "matmul-xnnpack": { a: "gemm_ab", b: "xnnpack", set: (b) => setOwnMatMul(!b) },
  "pool-tfjs": { a: "byel", b: "tfjs", set: (b) => setOwnMaxPool(!b) },
  "narrow-tfjs": { a: "byel", b: "tfjs", set: (b) => setOwnNarrowConv(!b) },
  wino32: {
    a: "floor16",
    b: "floor32",
    set: (b) => setWinogradMinChannels(b ? { conv: 32, filterGrad: 32 } : {}),
  },
  "wino32-filter": {
    a: "floor16",
    b: "filter32",
    set: (b) => setWinogradMinChannels(b ? { filterGrad: 32 } : {}),
  },
  "fg-tiles8": {
    a: "tiles0",
    b: "tiles8",
    set: (b) => setWinogradFilterGradMinTiles(b ? 8 : undefined),
  },
  "fg-tiles2": {
    a: "tiles0",
    b: "tiles2",
    set: (b) => setWinogradFilterGradMinTiles(b ? 2 : undefined),
  },
  f43: { a: "f63", b: "f43", set: (b) => setWinograd63(!b) },
  "convpool-separate": { a: "one", b: "two", set: (b) => setOwnConvPool(!b) },
};

const { values } = parseArgs({
  args: Deno.args,
  options: {
    switch: { type: "string", default: "products" },
    config: { type: "string", default: "quick" },
    kinds: { type: "string", default: "supervised,byel,inference" },
    rounds: { type: "string", default: "4" },
    serial: { type: "boolean", default: false },
  },
});
const sw = SWITCHES[values.switch];
if (!sw) throw new Error(`--switch: ${values.switch} is not one of ${Object.keys(SWITCHES)}`);
await selectBackend({ backend: "wasm" });
// byel's kernels on the calling thread only, as in the browser (tfjs's own keep their threads).
if (values.serial) setSimdParallel(false);
const quick = quickConfig();
const cfg = values.config === "r18"
  ? r18Config(quick, { width: 1, inputSize: 64, batch: 32 })
  : quick;
const rounds = Number(values.rounds);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const kind of values.kinds.split(",") as StepKind[]) {
  const step = buildStep({ kind, config: cfg });
  for (const b of [false, true]) {
    sw.set(b);
    await step.run();
    await step.run();
  }
  const ms = { a: [] as number[], b: [] as number[] };
  const reps = kind === "inference" ? 5 : 1;
  for (let r = 0; r < rounds; r++) {
    for (const b of r % 2 ? [true, false] : [false, true]) {
      sw.set(b);
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) await step.run();
      ms[b ? "b" : "a"].push((performance.now() - t0) / reps);
    }
  }
  sw.set(false);
  step.dispose();
  const [a, b] = [median(ms.a), median(ms.b)];
  console.log(JSON.stringify({
    switch: values.switch,
    config: values.config,
    kind,
    [`${sw.a}_ms`]: Math.round(a),
    [`${sw.b}_ms`]: Math.round(b),
    // > 1: the alternative (b) is faster.
    b_speedup: Number((a / b).toFixed(2)),
  }));
}
