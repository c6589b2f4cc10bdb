/**
 * `compare`: trains the supervised baseline, BYOL and BYEL with the same preset, budget (images
 * seen) and seeds, scores each on the generator's held-out `real` domain, and prints one table.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { describeBackend, selectBackend } from "../backend/select.ts";
import { type Method, METHODS, resolveConfig } from "../config.ts";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../fsutil.ts";
import { load } from "../model/classifier.ts";
import { loadModelParams } from "../model/io.ts";
import { exists } from "../fsutil.ts";
import { HELD_OUT_SEED, HELD_OUT_SIZE, openRunData, openSource } from "../train/data.ts";
import { train } from "../train/loop.ts";
import type { Command } from "./command.ts";
import { configFlagOptions, configFromFlags } from "./flags.ts";

const usage =
  `usage: deno run -A cli.ts compare [--preset quick] [--seeds 0,1,…] [--methods baseline,byol,byel]
       [--out DIR] [--backend NAME] [--<setting> VALUE]…

Trains each method with each seed (same preset, same settings, same images seen: the baseline
trains supervised for the pretraining + fine-tuning epochs), then scores every model on the
held-out "real" domain (seed ${HELD_OUT_SEED}, ${HELD_OUT_SIZE} images) and prints one table of macro F1.
Runs go to OUT/<method>-s<seed>; the table to OUT/compare.md and OUT/compare.json.`;

/** The `compare` command. */
export const command: Command = {
  name: "compare",
  summary: "baseline vs BYOL vs BYEL: same budget and seeds, one table of real-domain macro F1",
  usage,
  async run(args: string[]): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        ...configFlagOptions(),
        preset: { type: "string" },
        out: { type: "string" },
        seeds: { type: "string" },
        methods: { type: "string" },
        threads: { type: "string" },
      },
      strict: true,
    });
    const preset = (values.preset as string | undefined) ?? "quick";
    const seeds = ((values.seeds as string | undefined) ?? "0").split(",").map(Number);
    if (seeds.some((s) => !(Number.isInteger(s) && s >= 0))) {
      throw new UserError(
        `--seeds ${values.seeds} is not allowed: expected integers >= 0, comma-separated`,
      );
    }
    const methods = ((values.methods as string | undefined) ?? METHODS.join(",")).split(
      ",",
    ) as Method[];
    for (const m of methods) {
      if (!METHODS.includes(m)) {
        throw new UserError(`--methods: "${m}" is not one of ${METHODS.join(", ")}`);
      }
    }
    const outRoot = (values.out as string | undefined) ?? `runs/compare-${preset}`;
    const base = configFromFlags(values as Record<string, unknown>).config;
    const info = await selectBackend({
      backend: base.backend,
      threads: values.threads ? Number(values.threads) : undefined,
    });
    console.log(describeBackend(info));
    const rows: {
      method: Method;
      seed: number;
      valF1: number;
      realF1: number;
      accuracy: number;
      seconds: number;
    }[] = [];
    for (const seed of seeds) {
      for (const method of methods) {
        const { overrides } = configFromFlags(values as Record<string, unknown>);
        const config = resolveConfig(preset, { ...overrides, method, seed: String(seed) });
        const { train: trainData, val, close } = await openRunData(config);
        const outDir = `${outRoot}/${method}-s${seed}`;
        // A finished run with the same config (e.g. from `train --out OUT/<method>-s<seed>`) is reused.
        let modelDir = `${outDir}/model`, valF1 = NaN, seconds = NaN;
        const done = await exists(`${modelDir}/model.json`) &&
          JSON.stringify(
              (await loadModelParams(modelDir).then((m) => (m.params.dispose(), m.metadata)))
                .config,
            ) ===
            JSON.stringify(config);
        if (done) {
          close();
          console.log(`== ${method}, seed ${seed}: reusing the finished run in ${outDir}`);
          const meta =
            JSON.parse(await Deno.readTextFile(`${modelDir}/model.json`)).userDefinedMetadata;
          valF1 = meta.metrics?.macroF1 ?? NaN;
          seconds = meta.trainSeconds ?? NaN;
        } else {
          console.log(`== ${method}, seed ${seed} -> ${outDir}`);
          const r = await train({ config, train: trainData, val, outDir, backend: info.name })
            .finally(close);
          if (!r.modelDir) throw new UserError(`${method} seed ${seed} produced no model`);
          modelDir = r.modelDir;
          valF1 = r.metrics?.macroF1 ?? NaN;
          seconds = r.seconds;
        }
        const model = await load(modelDir);
        const real = await openSource("real", {
          size: model.arch.inputSize,
          length: HELD_OUT_SIZE,
          seed: HELD_OUT_SEED,
          cache: false,
        });
        const m = await model.evaluate(real);
        model.dispose();
        rows.push({
          method,
          seed,
          valF1,
          realF1: m.macroF1,
          accuracy: m.accuracy,
          seconds,
        });
        console.log(`== ${method} seed ${seed}: held-out real macro F1 ${m.macroF1.toFixed(4)}`);
      }
    }
    const lines = [
      `preset ${preset}, seeds ${
        seeds.join(",")
      }, backend ${info.name}; macro F1 on the held-out real domain (seed ${HELD_OUT_SEED}, n ${HELD_OUT_SIZE})`,
      "",
      "| method | seed | real macro F1 | real accuracy | val macro F1 | train time (s) |",
      "|---|---|---|---|---|---|",
      ...rows.map((r) =>
        `| ${r.method} | ${r.seed} | ${r.realF1.toFixed(4)} | ${r.accuracy.toFixed(4)} | ${
          r.valF1.toFixed(4)
        } | ${r.seconds.toFixed(0)} |`
      ),
    ];
    if (seeds.length > 1) {
      lines.push("", "| method | mean real macro F1 | min | max |", "|---|---|---|---|");
      for (const method of methods) {
        const f = rows.filter((r) => r.method === method).map((r) => r.realF1);
        lines.push(
          `| ${method} | ${(f.reduce((a, b) => a + b, 0) / f.length).toFixed(4)} | ${
            Math.min(...f).toFixed(4)
          } | ${Math.max(...f).toFixed(4)} |`,
        );
      }
    }
    const table = lines.join("\n");
    console.log("\n" + table);
    await writeFileAtomic(`${outRoot}/compare.md`, table + "\n");
    await writeFileAtomic(
      `${outRoot}/compare.json`,
      JSON.stringify({ preset, seeds, backend: info.name, rows }, null, 1) + "\n",
    );
    return 0;
  },
};
