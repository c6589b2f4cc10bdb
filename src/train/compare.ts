/**
 * The method comparison: the supervised baseline, BYOL and BYEL trained with the same preset,
 * settings and budget (images seen) over several seeds, each scored on the generator's held-out
 * `real` domain and on every real-photo dev set present, summarised as mean ± spread.
 *
 * @module
 */
import type { Config, Method } from "../config.ts";
import type { Dataset } from "../data/dataset.ts";
import { openImages } from "../data/open.ts";
import { findDevsets } from "../eval/devsets.ts";
import { FaceDecoder, type FaceStage } from "../face/stage.ts";
import { exists } from "../fsutil.ts";
import { load } from "../model/classifier.ts";
import { loadModelParams } from "../model/io.ts";
import { HELD_OUT_SEED, HELD_OUT_SIZE, openRunData, openSource } from "./data.ts";
import { train } from "./loop.ts";

/** One trained model's scores. */
export interface ComparisonRow {
  /** Training method. */
  method: Method;
  /** The seed. */
  seed: number;
  /** Macro F1 on the held-out synthetic `real` domain. */
  realF1: number;
  /** Macro F1 on each dev set, by name. */
  dev: Record<string, number>;
  /** The validation macro F1 training kept. */
  valF1: number;
  /** Training time, seconds (NaN when a finished run was reused). */
  seconds: number;
}

/**
 * Trains (or reuses) and scores every method x seed.
 *
 * @param opts `configOf(method, seed)`: the validated config of one run; `methods`, `seeds`;
 *   `outRoot` (runs go to `outRoot/<method>-s<seed>`); `backend` name; `devsets` root and the
 *   `face` stage for them (without one they are centre-cropped); `log`
 * @returns one row per run, in the order run
 */
export async function compareMethods(opts: {
  configOf: (method: Method, seed: number) => Config;
  methods: readonly Method[];
  seeds: readonly number[];
  outRoot: string;
  backend: string;
  devsets?: string;
  face?: FaceStage;
  log?: (line: string) => void;
}): Promise<ComparisonRow[]> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const sets = opts.devsets ? await findDevsets(opts.devsets) : [];
  // Each dev set is read (and its faces found) once per input size, then kept in memory.
  const opened = new Map<string, Dataset>();
  const devData = async (path: string, size: number) => {
    const key = `${path}@${size}`;
    let d = opened.get(key);
    if (!d) {
      d = await openImages(path, {
        size,
        face: opts.face ? new FaceDecoder(opts.face) : "none",
        log: () => {},
      });
      opened.set(key, d);
    }
    return d;
  };
  const rows: ComparisonRow[] = [];
  for (const seed of opts.seeds) {
    for (const method of opts.methods) {
      const config = opts.configOf(method, seed);
      const outDir = `${opts.outRoot}/${method}-s${seed}`;
      let modelDir = `${outDir}/model`, valF1 = NaN, seconds = NaN;
      const reuse = await exists(`${modelDir}/model.json`) &&
        JSON.stringify(
            (await loadModelParams(modelDir).then((m) => (m.params.dispose(), m.metadata))).config,
          ) ===
          JSON.stringify(config);
      if (reuse) {
        log(`== ${method}, seed ${seed}: reusing the finished run in ${outDir}`);
        const meta =
          JSON.parse(await Deno.readTextFile(`${modelDir}/model.json`)).userDefinedMetadata;
        valF1 = meta.metrics?.macroF1 ?? NaN;
      } else {
        log(`== ${method}, seed ${seed} -> ${outDir}`);
        const { train: trainData, val, close } = await openRunData(config);
        const r = await train({
          config,
          train: trainData,
          val,
          outDir,
          backend: opts.backend,
          overwrite: true,
        }).finally(close);
        modelDir = r.modelDir!;
        valF1 = r.metrics?.macroF1 ?? NaN;
        seconds = r.seconds;
      }
      const model = await load(modelDir);
      try {
        const real = await openSource("real", {
          size: model.arch.inputSize,
          length: HELD_OUT_SIZE,
          seed: HELD_OUT_SEED,
        });
        const realF1 = (await model.evaluate(real)).macroF1;
        const dev: Record<string, number> = {};
        for (const s of sets) {
          dev[s.name] = (await model.evaluate(await devData(s.path, model.arch.inputSize))).macroF1;
        }
        rows.push({ method, seed, realF1, dev, valF1, seconds });
        log(
          `== ${method} seed ${seed}: real ${realF1.toFixed(4)}` +
            Object.entries(dev).map(([k, v]) => `, ${k} ${v.toFixed(4)}`).join(""),
        );
      } finally {
        model.dispose();
      }
    }
  }
  return rows;
}

/** @returns mean and sample standard deviation (0 for one value) */
export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1
    ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1))
    : 0;
  return { mean, sd };
}

/**
 * The comparison as Markdown: one row per run, then per method the mean ± standard deviation
 * (and the range) of every score.
 *
 * @param rows from {@link compareMethods}
 * @param title the first line
 * @returns the table's lines
 */
export function formatComparison(rows: readonly ComparisonRow[], title: string): string {
  const sets = [...new Set(rows.flatMap((r) => Object.keys(r.dev)))];
  const cols = ["real (synthetic)", ...sets];
  const score = (r: ComparisonRow, c: string) => c === cols[0] ? r.realF1 : r.dev[c] ?? NaN;
  const lines = [
    title,
    "",
    `| method | seed | ${cols.join(" | ")} | val | train time (s) |`,
    `|---|---|${cols.map(() => "---").join("|")}|---|---|`,
    ...rows.map((r) =>
      `| ${r.method} | ${r.seed} | ${cols.map((c) => score(r, c).toFixed(4)).join(" | ")} | ${
        r.valF1.toFixed(4)
      } | ${Number.isFinite(r.seconds) ? r.seconds.toFixed(0) : "reused"} |`
    ),
    "",
    `| method | runs | ${cols.map((c) => `${c}: mean ± sd (min–max)`).join(" | ")} |`,
    `|---|---|${cols.map(() => "---").join("|")}|`,
  ];
  for (const method of [...new Set(rows.map((r) => r.method))]) {
    const of = rows.filter((r) => r.method === method);
    lines.push(
      `| ${method} | ${of.length} | ${
        cols.map((c) => {
          const xs = of.map((r) => score(r, c));
          const { mean, sd } = meanSd(xs);
          return `${mean.toFixed(3)} ± ${sd.toFixed(3)} (${Math.min(...xs).toFixed(3)}–${
            Math.max(...xs).toFixed(3)
          })`;
        }).join(" | ")
      } |`,
    );
  }
  return lines.join("\n");
}
