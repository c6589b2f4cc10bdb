/**
 * Side-by-side benchmark, byel's half: images/s of a supervised training step, a full BYEL step
 * and inference (see `bench/steps.ts`) per backend, architecture width and input size; the
 * measured WASM SIMD peak per thread (`bench/simd_peak.ts`); analytic FLOP/s and percent of
 * that peak per row (`bench/flops.ts`); and the peak resident memory of the `quick` preset's
 * BYEL step over several steps, with its growth. Prints one JSON object as its last line;
 * progress goes to stderr.
 *
 *   deno run -A bench/byel_bench.ts [--backends wasm,webgpu] [--sizes 64,112] [--widths 1,0.5]
 *        [--kinds supervised,byel,inference] [--batch 32] [--steps 3] [--threads N]
 *        [--memory-steps 4] [--software-gpu]
 *
 * The first two steps of every row are a warm-up (kernel set-up, shader compilation, operator
 * creation, filter transforms) and not timed; then at least `--steps` are timed, and fast rows go
 * on until 2 s of timed work; the row reports the median of the timed steps. Backends that cannot
 * start are reported with their reason; a software WebGPU adapter (llvmpipe) is skipped unless
 * `--software-gpu`. A BYEL "image" is one pair of views.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { tf, TFJS_VERSION } from "../src/deps.ts";
import { type BackendInfo, selectBackend } from "../src/backend/select.ts";
import { type ArchConfig, QUICK } from "../src/config.ts";
import { STEP_KINDS, stepFlops, type StepKind } from "./flops.ts";
import { simdPeak } from "./simd_peak.ts";
import { benchConfig, buildStep } from "./steps.ts";

/** One measured row. */
export interface BenchRow {
  /** `kind/r18-w<width>/<size>`, the key shared with the PyTorch reference. */
  name: string;
  backend: string;
  threads?: number;
  simd?: boolean;
  img_s?: number;
  step_ms?: number[];
  /**
   * Analytic GFLOP per image of the direct computation (Winograd convolutions do fewer, so
   * GFLOP/s and `pct_peak` are "direct-equivalent" and can pass 100%).
   */
  gflop_img?: number;
  gflop_s?: number;
  /** Percent of threads x the measured per-thread mul+add peak (WASM rows). */
  pct_peak?: number | null;
  /** Largest resident set seen during the row, MiB. */
  rss_mb?: number;
  error?: string;
}

/** @returns the row key shared with the PyTorch reference @param kind step @param arch network */
export function rowName(kind: StepKind, arch: ArchConfig): string {
  return `${kind}/r${arch.depth}-w${arch.width}/${arch.inputSize}`;
}

/**
 * Timing protocol, shared with bench/reference_torch.py: untimed warm-up steps (kernel set-up,
 * shader compilation, XNNPACK operators, filter transforms), then at least `--steps` timed ones
 * and, for fast steps, more until this much timed work (at most `MAX_TIMED_STEPS`), so that a median is not
 * three samples of a noisy machine.
 */
const WARMUP_STEPS = 2;
const MIN_TIMED_MS = 2000;
const MAX_TIMED_STEPS = 30;

const _MB = 1024 * 1024;
const _median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const _round = (v: number, d = 2) => Number(v.toFixed(d));

/**
 * Times one step on the active backend.
 *
 * @returns per-step milliseconds (warm-up excluded) and the largest RSS seen
 */
async function _time(
  kind: StepKind,
  arch: ArchConfig,
  opts: { batch: number; steps: number },
): Promise<{ stepMs: number[]; rss: number[]; tensors: number[] }> {
  const step = buildStep({ kind, arch, batch: opts.batch });
  const stepMs: number[] = [], rss: number[] = [], tensors: number[] = [];
  try {
    const timed = () => stepMs.reduce((a, b) => a + b, 0);
    for (
      let s = 0;
      s < WARMUP_STEPS + opts.steps ||
      (timed() < MIN_TIMED_MS && stepMs.length < MAX_TIMED_STEPS);
      s++
    ) {
      const t0 = performance.now();
      await step.run();
      if (s >= WARMUP_STEPS) stepMs.push(performance.now() - t0);
      rss.push(Deno.memoryUsage().rss);
      tensors.push(tf.memory().numTensors);
    }
  } finally {
    step.dispose();
  }
  return { stepMs, rss, tensors };
}

/**
 * The quick preset's BYEL step (its network, heads and batch), `steps` times: resident memory
 * after each step and the live tensor count, to show the peak and that nothing grows.
 */
async function _memory(steps: number) {
  const cfg = benchConfig(QUICK.arch);
  const { rss, tensors, stepMs } = await _time("byel", cfg.arch, {
    batch: cfg.pretrain.batch,
    steps,
  });
  return {
    preset: "quick",
    arch: `r${cfg.arch.depth}-w${cfg.arch.width}/${cfg.arch.inputSize}`,
    batch: cfg.pretrain.batch,
    rss_mb: rss.map((v) => Math.round(v / _MB)),
    rss_peak_mb: Math.round(Math.max(...rss) / _MB),
    // From the first timed step on: the warm-up allocates the heap once.
    rss_growth_mb: Math.round((rss[rss.length - 1] - rss[WARMUP_STEPS]) / _MB),
    tensors,
    tensor_growth: tensors[tensors.length - 1] - tensors[0],
    img_s: _round(cfg.pretrain.batch / (_median(stepMs) / 1000)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      backends: { type: "string", default: "wasm,webgpu" },
      sizes: { type: "string", default: "64,112" },
      widths: { type: "string", default: "1,0.5" },
      kinds: { type: "string", default: STEP_KINDS.join(",") },
      batch: { type: "string", default: "32" },
      steps: { type: "string", default: "3" },
      threads: { type: "string" },
      "memory-steps": { type: "string", default: "4" },
      "software-gpu": { type: "boolean", default: false },
    },
  });
  const list = (s: string) => s.split(",").filter((v) => v !== "");
  const kinds = list(values.kinds) as StepKind[];
  for (const k of kinds) {
    if (!STEP_KINDS.includes(k)) throw new Error(`--kinds: ${k} is not one of ${STEP_KINDS}`);
  }
  const batch = Number(values.batch), steps = Number(values.steps);
  const archs: ArchConfig[] = list(values.sizes).flatMap((size) =>
    list(values.widths).map((width) => ({
      family: "resnet" as const,
      inputNorm: "imagenet" as const,
      norm: "batch" as const,
      depth: 18 as const,
      width: Number(width),
      stem: "imagenet" as const,
      inputSize: Number(size),
    }))
  );

  const peak = simdPeak();
  console.error(`simd peak per thread: ${JSON.stringify(peak)}`);
  const rows: BenchRow[] = [];
  let memory: (Awaited<ReturnType<typeof _memory>> & { backend: string }) | undefined;
  for (const backend of list(values.backends)) {
    let info: BackendInfo;
    try {
      const threads = values.threads ? Number(values.threads) : undefined;
      info = await selectBackend({ backend: backend as "wasm", threads });
      if (info.name === "webgpu" && info.adapter?.isFallback && !values["software-gpu"]) {
        // Mesa's llvmpipe takes ~50 s per supervised step: minutes per row, nothing to learn.
        throw new Error(
          `software adapter ${info.adapter.description} skipped (--software-gpu to time it)`,
        );
      }
    } catch (e) {
      rows.push({ name: "*", backend, error: (e as Error).message.split("\n")[0] });
      console.error(`${backend}: ${(e as Error).message.split("\n")[0]}`);
      continue;
    }
    // Memory first, while the WASM heap holds only this network (it never shrinks).
    if (!memory && Number(values["memory-steps"]) > 0) {
      memory = { backend: info.name, ...await _memory(Number(values["memory-steps"])) };
      console.error(`memory: ${JSON.stringify(memory)}`);
    }
    for (const arch of archs) {
      for (const kind of kinds) {
        const name = rowName(kind, arch);
        try {
          const { stepMs, rss } = await _time(kind, arch, { batch, steps });
          const imgS = batch / (_median(stepMs) / 1000);
          const gflopImg = stepFlops(kind, arch) / 1e9;
          const peakAll = info.name === "wasm" && info.simd && peak.mulAdd
            ? peak.mulAdd * info.threads
            : null;
          const row: BenchRow = {
            name,
            backend: info.name,
            threads: info.threads,
            simd: info.simd,
            img_s: _round(imgS),
            step_ms: stepMs.map(Math.round),
            gflop_img: _round(gflopImg, 4),
            gflop_s: _round(imgS * gflopImg),
            pct_peak: peakAll ? _round(100 * imgS * gflopImg / peakAll, 1) : null,
            rss_mb: Math.round(Math.max(...rss) / _MB),
          };
          rows.push(row);
          console.error(JSON.stringify(row));
        } catch (e) {
          rows.push({ name, backend: info.name, error: (e as Error).message.split("\n")[0] });
          console.error(`${name} ${info.name}: ${(e as Error).message}`);
        }
      }
    }
  }
  console.log(JSON.stringify({
    bench: "byel",
    batch,
    steps,
    deno: Deno.version.deno,
    tfjs: TFJS_VERSION,
    cores: navigator.hardwareConcurrency,
    simd_peak_gflops_per_thread: {
      mul_add: peak.mulAdd && _round(peak.mulAdd),
      fma: peak.fma && _round(peak.fma),
    },
    rows,
    memory,
  }));
}

if (import.meta.main) {
  await main();
  Deno.exit(0); // the WASM worker threads would keep the process alive
}
