/**
 * `compare`: the supervised baseline, BYOL and BYEL with the same preset, budget (images seen)
 * and seeds, each scored on the generator's held-out `real` domain and on the real-photo dev
 * sets that are present; one table of every run and of mean ± spread per method.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { describeBackend, selectBackend } from "../backend/select.ts";
import { type Method, METHODS, resolveConfig } from "../config.ts";
import { UserError } from "../errors.ts";
import { DEFAULT_DEVSETS, findDevsets } from "../eval/devsets.ts";
import { FaceStage, parseFaceMode } from "../face/stage.ts";
import { writeFileAtomic } from "../fsutil.ts";
import { compareMethods, formatComparison } from "../train/compare.ts";
import { HELD_OUT_SEED, HELD_OUT_SIZE } from "../train/data.ts";
import type { Command } from "./command.ts";
import { configFlagOptions, configFromFlags, intFlag } from "./flags.ts";

const usage =
  `usage: deno run -A cli.ts compare [--preset quick] [--seeds 0,1,2] [--methods baseline,byol,byel]
       [--out DIR] [--devsets DIR] [--dev-face detect|none] [--backend NAME] [--<setting> VALUE]…

Trains each method with each seed (same preset, same settings, same images seen: the baseline
trains supervised for the pretraining + fine-tuning epochs), then scores every model on the
held-out "real" domain (seed ${HELD_OUT_SEED}, ${HELD_OUT_SIZE} images) and on each real-photo dev set under
--devsets (default ${DEFAULT_DEVSETS}, skipped when absent), and prints one table of macro F1
per run and mean ± standard deviation per method. A finished run with the same config is
reused. Runs go to OUT/<method>-s<seed>; the tables to OUT/compare.md and OUT/compare.json.

  --seeds LIST      seeds, comma-separated (default 0,1,2)
  --methods LIST    some of ${METHODS.join(",")} (default all)
  --devsets DIR     folder of labelled real-photo sets (measuring only; nothing trains on them)
  --dev-face MODE   framing of the dev sets' photos: detect (default) or none`;

/** The `compare` command. */
export const command: Command = {
  name: "compare",
  summary: "baseline vs BYOL vs BYEL: same budget, several seeds, dev-set macro F1 ± spread",
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
        devsets: { type: "string" },
        "dev-face": { type: "string" },
      },
      strict: true,
    });
    const preset = (values.preset as string | undefined) ?? "quick";
    const seeds = ((values.seeds as string | undefined) ?? "0,1,2").split(",")
      .map((s) => intFlag("seeds", s, { min: 0, default: 0 }));
    const methods = ((values.methods as string | undefined) ?? METHODS.join(",")).split(
      ",",
    ) as Method[];
    for (const m of methods) {
      if (!METHODS.includes(m)) {
        throw new UserError(`--methods: "${m}" is not one of ${METHODS.join(", ")}`);
      }
    }
    const outRoot = (values.out as string | undefined) ?? `runs/compare-${preset}`;
    const { config: base, overrides } = configFromFlags(values as Record<string, unknown>);
    const devsets = (values.devsets as string | undefined) ?? DEFAULT_DEVSETS;
    const faceMode = parseFaceMode(values["dev-face"] as string | undefined);
    const info = await selectBackend({
      backend: base.backend,
      threads: values.threads
        ? intFlag("threads", values.threads as string, { min: 1, default: 1 })
        : undefined,
    });
    console.log(describeBackend(info));
    const haveDev = (await findDevsets(devsets)).length > 0;
    if (!haveDev) {
      console.log(`no dev sets under ${devsets}: scoring on the synthetic real domain only`);
    }
    const face = haveDev && faceMode === "detect" ? await FaceStage.load() : undefined;
    try {
      const rows = await compareMethods({
        configOf: (method, seed) =>
          resolveConfig(preset, { ...overrides, method, seed: String(seed) }),
        methods,
        seeds,
        outRoot,
        backend: info.name,
        devsets: haveDev ? devsets : undefined,
        face,
      });
      const table = formatComparison(
        rows,
        `preset ${preset}, seeds ${
          seeds.join(",")
        }, backend ${info.name}; macro F1 on the held-out ` +
          `synthetic real domain (seed ${HELD_OUT_SEED}, n ${HELD_OUT_SIZE})` +
          (haveDev ? ` and the real-photo dev sets (face ${faceMode})` : ""),
      );
      console.log("\n" + table);
      await writeFileAtomic(`${outRoot}/compare.md`, table + "\n");
      await writeFileAtomic(
        `${outRoot}/compare.json`,
        JSON.stringify({ preset, seeds, backend: info.name, face: faceMode, rows }, null, 1) + "\n",
      );
    } finally {
      face?.dispose();
    }
    return 0;
  },
};
