/**
 * `train`: pretrain (BYEL / BYOL) and fine-tune, or train the supervised baseline; writes
 * only under `--out`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { describeBackend, selectBackend } from "../backend/select.ts";
import { openRunData } from "../train/data.ts";
import { train } from "../train/loop.ts";
import { UserError } from "../errors.ts";
import type { Command } from "./command.ts";
import { configFlagHelp, configFlagOptions, configFromFlags, intFlag } from "./flags.ts";

const usage =
  `usage: deno run -A cli.ts train [--preset smoke|quick|paper] [--method byel|byol|baseline]
       [--data DIR] [--val DIR] [--balance none|sampler|loss] [--strict] [--out DIR] [--resume | --overwrite]
       [--backend auto|webgpu|wasm|cpu] [--<setting> VALUE]…

Pretrains with BYEL (or BYOL), fine-tunes keeping the best validation macro F1, and saves the
classifier to OUT/model (plus OUT/report.html, OUT/metrics.json, OUT/checkpoint).
Defaults: preset quick; data: the embedded generator's "synthetic" domain (training) and its
"real" domain (validation); out runs/<preset>-<method>-s<seed>. Ctrl-C saves a checkpoint;
--resume continues it with the same result as an uninterrupted run.

  --preset NAME      smoke (tests, seconds), quick (default; ~8-11 min on 2 cores), paper (GPU)
  --data DIR         training ImageFolder (class sub-folders) or prepared cache (= --data.train)
  --val DIR          validation ImageFolder (= --data.val)
  --balance MODE     class imbalance: none (default), sampler (class-balanced epochs) or loss
                     (class-weighted cross-entropy) (= --data.balance)
  --face MODE        framing of --data/--val folders: detect (default: find, align and crop
                     each face, as eval and predict do) or none (centre crop) (= --data.face)
  --strict           stop at the first bad image file of --data/--val, naming it (default: skip
                     bad files with a warning)
  --out DIR          output directory
  --resume           continue from OUT/checkpoint
  --overwrite        replace the run already in OUT (its files are removed first); without
                     this or --resume, an OUT that holds a run is refused. One run at a time
                     may use OUT (a lock file; a second one fails at once, naming the first)
  --threads N        WASM threads
  --stop-after N     stop (with a checkpoint) after N steps; for tests
  --export DIR       also copy the final model (model.json + weights.bin) to DIR
  --float16          with --export: store the weights as float16 (half the size)

Every setting, with its quick-preset default:
${configFlagHelp()}`;

/** The `train` command. */
export const command: Command = {
  name: "train",
  summary: "train a model (BYEL, BYOL or the supervised baseline)",
  usage,
  async run(args: string[]): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        ...configFlagOptions(),
        preset: { type: "string" },
        out: { type: "string" },
        resume: { type: "boolean" },
        overwrite: { type: "boolean" },
        threads: { type: "string" },
        "stop-after": { type: "string" },
        export: { type: "string" },
        float16: { type: "boolean" },
        strict: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    });
    const { config } = configFromFlags(values as Record<string, unknown>);
    const preset = (values.preset as string | undefined) ?? "quick";
    const outDir = (values.out as string | undefined) ??
      `runs/${preset}-${config.method}-s${config.seed}`;
    if (values.resume && values.overwrite) {
      throw new UserError(
        "--resume continues the run in --out and --overwrite replaces it: pass one",
      );
    }
    const threads = values.threads === undefined
      ? undefined
      : intFlag("threads", values.threads as string, { min: 1, max: 64, default: 0 });
    const stopAfter = values["stop-after"] === undefined
      ? undefined
      : intFlag("stop-after", values["stop-after"] as string, { min: 1, default: 0 });
    const info = await selectBackend({ backend: config.backend, threads });
    console.log(describeBackend(info));
    const { train: trainData, val, close } = await openRunData(config, {
      strict: values.strict as boolean | undefined,
    });
    console.log(
      `data: train ${trainData.name} (${trainData.length}), val ${val.name} (${val.length}); out ${outDir}`,
    );
    const result = await train({
      config,
      train: trainData,
      val,
      outDir,
      backend: info.name,
      resume: values.resume as boolean | undefined,
      overwrite: values.overwrite as boolean | undefined,
      stopAfter,
    }).finally(close);
    if (result.interrupted) return 130;
    if (values.export && result.modelDir) {
      const { loadModelParams, saveModel } = await import("../model/io.ts");
      const m = await loadModelParams(result.modelDir);
      await saveModel(values.export as string, m.params, {
        arch: m.arch,
        metadata: m.metadata,
        float16: values.float16 as boolean | undefined,
      });
      m.params.dispose();
      console.log(`exported the model to ${values.export}${values.float16 ? " (float16)" : ""}`);
    }
    console.log(`done in ${result.seconds.toFixed(0)} s; report ${outDir}/report.html`);
    return 0;
  },
};
