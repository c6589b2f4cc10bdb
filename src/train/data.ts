/**
 * Where training, validation and evaluation images come from: the embedded generator's
 * `synthetic` domain (training) and `real` domain (validation), or image folders / prepared
 * caches through `openImages`. Synthetic images are rendered once and kept as bytes, since
 * training revisits them every epoch.
 *
 * @module
 */
import type { Batch, Dataset } from "../data/dataset.ts";
import { openImages } from "../data/open.ts";
import { SyntheticFaces } from "../data/synth/dataset.ts";
import type { Config } from "../config.ts";
import { FaceDecoder, FaceStage } from "../face/stage.ts";

/** Seed of the `real`-domain set that `eval` uses by default: disjoint from validation's. */
export const HELD_OUT_SEED = 1009;
/** Size of that held-out set. @default 1200 */
export const HELD_OUT_SIZE = 1200;

/** Wraps a dataset, keeping each image as uint8 after its first render or decode. */
export class MemoryCache implements Dataset {
  readonly name: string;
  readonly length: number;
  readonly size: number;
  #inner: Dataset;
  #pixels: Uint8Array;
  #have: Uint8Array;

  /** @param inner the dataset to cache (its images are quantised to 1/255) */
  constructor(inner: Dataset) {
    this.#inner = inner;
    this.name = inner.name;
    this.length = inner.length;
    this.size = inner.size;
    this.#pixels = new Uint8Array(inner.length * inner.size * inner.size * 3);
    this.#have = new Uint8Array(inner.length);
  }

  label(i: number): number {
    return this.#inner.label(i);
  }

  async batch(indices: readonly number[]): Promise<Batch> {
    const px = this.size * this.size * 3;
    const missing = [...new Set(indices.filter((i) => !this.#have[i]))];
    if (missing.length) {
      const b = await this.#inner.batch(missing);
      missing.forEach((i, k) => {
        const src = b.images.subarray(k * px, (k + 1) * px);
        const dst = this.#pixels.subarray(i * px, (i + 1) * px);
        for (let j = 0; j < px; j++) dst[j] = Math.round(Math.min(1, Math.max(0, src[j])) * 255);
        this.#have[i] = 1;
      });
    }
    const images = new Float32Array(indices.length * px);
    const labels = new Int32Array(indices.length);
    indices.forEach((i, k) => {
      const src = this.#pixels.subarray(i * px, (i + 1) * px);
      for (let j = 0; j < px; j++) images[k * px + j] = src[j] / 255;
      labels[k] = this.label(i);
    });
    return { images, labels, n: indices.length, size: this.size };
  }
}

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
    cache?: boolean;
    strict?: boolean;
    /** For a folder or cache: detect and align faces with this decoder, or `"none"`. */
    face?: FaceDecoder | "none";
  },
): Promise<Dataset> {
  if (spec === "synthetic" || spec === "real") {
    const ds = new SyntheticFaces({
      domain: spec,
      seed: opts.seed,
      size: Math.max(32, Math.min(224, opts.size)),
      length: opts.length,
    });
    return opts.cache === false ? ds : new MemoryCache(ds);
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
 * @returns `{ train, val, close }`: `close` frees the face stage when one was loaded
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
    return { train, val, close: () => stage?.dispose() };
  } catch (e) {
    stage?.dispose();
    throw e;
  }
}
