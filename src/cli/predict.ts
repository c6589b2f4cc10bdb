/**
 * `predict`: the class and the six probabilities of each image file, or, with `--lsd-test`,
 * an LSD challenge submission CSV.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { describeBackend, selectBackend } from "../backend/select.ts";
import { decodeImageFile } from "../data/decode.ts";
import { writeLsdSubmission } from "../data/submission.ts";
import { EMOTIONS } from "../emotions.ts";
import { UserError } from "../errors.ts";
import { load } from "../model/classifier.ts";
import type { Command } from "./command.ts";

const usage = `usage: deno run -A cli.ts predict --model DIR|URL FILE… [--json] [--backend NAME]
       deno run -A cli.ts predict --model DIR|URL --lsd-test DIR --list FILE --out FILE.csv

Prints the predicted class and the probabilities of the six classes for each PNG or JPEG file
(any size; grayscale is replicated to RGB). With --json: one JSON array of
{ file, class, probabilities: { anger: …, … } }.

With --lsd-test: classifies every image named in --list (LSD_Challenge_test_set_release.txt),
found under DIR, and writes the challenge submission to --out: the header image,expression and
one name,<0-5> row per listed image, in list order (0 anger, 1 disgust, 2 fear, 3 happiness,
4 sadness, 5 surprise). A missing or unreadable image stops it before anything is written.

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
      },
      strict: true,
      allowPositionals: true,
    });
    if (!values.model) {
      throw new UserError("predict needs --model DIR (a directory written by train)");
    }
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
      const batch = values.batch ? Number(values.batch) : 64;
      if (!(Number.isInteger(batch) && batch >= 1)) {
        throw new UserError(`--batch ${values.batch} is not allowed: expected an integer >= 1`);
      }
      const info = await selectBackend({ backend: (values.backend ?? "auto") as "auto" });
      console.log(describeBackend(info));
      const model = await load(values.model);
      try {
        const size = model.arch.inputSize;
        const rows = await writeLsdSubmission(
          { testDir: lsdTest, list: values.list, out: values.out },
          {
            size,
            batchSize: batch,
            classify: async (b) => {
              const rows = await model.classify(b);
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
      }
      return 0;
    }
    if (positionals.length === 0) {
      throw new UserError("predict needs at least one image file (PNG or JPEG)");
    }
    const info = await selectBackend({ backend: (values.backend ?? "auto") as "auto" });
    if (!values.json) console.log(describeBackend(info));
    const model = await load(values.model);
    const size = model.arch.inputSize;
    const rows: { file: string; class: string; probabilities: Record<string, number> }[] = [];
    try {
      for (let start = 0; start < positionals.length; start += 32) {
        const files = positionals.slice(start, start + 32);
        const images = new Float32Array(files.length * size * size * 3);
        for (const [i, f] of files.entries()) {
          images.set(await decodeImageFile(f, size), i * size * size * 3);
        }
        const results = await model.classify({ images, n: files.length, size });
        files.forEach((file, i) => {
          const r = results[i];
          rows.push({
            file,
            class: r.class,
            probabilities: Object.fromEntries(
              EMOTIONS.map((e) => [e, Number(r.probabilities[e].toFixed(4))]),
            ),
          });
        });
      }
    } finally {
      model.dispose();
    }
    if (values.json) console.log(JSON.stringify(rows));
    else {
      for (const r of rows) {
        const probs = Object.entries(r.probabilities).map(([e, v]) => `${e} ${v.toFixed(3)}`).join(
          "  ",
        );
        console.log(`${r.file}: ${r.class}   (${probs})`);
      }
    }
    return 0;
  },
};
