/**
 * The face stage as the rest of byel uses it: `--face detect` (the default for image files and
 * folders) detects the faces of a photo, finds their landmarks and warps each to the canonical
 * aligned crop at the model's input size; `--face none` centre-crops the whole image, as
 * before. {@link FaceDecoder} plugs the stage into image folders, caches and submissions (it is
 * a {@link FileDecoder}), and counts the images in which no face was found (those fall back to
 * the whole image, taken as a tight crop).
 *
 * @module
 */
import { DecodeError, decodeImage, loadFastJpeg } from "../data/decode.ts";
import type { DecodedFiles, FileDecoder, FileFailure } from "../data/decode.ts";
import type { ResizeOptions } from "../data/resize.ts";
import { UserError } from "../errors.ts";
import { isPermissionError, mayLoadWorker } from "../workers.ts";
import { alignFace } from "./align.ts";
import { detectFacesBatch, type DetectOptions, type Face } from "./detect.ts";
import {
  DEFAULT_FACE_MODELS,
  disposeFaceModels,
  type FaceModels,
  loadFaceModels,
} from "./models.ts";
import type { RgbInput } from "./warp.ts";

/** How images are framed before the classifier: detect and align, or the whole image. */
export type FaceMode = "detect" | "none";
/** The face modes. */
export const FACE_MODES: readonly FaceMode[] = ["detect", "none"];

/**
 * Checks a `--face` value.
 *
 * @param v the value (undefined: `detect`)
 * @returns the mode
 * @throws UserError naming the allowed values
 */
export function parseFaceMode(v: string | undefined): FaceMode {
  const m = v ?? "detect";
  if (!(FACE_MODES as readonly string[]).includes(m)) {
    throw new UserError(`--face ${m} is not allowed: expected one of ${FACE_MODES.join(", ")}`);
  }
  return m as FaceMode;
}

/**
 * Photos per call of the detector and FaceMesh when a folder is read ({@link FaceDecoder}):
 * a batch pays the models' per-kernel overhead once (measured here, 1 thread: 6.2 -> 3.5 ms
 * per photo for the detector from 1 to 16 photos), and gives a threaded backend work to split.
 */
export const FACE_BATCH = 16;
/**
 * The face worker's WASM threads by default: the logical cores, at most 4. The commands that
 * detect faces (`eval`, `devscore`, `prepare`, `predict`, and `train --data` before it trains)
 * wait for the faces before the classifier runs, so the cores are free; a batch of 16 photos
 * runs ~1.3x faster on two threads than on one here, while a single photo gains nothing.
 */
export const FACE_THREADS: number = Math.min(
  4,
  (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency || 1,
); // (not backend/select.ts's logicalCores: this module is in the browser's bundle too)
/** At most this many source pixels per batch (large photos are sent in smaller batches). */
export const FACE_BATCH_PIXELS = 16e6;

/**
 * Whether a batch of photos waiting for the face stage is full.
 *
 * @param photos photos in it @param pixels their source pixels, summed
 * @returns true at {@link FACE_BATCH} photos or {@link FACE_BATCH_PIXELS} pixels
 */
export function faceBatchFull(photos: number, pixels: number): boolean {
  return photos >= FACE_BATCH || pixels >= FACE_BATCH_PIXELS;
}

/** One face of a photo, with its aligned crop. */
export interface AlignedFace extends Face {
  /** `[size, size, 3]` float32 RGB in [0, 1]: the canonical aligned crop. */
  crop: Float32Array;
}

/** The loaded face stage: in this thread, or in a worker of its own. */
export class FaceStage {
  readonly #models?: FaceModels;
  readonly #worker?: Worker;
  /** Where the stage runs, e.g. `worker (wasm, 1 thread)`; printed by the commands. */
  readonly where: string;
  readonly #pending = new Map<
    number,
    { resolve: (f: AlignedFace[][]) => void; reject: (e: Error) => void }
  >();
  #next = 0;

  private constructor(where: string, models?: FaceModels, worker?: Worker) {
    this.where = where;
    this.#models = models;
    this.#worker = worker;
    if (!worker) return;
    worker.onmessage = (e: MessageEvent) => {
      const m = e.data as { id: number; faces?: AlignedFace[][]; error?: string };
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`face worker: ${m.error}`));
      else p.resolve(m.faces!);
    };
  }

  /**
   * Loads the vendored models, in a worker of its own where workers exist (its own tfjs on
   * WASM, see `worker.ts`), else in this thread on the active backend. When the worker's module
   * may not be read (a narrower `--allow-read` than `deno.json`'s, or an import from a URL
   * without the permission to load it), the stage runs in this thread instead, and says so in
   * {@link FaceStage.where}.
   *
   * @param base where the model files are @default models/face beside this module
   * @param opts `worker` @default true where `Worker` exists and this is Deno; `threads` of the
   *   worker's WASM @default {@link FACE_THREADS}
   * @returns the stage
   * @example
   * ```ts
   * const stage = await FaceStage.load();
   * const faces = await stage.faces(image, { size: 48, maxFaces: 4 });
   * stage.dispose();
   * ```
   */
  static async load(
    base: string | URL = DEFAULT_FACE_MODELS,
    opts: { worker?: boolean; threads?: number } = {},
  ): Promise<FaceStage> {
    const useWorker = opts.worker ?? (typeof Worker !== "undefined" && "Deno" in globalThis);
    const inThread = async (why = "") =>
      new FaceStage(`this thread${why}`, await loadFaceModels(base));
    if (!useWorker) return await inThread();
    const url = new URL("./worker.ts", import.meta.url).href;
    // Without read access to a local worker module, Deno would print its own uncaught error
    // before the fallback below; ask first.
    if (!mayLoadWorker(url)) return await inThread(` (no read access to ${url})`);
    let worker: Worker;
    try {
      worker = new Worker(url, { type: "module" });
    } catch (e) {
      if (isPermissionError(e)) return await inThread(` (no permission to load ${url})`);
      throw e;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let threads = 1;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error("the face worker did not start within 120 s")),
          120_000,
        );
        worker.onmessage = (e: MessageEvent) => {
          const m = e.data as { kind: string; message?: string; threads?: number };
          if (m.kind === "ready") threads = m.threads ?? 1, resolve();
          else if (m.kind === "failed") reject(new UserError(m.message!));
        };
        worker.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          reject(new _WorkerStartError(e.message));
        };
        worker.postMessage({
          kind: "load",
          base: String(base),
          threads: opts.threads ?? FACE_THREADS,
        });
      }).finally(() => clearTimeout(timer));
    } catch (e) {
      worker.terminate();
      if (e instanceof _WorkerStartError && isPermissionError(e)) {
        return await inThread(` (no permission to load ${url})`);
      }
      if (e instanceof _WorkerStartError) {
        throw new Error(`face worker failed to start: ${e.message}`);
      }
      throw e;
    }
    return new FaceStage(
      `worker (wasm, ${threads} thread${threads === 1 ? "" : "s"})`,
      undefined,
      worker,
    );
  }

  /**
   * The faces of a photo, best first, each with its aligned crop; an image with no face found
   * gives one `fallback` face (the whole image, as a tight crop) unless `fallback: false`.
   *
   * @param img RGB, uint8 or float
   * @param opts `size` of the crops; detection options (`maxFaces` @default 1, `fallback`, …)
   * @returns the faces
   */
  async faces(img: RgbInput, opts: DetectOptions & { size: number }): Promise<AlignedFace[]> {
    return (await this.facesBatch([img], opts))[0];
  }

  /**
   * The faces of several photos in one pass of the models (see {@link FACE_BATCH}); each
   * photo's faces are what {@link FaceStage.faces} gives for it alone.
   *
   * @param imgs RGB images, uint8 or float
   * @param opts as for {@link FaceStage.faces}
   * @returns per image, its faces
   */
  async facesBatch(
    imgs: readonly RgbInput[],
    opts: DetectOptions & { size: number },
  ): Promise<AlignedFace[][]> {
    if (imgs.length === 0) return [];
    if (this.#worker) {
      const id = this.#next++;
      const done = new Promise<AlignedFace[][]>((resolve, reject) =>
        this.#pending.set(id, { resolve, reject })
      );
      this.#worker.postMessage({ kind: "faces", id, images: imgs, opts });
      return await done;
    }
    const found = await detectFacesBatch(this.#models!, imgs, opts);
    return found.map((fs, i) =>
      fs.map((f) => ({ ...f, crop: alignFace(imgs[i], f.landmarks, opts.size).data }))
    );
  }

  /** Frees the models (and stops the worker). */
  dispose(): void {
    if (this.#models) disposeFaceModels(this.#models);
    this.#worker?.terminate();
    for (const p of this.#pending.values()) p.reject(new Error("face stage disposed"));
    this.#pending.clear();
  }
}

/** The worker's own start failure (its module could not be loaded or threw at the top). */
class _WorkerStartError extends Error {}

/**
 * A {@link FileDecoder} that returns each file's aligned face (its best face) instead of the
 * centre-cropped image, counting the files in which no face was found.
 */
export class FaceDecoder implements FileDecoder {
  /** The stage it runs. */
  readonly stage: FaceStage;
  /** Files decoded, and those where no face was found (whole image used). */
  readonly counts = { images: 0, noFace: 0 };
  /** The first few files with no face, for the report. */
  readonly noFaceFiles: string[] = [];

  /** A decoder that aligns each file's best face. @param stage the loaded face stage */
  constructor(stage: FaceStage) {
    this.stage = stage;
  }

  /**
   * Decodes files into one packed buffer, never throwing for a bad file.
   *
   * @param paths image files @param size crop side
   * @returns the aligned crops as packed uint8 and one failure entry per file
   */
  async decodeFiles(
    paths: readonly string[],
    size: number,
    _options?: ResizeOptions,
  ): Promise<DecodedFiles> {
    await loadFastJpeg();
    const per = size * size * 3;
    const pixels = new Uint8Array(paths.length * per);
    const failures: (FileFailure | null)[] = new Array(paths.length).fill(null);
    // decoded photos wait here until a batch is full, then go through the models together
    let batch: { i: number; img: RgbInput }[] = [];
    let batchPixels = 0;
    const flush = async () => {
      const found = await this.stage.facesBatch(batch.map((b) => b.img), { size, maxFaces: 1 });
      found.forEach(([face], k) => {
        const { i } = batch[k];
        this.counts.images++;
        if (face.source === "fallback") {
          this.counts.noFace++;
          if (this.noFaceFiles.length < 5) this.noFaceFiles.push(paths[i]);
        }
        const out = pixels.subarray(i * per, (i + 1) * per);
        for (let c = 0; c < per; c++) {
          out[c] = Math.round(Math.min(1, Math.max(0, face.crop[c])) * 255);
        }
      });
      batch = [];
      batchPixels = 0;
    };
    for (const [i, path] of paths.entries()) {
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(path);
      } catch (e) {
        failures[i] = { reason: "unreadable", message: `cannot read: ${(e as Error).message}` };
        continue;
      }
      let img;
      try {
        img = decodeImage(bytes);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        failures[i] = { reason: e.reason, message: e.message };
        continue;
      }
      batch.push({ i, img });
      batchPixels += img.width * img.height;
      if (faceBatchFull(batch.length, batchPixels)) await flush();
    }
    if (batch.length) await flush();
    return { pixels, failures };
  }

  /**
   * One line on how many images had a face.
   *
   * @returns e.g. `faces: 1150 of 1154 images (4 with no face found: …); face stage in worker
   *   (wasm, 2 threads)`
   */
  summary(): string {
    const { images, noFace } = this.counts;
    return `faces: ${images - noFace} of ${images} images` +
      (noFace
        ? ` (${noFace} with no face found: the whole image was used, e.g. ${this.noFaceFiles[0]})`
        : "") +
      `; face stage in ${this.stage.where}`;
  }
}
