/**
 * `eval`: scores a saved model on a labelled image folder (or the generator's held-out `real`
 * domain) and prints macro F1, per-class scores and the confusion matrix, or one JSON object.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { describeBackend, selectBackend } from "../backend/select.ts";
import { UserError } from "../errors.ts";
import { load } from "../model/classifier.ts";
import { formatMetrics } from "../eval/metrics.ts";
import { HELD_OUT_SEED, HELD_OUT_SIZE, openSource } from "../train/data.ts";
import type { Command } from "./command.ts";

const usage =
  `usage: deno run -A cli.ts eval --model DIR|URL [--data DIR] [--strict] [--json] [--backend NAME]

Scores the model on DIR (class sub-folders of PNG/JPEG, any size, or a prepared cache). Without
--data it uses the embedded generator's "real" domain, seed ${HELD_OUT_SEED} (${HELD_OUT_SIZE} images), which
training never sees (validation uses another seed).

  --model DIR|URL   a model directory (model.json + weights.bin) or its http(s) URL
  --data DIR        labelled images
  --strict          stop at the first bad image file of --data, naming it (default: skip it)
  --json            print one JSON object: macroF1, accuracy, perClass, confusion, n, backend
  --backend NAME    auto (default), webgpu, wasm, cpu
  --batch N         images per forward pass (default 64)`;

/** The `eval` command. */
export const command: Command = {
  name: "eval",
  summary: "score a model: macro F1, per-class scores, confusion matrix",
  usage,
  async run(args: string[]): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        model: { type: "string" },
        data: { type: "string" },
        json: { type: "boolean" },
        backend: { type: "string" },
        batch: { type: "string" },
        strict: { type: "boolean" },
      },
      strict: true,
    });
    if (!values.model) throw new UserError("eval needs --model DIR (a directory written by train)");
    const batch = values.batch ? Number(values.batch) : 64;
    if (!(Number.isInteger(batch) && batch >= 1)) {
      throw new UserError(`--batch ${values.batch} is not allowed: expected an integer >= 1`);
    }
    const info = await selectBackend({ backend: (values.backend ?? "auto") as "auto" });
    if (!values.json) console.log(describeBackend(info));
    const model = await load(values.model);
    try {
      const data = await openSource(values.data ?? "real", {
        size: model.arch.inputSize,
        length: HELD_OUT_SIZE,
        seed: HELD_OUT_SEED,
        split: "val",
        cache: false,
        strict: values.strict,
      });
      const m = await model.evaluate(data, { batch });
      if (m.n === 0) throw new UserError(`${values.data}: no labelled images to score`);
      if (values.json) {
        console.log(JSON.stringify({
          macroF1: m.macroF1,
          accuracy: m.accuracy,
          perClass: m.perClass,
          confusion: m.confusion,
          n: m.n,
          backend: info.name,
          data: data.name,
          model: values.model,
        }));
      } else {
        console.log(`model ${values.model} (${model.metadata.method}), data ${data.name}`);
        console.log(formatMetrics(m));
      }
    } finally {
      model.dispose();
    }
    return 0;
  },
};
