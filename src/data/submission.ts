/**
 * The ABAW4 LSD challenge submission: read the test list
 * (`LSD_Challenge_test_set_release.txt`: header `image,expression`, then `0.jpg`, `1.jpg`, …),
 * classify every listed image, and write `image,expression` plus one `name,<0-5>` row per image
 * in list order. Nothing is written unless every listed image was read and classified, and the
 * CSV is renamed into place whole.
 *
 * The classifier is a plain `(batch) => Promise<Int32Array>`, so this file needs no model code.
 *
 * @module
 */
import { NUM_CLASSES } from "../emotions.ts";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../fsutil.ts";
import type { Batch } from "./dataset.ts";
import { type FileDecoder, inlineDecoder, toUnitFloat } from "./decode.ts";
import type { Upscale } from "./resize.ts";

/** Classifies a batch: one class index 0..5 per image. */
export type Classifier = (batch: Batch) => Promise<Int32Array>;

/**
 * Reads the challenge's test list.
 *
 * @param file the list (`image,expression` header optional; first column is the image name)
 * @returns image names in list order
 * @throws {UserError} when the file is missing or lists no image
 */
export async function readTestList(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(`${file}: no such test list; pass LSD_Challenge_test_set_release.txt`);
    }
    throw e;
  }
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/).map((l) => l.trim()).filter((l) =>
    l.length > 0
  );
  if (lines.length > 0 && /^image\s*(,|$)/i.test(lines[0])) lines.shift();
  const names = lines.map((l) => l.split(",")[0].trim());
  if (names.length === 0) {
    throw new UserError(
      `${file}: lists no image; expected a header image,expression then one name per row`,
    );
  }
  const bad = names.find((n) => n === "" || n.includes(".."));
  if (bad !== undefined) {
    throw new UserError(
      `${file}: bad image name "${bad}"; rows must name files inside the test folder`,
    );
  }
  return names;
}

/** Options for {@link predictLsdTest}. */
export interface LsdTestOptions {
  /** Side of the model's input. */
  size: number;
  /** Images per classifier call. @default 64 */
  batchSize?: number;
  /** Enlarging filter. @default "bicubic" */
  upscale?: Upscale;
  /** Decoder (a worker pool for speed). @default in-thread */
  decoder?: FileDecoder;
  /** Called after each batch with images done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Classifies every listed test image, in list order.
 *
 * @param testDir folder holding the test images
 * @param names image names from {@link readTestList}, relative to `testDir`
 * @param classify the model: batch -> class indices
 * @param options input size, batch size, progress
 * @returns `[names.length]` class indices 0..5
 * @throws {UserError} when a listed image is missing or unreadable, or the classifier answers wrongly
 */
export async function predictLsdTest(
  testDir: string,
  names: readonly string[],
  classify: Classifier,
  options: LsdTestOptions,
): Promise<Int32Array> {
  const paths = names.map((n) => `${testDir}/${n}`);
  // Every listed image must be there before any work: a submission is all rows or nothing.
  const missing: string[] = [];
  for (let s = 0; s < paths.length; s += 512) {
    const part = paths.slice(s, s + 512);
    const ok = await Promise.all(
      part.map((p) => Deno.stat(p).then((st) => st.isFile, () => false)),
    );
    ok.forEach((v, k) => v || missing.push(names[s + k]));
  }
  if (missing.length > 0) {
    throw new UserError(
      `${testDir}: ${missing.length} of ${names.length} listed test images are missing (${
        missing.slice(0, 3).join(", ")
      }${missing.length > 3 ? ", …" : ""}); ` +
        `pass the folder holding every image of the list; no submission written`,
    );
  }
  const batchSize = options.batchSize ?? 64;
  const decoder = options.decoder ?? inlineDecoder;
  const out = new Int32Array(names.length);
  for (let s = 0; s < names.length; s += batchSize) {
    const part = paths.slice(s, s + batchSize);
    const { pixels, failures } = await decoder.decodeFiles(part, options.size, {
      upscale: options.upscale,
    });
    const k = failures.findIndex((f) => f !== null);
    if (k >= 0) {
      throw new UserError(
        `${part[k]}: ${
          failures[k]!.message
        }; every listed test image must be readable; no submission written`,
      );
    }
    const batch: Batch = {
      images: toUnitFloat(pixels),
      labels: new Int32Array(part.length).fill(-1),
      n: part.length,
      size: options.size,
    };
    const pred = await classify(batch);
    if (pred.length !== part.length) {
      throw new Error(`classifier returned ${pred.length} predictions for ${part.length} images`);
    }
    for (let i = 0; i < pred.length; i++) {
      if (!(pred[i] >= 0 && pred[i] < NUM_CLASSES)) {
        throw new Error(`classifier returned class ${pred[i]}, not 0..${NUM_CLASSES - 1}`);
      }
    }
    out.set(pred, s);
    options.onProgress?.(s + part.length, names.length);
  }
  return out;
}

/**
 * Writes a challenge submission CSV: header `image,expression`, then `name,<class>` per image.
 *
 * @param out the CSV path (written to a temporary name, then renamed)
 * @param rows `names` and their `predictions` (0..5), the same length, in list order
 * @throws {Error} when the rows are incomplete (lengths differ or a class is out of range)
 * @example
 * ```ts
 * await writeSubmission("submission.csv", { names: ["0.jpg", "1.jpg"], predictions: Int32Array.of(4, 3) });
 * ```
 */
export async function writeSubmission(
  out: string,
  rows: { names: readonly string[]; predictions: ArrayLike<number> },
): Promise<void> {
  const { names, predictions } = rows;
  if (names.length !== predictions.length || names.length === 0) {
    throw new Error(
      `submission needs one prediction per listed image (${names.length} names, ${predictions.length} predictions)`,
    );
  }
  const lines = ["image,expression"];
  for (let i = 0; i < names.length; i++) {
    const c = predictions[i];
    if (!(Number.isInteger(c) && c >= 0 && c < NUM_CLASSES)) {
      throw new Error(`prediction ${c} for ${names[i]} is not a class 0..5`);
    }
    lines.push(`${names[i]},${c}`);
  }
  await writeFileAtomic(out, lines.join("\n") + "\n");
}

/**
 * The whole `predict --lsd-test DIR --list FILE --out CSV` step: read the list, classify every
 * image, write the CSV (all or nothing).
 *
 * @param paths `testDir`, `list` and `out`
 * @param options the `classify` function plus {@link LsdTestOptions}
 * @returns the number of rows written
 */
export async function writeLsdSubmission(
  paths: { testDir: string; list: string; out: string },
  options: LsdTestOptions & { classify: Classifier },
): Promise<number> {
  const names = await readTestList(paths.list);
  const predictions = await predictLsdTest(paths.testDir, names, options.classify, options);
  await writeSubmission(paths.out, { names, predictions });
  return names.length;
}
