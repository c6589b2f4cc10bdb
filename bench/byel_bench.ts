/**
 * Side-by-side benchmark, byel's half. Per backend it times, in images/s:
 *
 * - `quick` rows `byel/quick`, `supervised/quick`, `inference/quick`: the real training steps
 *   and inference of `bench/steps.ts` for the `QUICK` preset of `src/config.ts` as it is at run
 *   time (network, batch, heads, optimizers, augmentations; `--set path=value` changes a field,
 *   e.g. to time a preset change before it lands);
 * - `r18` rows `kind/r18-w<width>/<size>`: the same steps on a ResNet-18 of each `--widths` and
 *   `--sizes`, `--batch` images per step, with the quick preset's training settings;
 * - `loop` rows `loop/pretrain` (BYEL) and `loop/finetune`: the real `train()` of
 *   `src/train/loop.ts` on the embedded synthetic faces, one stage each (`loop/finetune` of a
 *   baseline preset is its whole supervised job, as `deno task train` runs it; see
 *   {@link loopConfig}), with the quick preset's settings for that stage (network, batch,
 *   augmentation, optimizer, epochs, memory cache, validation once per epoch, checkpoints) on
 *   `--loop-batches` batches of training images and a validation set shrunk in the same
 *   proportion. `img_s` is the stage's images over the wall
 *   time of the whole `train()` call (rendering, the memory cache, augmentation, validation,
 *   checkpoints, the saved model); `step_img_s` is the bare step's (the matching quick row);
 *   `ratio` = `img_s / step_img_s`, the share of the step's speed a real run keeps;
 *   `loop_steps_img_s` is what the loop's own progress lines report (step time including the
 *   wait for the prefetched batch, nothing else). A short stage also pays once what a full run
 *   amortises (network set-up, first-use kernel set-up, the final checkpoint and model).
 *
 * Also measured: the WASM SIMD peak per thread (`bench/simd_peak.ts`), analytic FLOP/s and
 * percent of that peak per step row (`bench/flops.ts`), and the peak resident memory of the
 * quick preset's BYEL step over several steps, with its growth. Every step row carries the
 * `spec` (`bench/spec.ts`) of the config it timed; the report carries `quick_spec`, which
 * `bench/compare.ts` hands to the PyTorch reference. Prints one JSON object as its last line;
 * progress goes to stderr.
 *
 *   deno run -A bench/byel_bench.ts [--backends wasm,webgpu] [--rows r18,quick,loop]
 *        [--kinds supervised,byel,inference] [--sizes 64,112] [--widths 1,0.5] [--batch 32]
 *        [--steps 3] [--threads N] [--set path=value ...] [--loop-batches 8]
 *        [--memory-steps 4] [--software-gpu]
 *
 * The first two steps of every step row are a warm-up (kernel set-up, shader compilation,
 * operator creation, filter transforms) and not timed; then at least `--steps` are timed, and
 * fast rows go on until 2 s of timed work; the row reports the median of the timed steps.
 * Backends that cannot start are reported with their reason; a software WebGPU adapter
 * (llvmpipe) is skipped unless `--software-gpu`. A BYEL "image" is one pair of views.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { tf, TFJS_VERSION } from "../src/deps.ts";
import { type BackendInfo, selectBackend } from "../src/backend/select.ts";
import { type ArchConfig, type Config, validateConfig } from "../src/config.ts";
import { NUM_CLASSES } from "../src/emotions.ts";
import { openRunData } from "../src/train/data.ts";
import { train } from "../src/train/loop.ts";
import { stageSteps } from "../src/train/methods.ts";
import { STEP_KINDS, stepFlops, type StepKind } from "./flops.ts";
import { simdPeak } from "./simd_peak.ts";
import { type BenchSpec, benchSpec, quickConfig, r18Config } from "./spec.ts";
import { buildStep } from "./steps.ts";

/** The groups of rows, as `--rows` names them. */
export const ROW_GROUPS = ["r18", "quick", "loop"] as const;
/** One group of rows. */
export type RowGroup = typeof ROW_GROUPS[number];
/** The stages the loop rows run. */
export const LOOP_STAGES = ["pretrain", "finetune"] as const;

/** One measured row. */
export interface BenchRow {
  /**
   * `kind/r18-w<width>/<size>`, `kind/quick` or `loop/<stage>`: the key shared with the
   * PyTorch reference.
   */
  name: string;
  backend: string;
  threads?: number;
  simd?: boolean;
  /** Images per second (a BYEL image is a pair of views). */
  img_s?: number;
  step_ms?: number[];
  /** The reference's view of the config the row timed (step rows). */
  spec?: BenchSpec;
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
  /** Loop rows: the bare step's images/s for the same config. */
  step_img_s?: number;
  /** Loop rows: `img_s / step_img_s`. */
  ratio?: number;
  /** Loop rows: images/s over the loop's own step times (as its progress lines report). */
  loop_steps_img_s?: number;
  /** Loop rows: optimizer steps, training images, validation images, wall seconds. */
  loop?: { steps: number; train_size: number; val_size: number; seconds: number };
  error?: string;
}

/** @returns the row key shared with the PyTorch reference @param kind step @param arch network */
export function rowName(kind: StepKind, arch: ArchConfig): string {
  return `${kind}/r${arch.depth}-w${arch.width}/${arch.inputSize}`;
}

/**
 * The config of a loop row: the quick preset's settings for one stage, run alone (BYEL
 * pretraining without fine-tuning; for the fine-tuning row, the preset's own supervised job
 * when its method is the baseline, else a supervised run from scratch of the fine-tuning epochs),
 * on `batches` batches of training images and a validation set shrunk in the same proportion
 * (so validation costs the same share of an epoch as in a full run).
 *
 * @param quick the quick rows' config
 * @param opts the stage and the number of batches of training images
 * @returns a validated config
 */
export function loopConfig(
  quick: Config,
  opts: { stage: typeof LOOP_STAGES[number]; batches: number },
): Config {
  const staged: Config = opts.stage === "pretrain"
    ? { ...quick, method: "byel", skipFinetune: true }
    : quick.method === "baseline"
    // The preset's own job (`deno task train`): one supervised stage of pretrain.epochs +
    // finetune.epochs, whose first epoch fills the memory cache.
    ? quick
    // After pretraining: the fine-tuning epochs alone (baseline adds pretrain.epochs). A real
    // run would find the cache filled by pretraining; here the first epoch fills it.
    : { ...quick, method: "baseline", pretrain: { ...quick.pretrain, epochs: 0 } };
  const trainSize = opts.batches * staged[opts.stage].batch;
  const valSize = Math.max(
    NUM_CLASSES,
    Math.round(quick.data.valSize * trainSize / quick.data.trainSize),
  );
  return validateConfig({ ...staged, data: { ...staged.data, trainSize, valSize } });
}

/**
 * Timing protocol, shared with bench/reference_torch.py: untimed warm-up steps (kernel set-up,
 * shader compilation, XNNPACK operators, filter transforms), then at least `--steps` timed ones
 * and, for fast steps, more until this much timed work (at most `MAX_TIMED_STEPS`), so that a
 * median is not three samples of a noisy machine.
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
 * @returns per-step milliseconds (warm-up excluded), images per step, RSS and live tensors
 */
async function _time(
  kind: StepKind,
  config: Config,
  opts: { steps: number },
): Promise<{ stepMs: number[]; images: number; rss: number[]; tensors: number[] }> {
  const step = buildStep({ kind, config });
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
  return { stepMs, images: step.images, rss, tensors };
}

/**
 * The quick preset's BYEL step, `steps` times: resident memory after each step and the live
 * tensor count, to show the peak and that nothing grows.
 */
async function _memory(quick: Config, steps: number) {
  const { rss, tensors, stepMs, images } = await _time("byel", quick, { steps });
  const a = quick.arch;
  return {
    preset: "quick",
    arch: `${a.family === "vgg" ? "vgg" : `r${a.depth}`}-w${a.width}/${a.inputSize}`,
    batch: images,
    rss_mb: rss.map((v) => Math.round(v / _MB)),
    rss_peak_mb: Math.round(Math.max(...rss) / _MB),
    // From the first timed step on: the warm-up allocates the heap once.
    rss_growth_mb: Math.round((rss[rss.length - 1] - rss[WARMUP_STEPS]) / _MB),
    tensors,
    tensor_growth: tensors[tensors.length - 1] - tensors[0],
    img_s: _round(images / (_median(stepMs) / 1000)),
  };
}

/** A step row: `kind` of `config`, timed. */
async function _stepRow(
  name: string,
  kind: StepKind,
  config: Config,
  ctx: { info: BackendInfo; peak: { mulAdd: number | null }; steps: number },
): Promise<BenchRow> {
  const { info, peak } = ctx;
  const { stepMs, rss, images } = await _time(kind, config, { steps: ctx.steps });
  const imgS = images / (_median(stepMs) / 1000);
  const gflopImg = stepFlops(kind, config.arch, config.pretrain) / 1e9;
  const peakAll = info.name === "wasm" && info.simd && peak.mulAdd
    ? peak.mulAdd * info.threads
    : null;
  return {
    name,
    backend: info.name,
    threads: info.threads,
    simd: info.simd,
    img_s: _round(imgS),
    step_ms: stepMs.map(Math.round),
    spec: benchSpec(config),
    gflop_img: _round(gflopImg, 4),
    gflop_s: _round(imgS * gflopImg),
    pct_peak: peakAll ? _round(100 * imgS * gflopImg / peakAll, 1) : null,
    rss_mb: Math.round(Math.max(...rss) / _MB),
  };
}

/**
 * A loop row: one stage of a real `train()` run (see {@link loopConfig}), timed as a whole.
 *
 * @param stepImgS the bare step's images/s for the same config
 */
async function _loopRow(
  stage: typeof LOOP_STAGES[number],
  cfg: Config,
  ctx: { info: BackendInfo; stepImgS: number },
): Promise<BenchRow> {
  const s = cfg[stage];
  const epochs = stage === "pretrain" ? s.epochs : cfg.pretrain.epochs + s.epochs;
  const steps = stageSteps(epochs, cfg.data.trainSize, s.batch);
  const outDir = await Deno.makeTempDir({ prefix: "byel-bench-loop-" });
  const lines: string[] = [];
  try {
    const t0 = performance.now();
    const { train: images, val, close } = await openRunData(cfg);
    let result;
    try {
      result = await train({
        config: cfg,
        train: images,
        val,
        outDir,
        backend: ctx.info.name,
        log: (l) => lines.push(l),
        handleSigint: false,
      });
    } finally {
      close();
    }
    const seconds = (performance.now() - t0) / 1000;
    // The loop logs images/s per interval of steps; their sum is its own measure of step time.
    let prev = 0, stepSeconds = 0;
    for (const r of result.losses.filter((r) => r.stage === stage)) {
      stepSeconds += (r.step - prev) * s.batch / r.imagesPerSecond;
      prev = r.step;
    }
    const imgS = steps * s.batch / seconds;
    return {
      name: `loop/${stage}`,
      backend: ctx.info.name,
      threads: ctx.info.threads,
      simd: ctx.info.simd,
      img_s: _round(imgS),
      step_img_s: _round(ctx.stepImgS),
      ratio: _round(imgS / ctx.stepImgS, 3),
      loop_steps_img_s: _round(steps * s.batch / stepSeconds),
      loop: {
        steps,
        train_size: cfg.data.trainSize,
        val_size: cfg.data.valSize,
        seconds: _round(seconds, 1),
      },
      rss_mb: Math.round(Deno.memoryUsage().rss / _MB),
    };
  } catch (e) {
    throw new Error(`${(e as Error).message} (last loop lines: ${lines.slice(-3).join(" / ")})`);
  } finally {
    await Deno.remove(outDir, { recursive: true }).catch(() => {});
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    // `deno task bench:compare -- --steps 1` passes the "--" on.
    args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
    options: {
      backends: { type: "string", default: "wasm,webgpu" },
      rows: { type: "string", default: ROW_GROUPS.join(",") },
      sizes: { type: "string", default: "64,112" },
      widths: { type: "string", default: "1,0.5" },
      kinds: { type: "string", default: STEP_KINDS.join(",") },
      batch: { type: "string", default: "32" },
      steps: { type: "string", default: "3" },
      threads: { type: "string" },
      set: { type: "string", multiple: true, default: [] },
      "loop-batches": { type: "string", default: "8" },
      "memory-steps": { type: "string", default: "4" },
      "software-gpu": { type: "boolean", default: false },
    },
  });
  const list = (s: string) => s.split(",").filter((v) => v !== "");
  const kinds = list(values.kinds) as StepKind[];
  for (const k of kinds) {
    if (!STEP_KINDS.includes(k)) throw new Error(`--kinds: ${k} is not one of ${STEP_KINDS}`);
  }
  const groups = list(values.rows) as RowGroup[];
  for (const g of groups) {
    if (!ROW_GROUPS.includes(g)) throw new Error(`--rows: ${g} is not one of ${ROW_GROUPS}`);
  }
  const batch = Number(values.batch), steps = Number(values.steps);
  const loopBatches = Number(values["loop-batches"]);
  const quick = quickConfig(values.set);
  const r18 = groups.includes("r18")
    ? list(values.sizes).flatMap((size) =>
      list(values.widths).map((width) =>
        r18Config(quick, { width: Number(width), inputSize: Number(size), batch })
      )
    )
    : [];

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
    const push = (row: BenchRow) => {
      rows.push(row);
      console.error(JSON.stringify({ ...row, spec: undefined }));
    };
    const attempt = async (name: string, make: () => Promise<BenchRow>) => {
      try {
        push(await make());
      } catch (e) {
        rows.push({ name, backend: info.name, error: (e as Error).message.split("\n")[0] });
        console.error(`${name} ${info.name}: ${(e as Error).message}`);
      }
    };
    const ctx = { info, peak, steps };
    // Memory first, while the WASM heap holds only this network (it never shrinks).
    if (!memory && Number(values["memory-steps"]) > 0) {
      memory = { backend: info.name, ...await _memory(quick, Number(values["memory-steps"])) };
      console.error(`memory: ${JSON.stringify(memory)}`);
    }
    // The bare steps the loop rows compare with, by stage (from the quick rows when timed).
    const bare = new Map<string, number>();
    if (groups.includes("quick")) {
      for (const kind of kinds) {
        await attempt(`${kind}/quick`, async () => {
          const row = await _stepRow(`${kind}/quick`, kind, quick, ctx);
          bare.set(kind, row.img_s!);
          return row;
        });
      }
    }
    for (const config of r18) {
      for (const kind of kinds) {
        const name = rowName(kind, config.arch);
        await attempt(name, () => _stepRow(name, kind, config, ctx));
      }
    }
    if (groups.includes("loop")) {
      for (const stage of LOOP_STAGES) {
        await attempt(`loop/${stage}`, async () => {
          const cfg = loopConfig(quick, { stage, batches: loopBatches });
          const kind = stage === "pretrain" ? "byel" : "supervised";
          const stepImgS = bare.get(kind) ?? (await _stepRow(`${kind}/quick`, kind, cfg, ctx))
            .img_s!;
          return await _loopRow(stage, cfg, { info, stepImgS });
        });
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
    quick_overrides: values.set,
    quick_spec: benchSpec(quick),
    loop_batches: loopBatches,
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
