/**
 * `ensemble --out DIR MODEL…`: joins trained models of one architecture into one model whose
 * probabilities are the mean of theirs; reads only the given models and writes only `--out`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { describeBackend, selectBackend } from "../backend/select.ts";
import { UserError } from "../errors.ts";
import { exists } from "../fsutil.ts";
import { buildEnsemble, describeModel } from "../model/ensemble.ts";
import type { Command } from "./command.ts";
import { backendFlag } from "./flags.ts";

const usage =
  `usage: deno run -P cli.ts ensemble --out DIR [--float16] [--overwrite] [--backend NAME] MODEL…

Joins two or more trained models (folders or http(s) URLs of model.json + weights.bin, e.g.
runs/s0/model runs/s1/model runs/s2/model from train --seed 0, 1, 2 with the same preset) into
one model folder. The ensemble reads each face as the mean of its networks' probabilities; eval,
predict, devscore, --adapt and the web page load it like any model. It costs one forward pass
per network.

  --out DIR        the ensemble's folder (refused if it holds a model, unless --overwrite)
  --float16        store the weights as float16 (half the size)
  --overwrite      replace the model in DIR
  --backend NAME   auto (default), webgpu, wasm, cpu`;

/** The `ensemble` command. */
export const command: Command = {
  name: "ensemble",
  summary: "join trained models (e.g. three seeds) into one model that averages them",
  usage,
  async run(args: string[]): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      options: {
        out: { type: "string" },
        float16: { type: "boolean" },
        overwrite: { type: "boolean" },
        backend: { type: "string" },
      },
      strict: true,
      allowPositionals: true,
    });
    const out = values.out;
    if (!out) throw new UserError("ensemble needs --out DIR (see ensemble --help)");
    if (positionals.length < 2) {
      throw new UserError(
        `ensemble needs two or more model folders after its flags, got ${positionals.length}`,
      );
    }
    if (!values.overwrite && await exists(`${out}/model.json`)) {
      throw new UserError(`${out} already holds a model; pass --overwrite to replace it`);
    }
    const info = await selectBackend({ backend: backendFlag(values.backend) });
    console.log(describeBackend(info));
    const meta = await buildEnsemble(positionals, out, { float16: values.float16 });
    console.log(
      `wrote ${out}${values.float16 ? " (float16)" : ""}: ${describeModel(meta)}`,
    );
    return 0;
  },
};
