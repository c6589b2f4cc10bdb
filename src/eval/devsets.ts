/**
 * Real-photo development sets: every labelled image folder under one root (by default
 * `../shared/devsets`, beside the checkout), scored by one model into one table. These sets
 * measure how a model trained on synthetic faces reads real ones; nothing in byel trains on
 * them.
 *
 * @module
 */
import type { Dataset } from "../data/dataset.ts";
import { openImages } from "../data/open.ts";
import { FaceDecoder, type FaceStage } from "../face/stage.ts";
import { adaptBatchNorm } from "./adapt.ts";
import type { Tta } from "./tta.ts";
import { NUM_CLASSES } from "../emotions.ts";
import type { EmotionModel } from "../model/classifier.ts";
import type { Metrics } from "./metrics.ts";

/** Where {@link findDevsets} looks by default: beside the checkout. */
export const DEFAULT_DEVSETS = "../shared/devsets";

/** One dev set's score. */
export interface DevsetScore {
  /** The folder's name, e.g. `tcce`. */
  name: string;
  /** Its folder. */
  path: string;
  /** The scores. */
  metrics: Metrics;
  /** Images that could not be read (skipped). */
  skipped: number;
  /** Whether BatchNorm statistics were re-estimated on this set first (transductive). */
  adapted: boolean;
  /** With the face stage: images scored, and those in which no face was found. */
  faces?: { images: number; noFace: number };
  /** Wall time, seconds. */
  seconds: number;
}

/**
 * The labelled image folders directly under `root` (a folder counts when it holds class
 * sub-folders), sorted by name.
 *
 * @param root folder of dev sets
 * @returns their names and paths; none when `root` does not exist
 */
export async function findDevsets(root: string): Promise<{ name: string; path: string }[]> {
  const out: { name: string; path: string }[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      if (!e.isDirectory) continue;
      const path = `${root}/${e.name}`;
      let classes = 0;
      for await (const c of Deno.readDir(path)) if (c.isDirectory) classes++;
      if (classes > 0) out.push({ name: e.name, path });
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Scores a model on every dev set under `root`.
 *
 * @param model the classifier
 * @param opts `root` @default DEFAULT_DEVSETS; `only`: names to score; `batch` @default 64;
 *   `face`: detect and align every face first (else the whole image is centre-cropped);
 *   `adapt`: re-estimate BatchNorm statistics on each set's own images first (undone after);
 *   `tta`: test-time augmentation @default DEFAULT_TTA;
 *   `open`: how to read a set (tests plug in here); `log`
 * @returns one row per dev set (empty when there are none)
 */
export async function scoreDevsets(
  model: EmotionModel,
  opts: {
    root?: string;
    only?: string[];
    batch?: number;
    face?: FaceStage;
    adapt?: boolean;
    tta?: Tta;
    open?: (path: string, size: number) => Promise<Dataset & { skipped?: readonly unknown[] }>;
    log?: (line: string) => void;
  } = {},
): Promise<DevsetScore[]> {
  const sets = (await findDevsets(opts.root ?? DEFAULT_DEVSETS))
    .filter((s) => !opts.only || opts.only.includes(s.name));
  type Opened = Dataset & { skipped?: readonly unknown[] };
  const rows: DevsetScore[] = [];
  for (const s of sets) {
    const t0 = performance.now();
    const decoder = opts.face ? new FaceDecoder(opts.face) : undefined;
    const data: Opened = opts.open
      ? await opts.open(s.path, model.arch.inputSize)
      : await openImages(s.path, {
        size: model.arch.inputSize,
        face: decoder ?? "none",
        log: () => {},
      });
    const adapted = opts.adapt
      ? await adaptBatchNorm(model, data, { batch: opts.batch })
      : undefined;
    const metrics = await model.evaluate(data, { batch: opts.batch, tta: opts.tta });
    adapted?.restore();
    rows.push({
      adapted: adapted !== undefined,
      ...s,
      metrics,
      skipped: data.skipped?.length ?? 0, // counted after the scoring pass, which finds them
      faces: decoder ? { ...decoder.counts } : undefined,
      seconds: (performance.now() - t0) / 1000,
    });
    opts.log?.(
      `${s.name}: macro F1 ${metrics.macroF1.toFixed(4)} (n ${metrics.n}` +
        (decoder ? `; ${decoder.summary()}` : "") + `)`,
    );
  }
  return rows;
}

/**
 * The dev-set table: one row per set, macro F1, accuracy, n, and each class's F1.
 *
 * @param rows from {@link scoreDevsets}
 * @returns the lines of a Markdown table
 */
export function formatDevsetTable(rows: readonly DevsetScore[]): string {
  const classes = rows.length ? Object.keys(rows[0].metrics.perClass) : [];
  const head = ["dev set", "n", "macro F1", "accuracy", ...classes.map((c) => c.slice(0, 3))];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) {
    const m = r.metrics;
    lines.push(
      `| ${
        [
          r.name,
          String(m.n),
          m.macroF1.toFixed(4),
          m.accuracy.toFixed(4),
          ...classes.map((c) => m.perClass[c].f1.toFixed(2)),
        ].join(" | ")
      } |`,
    );
  }
  if (classes.length !== NUM_CLASSES) lines.push("");
  return lines.join("\n");
}
