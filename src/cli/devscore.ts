/**
 * `devscore`: scores a model on every real-photo development set that is present (by default
 * `../shared/devsets`) and prints one table; does nothing, successfully, when there are none.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { describeBackend, selectBackend } from "../backend/select.ts";
import { writeFileAtomic } from "../fsutil.ts";
import { DEFAULT_DEVSETS, findDevsets, formatDevsetTable, scoreDevsets } from "../eval/devsets.ts";
import { FaceStage, parseFaceMode } from "../face/stage.ts";
import { parseTta } from "../eval/tta.ts";
import { load } from "../model/classifier.ts";
import { describeModel } from "../model/ensemble.ts";
import type { Command } from "./command.ts";
import { backendFlag, intFlag, MODEL_FLAG_HELP, modelFlag } from "./flags.ts";

const usage =
  `usage: deno task devscore [--model DIR|URL] [--devsets DIR] [--only a,b] [--json] [--out FILE]

Scores the model on each labelled image folder under DIR (default ${DEFAULT_DEVSETS}: real
photographs, for measuring only) and prints one table of macro F1, accuracy and per-class F1.
Prints a notice and exits 0 when DIR holds no dev set.

${MODEL_FLAG_HELP}
  --devsets DIR     folder of dev sets (each a folder of class sub-folders)
  --only a,b        score only these sets
  --face MODE       detect (default: find, align and crop each face) or none (whole image)
  --adapt           re-estimate BatchNorm statistics on each set's own images before scoring it
                    (test-time adaptation: label-free but transductive; off by default)
  --tta MODE        scales (default: the mean over the crop and its mirror at 100/90/80% of its
                    side) or none (the crop alone); test-time augmentation, one image at a time
  --json            print one JSON object instead of the table
  --out FILE        also write the JSON there
  --backend NAME    auto (default), webgpu, wasm, cpu
  --batch N         images per forward pass (default 64)`;

/** The `devscore` command. */
export const command: Command = {
  name: "devscore",
  summary: "score a model on the real-photo dev sets that are present, one table",
  usage,
  async run(args: string[]): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        model: { type: "string" },
        devsets: { type: "string" },
        only: { type: "string" },
        face: { type: "string" },
        adapt: { type: "boolean" },
        tta: { type: "string" },
        json: { type: "boolean" },
        out: { type: "string" },
        backend: { type: "string" },
        batch: { type: "string" },
      },
      strict: true,
    });
    const modelPath = modelFlag(values.model);
    const batch = intFlag("batch", values.batch, { min: 1, default: 64 });
    const tta = parseTta(values.tta);
    const faceMode = parseFaceMode(values.face);
    const root = values.devsets ?? DEFAULT_DEVSETS;
    const sets = await findDevsets(root);
    if (sets.length === 0) {
      console.log(`no dev sets under ${root}: nothing to score`);
      return 0;
    }
    const info = await selectBackend({ backend: backendFlag(values.backend) });
    if (!values.json) console.log(describeBackend(info));
    const model = await load(modelPath);
    const face = faceMode === "detect" ? await FaceStage.load() : undefined;
    try {
      const rows = await scoreDevsets(model, {
        root,
        only: values.only?.split(","),
        batch,
        face,
        adapt: values.adapt,
        tta,
        log: values.json ? undefined : (l) => console.log(l),
      });
      const json = {
        model: modelPath,
        method: model.metadata.method,
        networks: model.members.length,
        backend: info.name,
        face: faceMode,
        adapt: values.adapt ?? false,
        tta,
        sets: rows.map((r) => ({
          name: r.name,
          skipped: r.skipped,
          faces: r.faces,
          adapted: r.adapted,
          ...r.metrics,
        })),
      };
      if (values.out) await writeFileAtomic(values.out, JSON.stringify(json, null, 1) + "\n");
      if (values.json) console.log(JSON.stringify(json));
      else {
        const how = `face ${faceMode}, tta ${tta}` +
          (values.adapt ? ", BatchNorm adapted to each set (--adapt, transductive)" : "");
        console.log(`\nmodel ${modelPath} (${describeModel(model.metadata)}), ${how}`);
        console.log(formatDevsetTable(rows));
      }
    } finally {
      model.dispose();
      face?.dispose();
    }
    return 0;
  },
};
