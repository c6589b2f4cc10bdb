/**
 * `eval`: scores a saved model on a labelled image folder (or the generator's held-out `real`
 * domain) and prints macro F1, per-class scores and the confusion matrix, or one JSON object.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { describeBackend, selectBackend } from "../backend/select.ts";
import { UserError } from "../errors.ts";
import { adaptBatchNorm } from "../eval/adapt.ts";
import { FaceDecoder, FaceStage, parseFaceMode } from "../face/stage.ts";
import { parseTta } from "../eval/tta.ts";
import { load } from "../model/classifier.ts";
import { describeModel } from "../model/ensemble.ts";
import { formatMetrics } from "../eval/metrics.ts";
import { HELD_OUT_SEED, HELD_OUT_SIZE, openSource } from "../train/data.ts";
import type { Command } from "./command.ts";
import { backendFlag, intFlag, MODEL_FLAG_HELP, modelFlag } from "./flags.ts";

const usage =
  `usage: deno run -A cli.ts eval [--model DIR|URL] [--data DIR] [--face detect|none] [--adapt]
       [--tta scales|none] [--strict] [--json] [--backend NAME]

Scores the model on DIR (class sub-folders of PNG/JPEG, any size, or a prepared cache). Without
--data it uses the embedded generator's "real" domain, seed ${HELD_OUT_SEED} (${HELD_OUT_SIZE} images), which
training never sees (validation uses another seed).

${MODEL_FLAG_HELP}
  --data DIR        labelled images
  --strict          stop at the first bad image file of --data, naming it (default: skip it)
  --face MODE       framing of --data images: detect (default: find, align and crop each face;
                    images with no face found are read whole, and counted) or none (centre crop)
  --adapt           re-estimate BatchNorm statistics on the images being scored first
                    (test-time adaptation: label-free but transductive; off by default)
  --tta MODE        scales (default: the mean over the crop and its mirror at 100/90/80% of its
                    side) or none (the crop alone); test-time augmentation, one image at a time
  --json            print one JSON object: macroF1, accuracy, perClass, confusion, n, backend,
                    data, model, networks (1, or an ensemble's count), face (and noFace: images
                    with no face found), adapt, tta
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
        face: { type: "string" },
        adapt: { type: "boolean" },
        tta: { type: "string" },
      },
      strict: true,
    });
    const modelPath = modelFlag(values.model);
    const batch = intFlag("batch", values.batch, { min: 1, default: 64 });
    const tta = parseTta(values.tta);
    // The generator's held-out faces are rendered in the canonical frame already.
    const faceMode = values.data ? parseFaceMode(values.face) : "none";
    const info = await selectBackend({ backend: backendFlag(values.backend) });
    if (!values.json) console.log(describeBackend(info));
    const model = await load(modelPath);
    const stage = faceMode === "detect" ? await FaceStage.load() : undefined;
    const decoder = stage ? new FaceDecoder(stage) : undefined;
    try {
      const data = await openSource(values.data ?? "real", {
        size: model.arch.inputSize,
        length: HELD_OUT_SIZE,
        seed: HELD_OUT_SEED,
        split: "val",
        strict: values.strict,
        face: values.data ? decoder ?? "none" : undefined,
      });
      const adapted = values.adapt ? await adaptBatchNorm(model, data, { batch }) : undefined;
      const m = await model.evaluate(data, { batch, tta });
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
          model: modelPath,
          networks: model.members.length,
          face: faceMode,
          noFace: decoder?.counts.noFace,
          adapt: adapted !== undefined,
          tta,
        }));
      } else {
        console.log(
          `model ${modelPath} (${describeModel(model.metadata)}), data ${data.name}, tta ${tta}`,
        );
        if (decoder) console.log(decoder.summary());
        if (adapted) {
          console.log(
            `BatchNorm statistics re-estimated on these ${adapted.images} images (--adapt: ` +
              `test-time adaptation, transductive)`,
          );
        }
        console.log(formatMetrics(m));
      }
    } finally {
      model.dispose();
      stage?.dispose();
    }
    return 0;
  },
};
