/**
 * Where a benchmarked step spends its time: three warm-up steps, then one under `tf.profile`,
 * with kernel time summed per kernel name (and per name + input shapes for the top entries).
 * On WASM every kernel runs synchronously, so its wall time is its cost; the rest of the step
 * ("outside kernels") is JavaScript: the gradient tape, tidy scopes and the plain-JS max-pool
 * gradient. On WebGPU the times are GPU times per kernel from timestamp queries (byel requests
 * `timestamp-query` where the adapter has it; `kernel_time` says which kind the numbers are),
 * the way to see where a real GPU spends a step: `--backend webgpu`.
 *
 * The step is `bench/steps.ts`'s real one for the quick preset (`--set path=value` changes a
 * field); with any of `--family`, `--width`, `--size`, `--batch`, it is that network instead
 * (a ResNet-18 as the r18 rows, or the quick preset's VGG at that width and size; default
 * width 1, 64 px, batch 32) with the quick preset's training settings.
 *
 *   deno run -A bench/profile_step.ts [--backend wasm] [--kind byel] [--set path=value ...]
 *        [--family resnet|vgg] [--width 1] [--size 64] [--batch 32] [--threads 2] [--top 15]
 *        [--no-winograd]
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { Config } from "../src/config.ts";
import { tf } from "../src/deps.ts";
import { selectBackend } from "../src/backend/select.ts";
import type { StepKind } from "./flops.ts";
import { quickConfig, r18Config } from "./spec.ts";
import { buildStep } from "./steps.ts";
import { FRESH_MAX_USES } from "../src/backend/kernels/wasm_matmul.ts";
import { setWinograd } from "../src/backend/kernels/winograd.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    backend: { type: "string", default: "wasm" },
    kind: { type: "string", default: "byel" },
    set: { type: "string", multiple: true, default: [] },
    family: { type: "string" },
    width: { type: "string" },
    size: { type: "string" },
    batch: { type: "string" },
    threads: { type: "string" },
    top: { type: "string", default: "15" },
    "no-winograd": { type: "boolean", default: false },
  },
});
const info = await selectBackend({
  backend: values.backend as "wasm",
  threads: values.threads ? Number(values.threads) : undefined,
});
setWinograd(!values["no-winograd"]);
const quick = quickConfig(values.set);
const custom = [values.family, values.width, values.size, values.batch].some((v) => v);
const shape = {
  width: Number(values.width ?? 1),
  inputSize: Number(values.size ?? 64),
  batch: Number(values.batch ?? 32),
};
const r18 = r18Config(quick, shape);
const config: Config = !custom ? quick : (values.family ?? quick.arch.family) === "resnet" ? r18 : {
  ...r18,
  arch: { ...quick.arch, family: "vgg", width: shape.width, inputSize: shape.inputSize },
};
const step = buildStep({ kind: values.kind as StepKind, config });
// The profiler would otherwise read back every kernel's output to look for NaN.
tf.env().set("CHECK_COMPUTATION_FOR_ERRORS", false);
// Warm-up: inference's fixed filters count as reused from their third use on, and that step
// pays once for XNNPACK operators (about 0.5 s for a ResNet-18), so it is not the one profiled.
for (let s = 0; s <= FRESH_MAX_USES; s++) await step.run();
const t0 = performance.now();
const prof = await tf.profile(() => step.run() as unknown as tf.TensorContainer);
const wallMs = performance.now() - t0;
step.dispose();

const byName = new Map<string, { ms: number; calls: number }>();
const byShape = new Map<string, { ms: number; calls: number }>();
for (const k of prof.kernels) {
  const ms = Number(await k.kernelTimeMs);
  for (
    const [map, key] of [[byName, k.name], [
      byShape,
      `${k.name} ${JSON.stringify(k.inputShapes)}`,
    ]] as const
  ) {
    const e = map.get(key) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls += 1;
    map.set(key, e);
  }
}
const kernelMs = [...byName.values()].reduce((s, e) => s + e.ms, 0);
const timestamps = (tf.backend() as { supportTimestampQuery?: boolean }).supportTimestampQuery;
const kernelTime = info.name === "webgpu"
  ? (timestamps ? "gpu (timestamp-query)" : "unavailable: no timestamp-query, times are 0")
  : "wall (kernels run synchronously)";
const top = Number(values.top);
const rank = (m: Map<string, { ms: number; calls: number }>) =>
  [...m].sort((a, b) => b[1].ms - a[1].ms).slice(0, top).map(([key, e]) => ({
    kernel: key,
    ms: Math.round(e.ms),
    pct: Number((100 * e.ms / wallMs).toFixed(1)),
    calls: e.calls,
  }));
console.log(JSON.stringify(
  {
    backend: info.name,
    threads: info.threads,
    kind: values.kind,
    net: `${
      config.arch.family === "vgg" ? "vgg" : "r18"
    }-w${config.arch.width}/${config.arch.inputSize}`,
    batch: step.images,
    kernel_time: kernelTime,
    wall_ms: Math.round(wallMs),
    kernel_ms: Math.round(kernelMs),
    outside_kernels_ms: Math.round(wallMs - kernelMs),
    by_kernel: rank(byName),
    by_kernel_shape: rank(byShape),
  },
  null,
  1,
));
Deno.exit(0);
