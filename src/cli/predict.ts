/**
 * `predict`: finds the faces in each image file and prints each face's box, class and the six
 * probabilities, or, with `--lsd-test`, writes an LSD challenge submission CSV.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { describeBackend, selectBackend } from "../backend/select.ts";
import { readImageFile } from "../data/decode.ts";
import type { RgbImage } from "../data/image.ts";
import { writeLsdSubmission } from "../data/submission.ts";
import { EMOTIONS } from "../emotions.ts";
import { UserError } from "../errors.ts";
import { adaptBatchNorm } from "../eval/adapt.ts";
import {
  classifyFaces,
  type FaceResult,
  facesDataset,
  type PhotoFace,
  photoFacesBatch,
} from "../eval/photos.ts";
import { faceBatchFull, FaceDecoder, FaceStage, parseFaceMode } from "../face/stage.ts";
import { parseTta } from "../eval/tta.ts";
import { load } from "../model/classifier.ts";
import type { Command } from "./command.ts";
import { backendFlag, intFlag, MODEL_FLAG_HELP, modelFlag } from "./flags.ts";

const usage =
  `usage: deno run -A cli.ts predict [--model DIR|URL] FILE… [--face detect|none] [--json] [--skip-bad]
       deno run -A cli.ts predict [--model DIR|URL] --lsd-test DIR --list FILE --out FILE.csv

Finds every face in each PNG or JPEG file (any size; grayscale is replicated to RGB), aligns
it to the canonical crop and prints its box [x, y, w, h] (in the file's pixels), the predicted
class and the six probabilities. A file in which no face is found is read whole as a face crop
and marked so. With --json: one JSON array with, per file, { file, faces: [{ box, score,
source, landmarks, class, probabilities }], class, probabilities } (the last two: the first
face's), or { file, error } for a file that could not be read.

A file that cannot be read gets one warning line; the others are still classified. The exit
code is then 1, or 0 with --skip-bad.

With --lsd-test: classifies every image named in --list (LSD_Challenge_test_set_release.txt),
found under DIR, and writes the challenge submission to --out: the header image,expression and
one name,<0-5> row per listed image, in list order (0 anger, 1 disgust, 2 fear, 3 happiness,
4 sadness, 5 surprise). A missing or unreadable image stops it before anything is written.

${MODEL_FLAG_HELP}
  --face MODE       detect (default: find and align faces) or none (the whole image, centre-cropped)
  --max-faces N     most faces per file (default 8)
  --tta MODE        scales (default: the mean over the crop and its mirror at 100/90/80% of its
                    side) or none (the crop alone); test-time augmentation, one image at a time
  --skip-bad        exit 0 even when some files could not be read
  --adapt           re-estimate BatchNorm statistics on all the faces found in the given files
                    first (test-time adaptation: label-free but transductive; off by default)
  --json            print JSON instead of lines
  --backend NAME    auto (default), webgpu, wasm, cpu
  --lsd-test DIR    folder holding the test images
  --list FILE       the test list, one image name per line
  --out FILE        the CSV to write
  --batch N         images per forward pass (default 64)`;

/** The `predict` command. */
export const command: Command = {
  name: "predict",
  summary: "classify image files with a saved model",
  usage,
  async run(args: string[]): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      options: {
        model: { type: "string" },
        json: { type: "boolean" },
        backend: { type: "string" },
        "lsd-test": { type: "string" },
        list: { type: "string" },
        out: { type: "string" },
        batch: { type: "string" },
        face: { type: "string" },
        "max-faces": { type: "string" },
        "skip-bad": { type: "boolean" },
        adapt: { type: "boolean" },
        tta: { type: "string" },
      },
      strict: true,
      allowPositionals: true,
    });
    const modelPath = modelFlag(values.model);
    const batch = intFlag("batch", values.batch, { min: 1, default: 64 });
    const tta = parseTta(values.tta);
    const maxFaces = intFlag("max-faces", values["max-faces"], { min: 1, default: 8 });
    const faceMode = parseFaceMode(values.face);
    const backend = backendFlag(values.backend);
    const lsdTest = values["lsd-test"];
    if (lsdTest !== undefined || values.list !== undefined || values.out !== undefined) {
      if (!lsdTest || !values.list || !values.out) {
        throw new UserError(
          "a submission needs all of --lsd-test DIR, --list FILE and --out FILE.csv",
        );
      }
      if (positionals.length > 0) {
        throw new UserError("pass either image files or --lsd-test, not both");
      }
      const info = await selectBackend({ backend });
      console.log(describeBackend(info));
      const model = await load(modelPath);
      const face = faceMode === "detect" ? await FaceStage.load() : undefined;
      try {
        const size = model.arch.inputSize;
        const rows = await writeLsdSubmission(
          { testDir: lsdTest, list: values.list, out: values.out },
          {
            size,
            batchSize: batch,
            decoder: face ? new FaceDecoder(face) : undefined,
            classify: async (b) => {
              const rows = await model.classify(b, { tta });
              return Int32Array.from(rows, (r) => r.index);
            },
            onProgress: (done, total) => {
              if (done === total || done % (batch * 50) === 0) {
                console.log(`predicted ${done}/${total}`);
              }
            },
          },
        );
        console.log(`wrote ${rows} rows to ${values.out}`);
      } finally {
        model.dispose();
        face?.dispose();
      }
      return 0;
    }
    if (positionals.length === 0) {
      throw new UserError("predict needs at least one image file (PNG or JPEG)");
    }
    const info = await selectBackend({ backend });
    if (!values.json) console.log(describeBackend(info));
    const model = await load(modelPath);
    const face = faceMode === "detect" ? await FaceStage.load() : undefined;
    const rows: ({ file: string; faces: FaceResult[] } | { file: string; error: string })[] = [];
    try {
      const found: { file: string; faces: PhotoFace[] }[] = [];
      // decoded photos go through the face stage a batch at a time (faceBatchFull)
      let batch: { file: string; img: RgbImage }[] = [];
      let pixels = 0;
      const flush = async () => {
        const faces = await photoFacesBatch(batch.map((b) => b.img), {
          size: model.arch.inputSize,
          face,
          maxFaces,
        });
        batch.forEach((b, k) => found.push({ file: b.file, faces: faces[k] }));
        batch = [];
        pixels = 0;
      };
      for (const file of positionals) {
        try {
          const img = await readImageFile(file);
          batch.push({ file, img });
          pixels += img.width * img.height;
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          rows.push({ file, error: e.message });
          console.error(`warning: ${e.message}`);
        }
        if (faceBatchFull(batch.length, pixels)) await flush();
      }
      if (batch.length) await flush();
      if (values.adapt) {
        const all = found.flatMap((f) => f.faces);
        const a = await adaptBatchNorm(model, facesDataset(all, model.arch.inputSize));
        if (!values.json) {
          console.log(
            `BatchNorm statistics re-estimated on these ${a.images} faces (--adapt: test-time ` +
              `adaptation, transductive)`,
          );
        }
      }
      for (const f of found) {
        rows.push({ file: f.file, faces: await classifyFaces(model, f.faces, { tta }) });
      }
      rows.sort((a, b) => positionals.indexOf(a.file) - positionals.indexOf(b.file));
    } finally {
      model.dispose();
      face?.dispose();
    }
    const round = (p: Record<string, number>) =>
      Object.fromEntries(EMOTIONS.map((e) => [e, Number(p[e].toFixed(4))]));
    if (values.json) {
      console.log(JSON.stringify(rows.map((r) => {
        if ("error" in r) return r;
        const faces = r.faces.map((f) => ({
          ...f,
          box: f.box.map((v) => Number(v.toFixed(1))),
          probabilities: round(f.probabilities),
        }));
        return {
          file: r.file,
          faces,
          class: faces[0].class,
          probabilities: faces[0].probabilities,
        };
      })));
    } else {
      for (const r of rows) {
        if ("error" in r) continue;
        for (const [i, f] of r.faces.entries()) {
          const probs = EMOTIONS.map((e) => `${e} ${f.probabilities[e].toFixed(3)}`).join("  ");
          const where = f.source === "detector"
            ? `face ${i + 1} at [${f.box.map((v) => Math.round(v)).join(", ")}]`
            : f.source === "fallback"
            ? "no face found, whole image read as a face"
            : "whole image";
          console.log(`${r.file}: ${where}: ${f.class}   (${probs})`);
        }
      }
    }
    const bad = rows.filter((r) => "error" in r).length;
    if (bad > 0) {
      console.error(
        `${bad} of ${rows.length} files could not be read` +
          (values["skip-bad"] ? " (skipped: --skip-bad)" : "; exit code 1 (--skip-bad: 0)"),
      );
      return values["skip-bad"] ? 0 : 1;
    }
    return 0;
  },
};
