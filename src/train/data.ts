/**
 * Where training, validation and evaluation images come from: the embedded generator's
 * `synthetic` domain (training) and `real` domain (validation), or image folders / prepared
 * caches through `openImages`. (Training keeps its images in memory after first use: see
 * `train()` and `data.memoryMB`.)
 *
 * @module
 */
import type { Dataset } from "../data/dataset.ts";
import { openImages } from "../data/open.ts";
import { SyntheticFaces } from "../data/synth/dataset.ts";
import { RenderWorker } from "../data/synth/workers.ts";
import type { Config } from "../config.ts";
import { FaceDecoder, FaceStage } from "../face/stage.ts";

/** Seed of the `real`-domain set that `eval` uses by default: disjoint from validation's. */
export const HELD_OUT_SEED = 1009;
/** Size of that held-out set. @default 1200 */
export const HELD_OUT_SIZE = 1200;

/**
 * Opens a data source: `synthetic` / `real` (generator domains) or a path.
 *
 * @param spec `synthetic`, `real`, or a folder / cache path
 * @param opts size (images are produced or resized to it), length and seed for the generator;
 *   `strict` stops at the first bad image file, naming it, instead of skipping it; `face` frames
 *   a folder's images (the generator's faces are rendered in the canonical frame already)
 * @returns the dataset
 */
export async function openSource(
  spec: string,
  opts: {
    size: number;
    length: number;
    seed: number;
    split?: "train" | "val";
    strict?: boolean;
    /** For a folder or cache: detect and align faces with this decoder, or `"none"`. */
    face?: FaceDecoder | "none";
  },
): Promise<Dataset> {
  if (spec === "synthetic" || spec === "real") {
    return new SyntheticFaces({
      domain: spec,
      seed: opts.seed,
      size: Math.max(32, Math.min(224, opts.size)),
      length: opts.length,
    });
  }
  return await openImages(spec, {
    size: opts.size,
    split: opts.split,
    strict: opts.strict,
    face: opts.face,
  });
}

/**
 * The training and validation sets of a run. Folders are read through the face stage when
 * `data.face` is `detect` (loaded here, freed by `close`); the generator's faces need none.
 *
 * @param cfg run config (data.*, arch.inputSize)
 * @param opts `strict`: stop at the first bad image file of a folder instead of skipping it
 * @returns `{ train, val, close }` (the generator's training faces render in a worker,
 *   {@link RenderWorker}): `close` frees the face stage when one was loaded, and the worker
 */
export async function openRunData(
  cfg: Config,
  opts: { strict?: boolean } = {},
): Promise<{ train: Dataset; val: Dataset; close: () => void }> {
  const size = cfg.arch.inputSize;
  const isFolder = (spec: string) => spec !== "synthetic" && spec !== "real";
  const stage = cfg.data.face === "detect" && (isFolder(cfg.data.train) || isFolder(cfg.data.val))
    ? await FaceStage.load()
    : undefined;
  const face = (spec: string) =>
    isFolder(spec) ? (stage ? new FaceDecoder(stage) : ("none" as const)) : undefined;
  try {
    const train = await openSource(cfg.data.train, {
      size,
      length: cfg.data.trainSize,
      seed: cfg.data.trainSeed,
      split: "train",
      strict: opts.strict,
      face: face(cfg.data.train),
    });
    const val = await openSource(cfg.data.val, {
      size,
      length: cfg.data.valSize,
      seed: cfg.data.valSeed,
      split: "val",
      strict: opts.strict,
      face: face(cfg.data.val),
    });
    // The generator's training faces render in a worker, overlapping the steps (workers.ts).
    const rendered = train instanceof SyntheticFaces ? new RenderWorker(train) : undefined;
    return {
      train: rendered ?? train,
      val,
      close: () => {
        stage?.dispose();
        rendered?.close();
      },
    };
  } catch (e) {
    stage?.dispose();
    throw e;
  }
}
