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
import { alignFace } from "./align.ts";
import { detectFaces, type DetectOptions, type Face } from "./detect.ts";
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

/** One face of a photo, with its aligned crop. */
export interface AlignedFace extends Face {
  /** `[size, size, 3]` float32 RGB in [0, 1]: the canonical aligned crop. */
  crop: Float32Array;
}

/** The loaded face stage: in this thread, or in a worker of its own. */
export class FaceStage {
  readonly #models?: FaceModels;
  readonly #worker?: Worker;
  readonly #pending = new Map<
    number,
    { resolve: (f: AlignedFace[]) => void; reject: (e: Error) => void }
  >();
  #next = 0;

  private constructor(models?: FaceModels, worker?: Worker) {
    this.#models = models;
    this.#worker = worker;
    if (!worker) return;
    worker.onmessage = (e: MessageEvent) => {
      const m = e.data as { id: number; faces?: AlignedFace[]; error?: string };
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`face worker: ${m.error}`));
      else p.resolve(m.faces!);
    };
  }

  /**
   * Loads the vendored models, in a worker of its own where workers exist (its own tfjs on
   * single-threaded WASM, see `worker.ts`), else in this thread on the active backend.
   *
   * @param base where the model files are @default models/face beside this module
   * @param opts `worker` @default true where `Worker` exists and this is Deno
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
    opts: { worker?: boolean } = {},
  ): Promise<FaceStage> {
    const useWorker = opts.worker ?? (typeof Worker !== "undefined" && "Deno" in globalThis);
    if (!useWorker) return new FaceStage(await loadFaceModels(base));
    const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error("the face worker did not start within 120 s")),
        120_000,
      );
      worker.onmessage = (e: MessageEvent) => {
        const m = e.data as { kind: string; message?: string };
        if (m.kind === "ready") resolve();
        else if (m.kind === "failed") reject(new UserError(m.message!));
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        reject(new Error(`face worker failed to start: ${e.message}`));
      };
      worker.postMessage({ kind: "load", base: String(base) });
    }).catch((e) => {
      worker.terminate();
      throw e;
    }).finally(() => clearTimeout(timer));
    return new FaceStage(undefined, worker);
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
    if (this.#worker) {
      const id = this.#next++;
      const done = new Promise<AlignedFace[]>((resolve, reject) =>
        this.#pending.set(id, { resolve, reject })
      );
      this.#worker.postMessage({ kind: "faces", id, image: img, opts });
      return await done;
    }
    const faces = await detectFaces(this.#models!, img, opts);
    return faces.map((f) => ({ ...f, crop: alignFace(img, f.landmarks, opts.size).data }));
  }

  /** Frees the models (and stops the worker). */
  dispose(): void {
    if (this.#models) disposeFaceModels(this.#models);
    this.#worker?.terminate();
    for (const p of this.#pending.values()) p.reject(new Error("face stage disposed"));
    this.#pending.clear();
  }
}

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
      const [face] = await this.stage.faces(img, { size, maxFaces: 1 });
      this.counts.images++;
      if (face.source === "fallback") {
        this.counts.noFace++;
        if (this.noFaceFiles.length < 5) this.noFaceFiles.push(path);
      }
      const out = pixels.subarray(i * per, (i + 1) * per);
      for (let k = 0; k < per; k++) {
        out[k] = Math.round(Math.min(1, Math.max(0, face.crop[k])) * 255);
      }
    }
    return { pixels, failures };
  }

  /**
   * One line on how many images had a face.
   *
   * @returns e.g. `faces: 1150 of 1154 images (4 with no face: whole image used)`
   */
  summary(): string {
    const { images, noFace } = this.counts;
    return `faces: ${images - noFace} of ${images} images` +
      (noFace
        ? ` (${noFace} with no face found: the whole image was used, e.g. ${this.noFaceFiles[0]})`
        : "");
  }
}
