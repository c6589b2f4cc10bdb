/**
 * The Winograd products by byel's `gemm_ab` against tfjs's XNNPACK `BatchMatMul`
 * (`setWinogradOwnProducts`), side by side in one process: each of `bench/steps.ts`'s steps
 * is built once, warmed up, then run in rounds that alternate the two (which goes first
 * alternates too), and the medians are printed. Both give the same bits, so only the time
 * differs. Noise between runs on a shared machine is far larger than between the two here.
 *
 *   deno run -A bench/winograd_products.ts [--config quick|r18] [--kinds supervised,byel,inference]
 *        [--rounds 4]
 *
 * `r18` is ResNet-18 at full width, 64 px, batch 32 (the `r18-w1/64` rows).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { selectBackend } from "../src/backend/select.ts";
import { setWinogradOwnProducts } from "../src/backend/kernels/winograd.ts";
import type { StepKind } from "./flops.ts";
import { quickConfig, r18Config } from "./spec.ts";
import { buildStep } from "./steps.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    config: { type: "string", default: "quick" },
    kinds: { type: "string", default: "supervised,byel,inference" },
    rounds: { type: "string", default: "4" },
  },
});
await selectBackend({ backend: "wasm" });
const quick = quickConfig();
const cfg = values.config === "r18"
  ? r18Config(quick, { width: 1, inputSize: 64, batch: 32 })
  : quick;
const rounds = Number(values.rounds);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const kind of values.kinds.split(",") as StepKind[]) {
  const step = buildStep({ kind, config: cfg });
  await step.run();
  await step.run();
  const ms = { own: [] as number[], xnnpack: [] as number[] };
  const reps = kind === "inference" ? 5 : 1;
  for (let r = 0; r < rounds; r++) {
    for (const own of r % 2 ? [true, false] : [false, true]) {
      setWinogradOwnProducts(own);
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) await step.run();
      ms[own ? "own" : "xnnpack"].push((performance.now() - t0) / reps);
    }
  }
  setWinogradOwnProducts(true);
  step.dispose();
  const [x, o] = [median(ms.xnnpack), median(ms.own)];
  console.log(JSON.stringify({
    config: values.config,
    kind,
    xnnpack_ms: Math.round(x),
    gemm_ab_ms: Math.round(o),
    speedup: Number((x / o).toFixed(2)),
  }));
}
