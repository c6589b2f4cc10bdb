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
import { disposeFaceModels, type FaceModels, loadFaceModels } from "./models.ts";
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

/** The loaded face stage. */
export class FaceStage {
  readonly models: FaceModels;

  /** @param models from {@link loadFaceModels} (owned by the stage) */
  constructor(models: FaceModels) {
    this.models = models;
  }

  /**
   * Loads the vendored models.
   *
   * @param base where the model files are @default models/face beside this module
   * @returns the stage
   * @example
   * ```ts
   * const stage = await FaceStage.load();
   * const faces = await stage.faces(image, { size: 48, maxFaces: 4 });
   * ```
   */
  static async load(base?: string | URL): Promise<FaceStage> {
    return new FaceStage(await loadFaceModels(base));
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
    const faces = await detectFaces(this.models, img, opts);
    return faces.map((f) => ({ ...f, crop: alignFace(img, f.landmarks, opts.size).data }));
  }

  /** Frees the models. */
  dispose(): void {
    disposeFaceModels(this.models);
  }
}

/**
 * A {@link FileDecoder} that returns each file's aligned face (its best face) instead of the
 * centre-cropped image, counting the files in which no face was found.
 */
export class FaceDecoder implements FileDecoder {
  readonly stage: FaceStage;
  /** Files decoded, and those where no face was found (whole image used). */
  readonly counts = { images: 0, noFace: 0 };
  /** The first few files with no face, for the report. */
  readonly noFaceFiles: string[] = [];

  /** @param stage the loaded face stage */
  constructor(stage: FaceStage) {
    this.stage = stage;
  }

  /**
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

  /** @returns e.g. `faces: 1150 of 1154 images (4 with no face: whole image used)` */
  summary(): string {
    const { images, noFace } = this.counts;
    return `faces: ${images - noFace} of ${images} images` +
      (noFace
        ? ` (${noFace} with no face found: the whole image was used, e.g. ${this.noFaceFiles[0]})`
        : "");
  }
}
