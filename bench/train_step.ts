/**
 * Training-step throughput per backend: the real supervised step of `bench/steps.ts` (the
 * library's `finetuneStep`: augmentation, forward with BatchNorm in training mode, dropout,
 * cross-entropy on the 6-way head, backward, the quick preset's fine-tuning optimizer) of a
 * ResNet, on random images. Prints one JSON object.
 *
 *   deno task bench [--backends wasm,webgpu,cpu] [--depth 18] [--width 1] [--size 64]
 *                   [--batch 32] [--steps 3] [--threads N]
 *
 * The first step of each backend is a warm-up (kernel set-up, shader compilation) and is not
 * timed. Backends that cannot start are reported with their reason instead of a number.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { selectBackend } from "../src/backend/select.ts";
import { quickConfig, r18Config } from "./spec.ts";
import { buildStep } from "./steps.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    backends: { type: "string", default: "wasm,webgpu,cpu" },
    depth: { type: "string", default: "18" },
    width: { type: "string", default: "1" },
    size: { type: "string", default: "64" },
    batch: { type: "string", default: "32" },
    steps: { type: "string", default: "3" },
    threads: { type: "string" },
  },
});
const batch = Number(values.batch), steps = Number(values.steps);
const r18 = r18Config(quickConfig(), {
  width: Number(values.width),
  inputSize: Number(values.size),
  batch,
});
const config = { ...r18, arch: { ...r18.arch, depth: Number(values.depth) as 18 | 50 } };
const arch = config.arch;

/** One timed run on the active backend (the step is shared with bench/byel_bench.ts). */
async function measure(): Promise<{ stepMs: number[]; params: number }> {
  const step = buildStep({ kind: "supervised", config });
  const stepMs: number[] = [];
  try {
    for (let s = 0; s <= steps; s++) {
      const t0 = performance.now();
      await step.run();
      if (s > 0) stepMs.push(performance.now() - t0);
    }
  } finally {
    step.dispose();
  }
  return { stepMs, params: step.params };
}

const rows = [];
for (const name of values.backends.split(",")) {
  try {
    const threads = values.threads ? Number(values.threads) : undefined;
    const info = await selectBackend({ backend: name as "wasm", threads });
    const { stepMs, params } = await measure();
    const median = [...stepMs].sort((a, b) => a - b)[Math.floor(stepMs.length / 2)];
    const row = {
      backend: info.name,
      simd: info.simd,
      threads: info.threads,
      adapter: info.adapter && info.name === "webgpu" ? info.adapter.description : undefined,
      params,
      img_s: Number((batch / (median / 1000)).toFixed(2)),
      step_ms: stepMs.map((v) => Math.round(v)),
    };
    rows.push(row);
    console.error(JSON.stringify(row)); // progress: the slow backends take minutes
  } catch (e) {
    rows.push({ backend: name, error: (e as Error).message });
  }
}
console.log(JSON.stringify({
  bench: "train_step",
  arch: `resnet${arch.depth}`,
  width: arch.width,
  size: arch.inputSize,
  batch,
  deno: Deno.version.deno,
  cores: navigator.hardwareConcurrency,
  rows,
}));
Deno.exit(0);
