/**
 * One kernel switch, side by side in one process: each of `bench/steps.ts`'s steps is built
 * once, warmed up under both settings, then run in rounds that alternate the two (which goes
 * first alternates too), and the medians are printed. Noise between runs on a shared machine is
 * far larger than between the two settings of one run, so this is the measure of a change.
 *
 *   deno run -A bench/ab.ts [--switch products|fused-relu|wino16|wino16-all]
 *        [--config quick|r18] [--kinds supervised,byel,inference] [--rounds 4]
 *
 * Switches (`a` is the default setting, `b` the alternative):
 * - `products`: the Winograd products by byel's `gemm_ab` (a) or by tfjs's XNNPACK
 *   `BatchMatMul` (b, `setWinogradOwnProducts(false)`); the same bits.
 * - `fused-relu`: BatchNorm's relu fused into its WASM kernels (a) or a separate `tf.relu` (b,
 *   `setFusedBnRelu(false)`); the same bits.
 * - `wino16`, `wino16-all`: Winograd from 32 channels (a) or from 16 (b) for the convolution and
 *   its input gradient, and with `-all` for the filter gradient too (`setWinogradMinChannels`);
 *   other rounding.
 *
 * `r18` is ResNet-18 at full width, 64 px, batch 32 (the `r18-w1/64` rows).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { selectBackend } from "../src/backend/select.ts";
import { setFusedBnRelu } from "../src/backend/batch_norm.ts";
import { setWinogradMinChannels, setWinogradOwnProducts } from "../src/backend/kernels/winograd.ts";
import type { StepKind } from "./flops.ts";
import { quickConfig, r18Config } from "./spec.ts";
import { buildStep } from "./steps.ts";

/** Each switch: its two settings, `a` first (the default). */
const SWITCHES: Record<string, { a: string; b: string; set: (b: boolean) => void }> = {
  products: { a: "gemm_ab", b: "xnnpack", set: (b) => setWinogradOwnProducts(!b) },
  "fused-relu": { a: "fused", b: "separate", set: (b) => setFusedBnRelu(!b) },
  wino16: {
    a: "default",
    b: "conv16",
    set: (b) => setWinogradMinChannels(b ? { conv: 16 } : {}),
  },
  "wino16-all": {
    a: "default",
    b: "all16",
    set: (b) => setWinogradMinChannels(b ? { conv: 16, filterGrad: 16 } : {}),
  },
};

const { values } = parseArgs({
  args: Deno.args,
  options: {
    switch: { type: "string", default: "products" },
    config: { type: "string", default: "quick" },
    kinds: { type: "string", default: "supervised,byel,inference" },
    rounds: { type: "string", default: "4" },
  },
});
const sw = SWITCHES[values.switch];
if (!sw) throw new Error(`--switch: ${values.switch} is not one of ${Object.keys(SWITCHES)}`);
await selectBackend({ backend: "wasm" });
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
