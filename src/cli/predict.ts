/**
 * `predict`: the class and the six probabilities of each image file.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { tf } from "../deps.ts";
import { describeBackend, selectBackend } from "../backend/select.ts";
import { decodeImageFile } from "../data/decode.ts";
import { EMOTIONS } from "../emotions.ts";
import { UserError } from "../errors.ts";
import { load } from "../model/classifier.ts";
import type { Command } from "./command.ts";

const usage = `usage: deno run -A cli.ts predict --model DIR|URL FILE… [--json] [--backend NAME]

Prints the predicted class and the probabilities of the six classes for each PNG or JPEG file
(any size; grayscale is replicated to RGB). With --json: one JSON array of
{ file, class, probabilities: { anger: …, … } }.`;

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
      },
      strict: true,
      allowPositionals: true,
    });
    if (!values.model) {
      throw new UserError("predict needs --model DIR (a directory written by train)");
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
        const probs = tf.tidy(() =>
          model.probabilities(tf.tensor4d(images, [files.length, size, size, 3]))
        );
        const p = await probs.data();
        probs.dispose();
        files.forEach((file, i) => {
          const row = Array.from(p.slice(i * 6, i * 6 + 6));
          const best = row.indexOf(Math.max(...row));
          rows.push({
            file,
            class: EMOTIONS[best],
            probabilities: Object.fromEntries(
              EMOTIONS.map((e, k) => [e, Number(row[k].toFixed(4))]),
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
