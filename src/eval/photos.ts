/**
 * Classifying the faces in a photograph: the face stage finds and aligns every face (up to
 * `maxFaces`), the classifier reads each aligned crop. Without the face stage the whole image
 * is centre-cropped and read as one face. No Deno API is used, so the browser page runs the
 * same code.
 *
 * @module
 */
import type { Dataset } from "../data/dataset.ts";
import { resizeSquare } from "../data/resize.ts";
import type { Emotion } from "../emotions.ts";
import type { FaceLandmarks } from "../face/detect.ts";
import type { FaceStage } from "../face/stage.ts";
import type { RgbInput } from "../face/warp.ts";
import type { EmotionModel } from "../model/classifier.ts";
import type { Tta } from "./tta.ts";

/** One face of a photo and how the classifier reads it. */
export interface FaceResult {
  /** `[x, y, w, h]` in the photo's pixels. */
  box: [number, number, number, number];
  /** Detector score, 0 when no face was detected. */
  score: number;
  /**
   * `detector`: a face was found; `fallback`: none was, and the whole image was read as a tight
   * face crop; `whole`: the face stage was off (`--face none`).
   */
  source: "detector" | "fallback" | "whole";
  /** Eye centres, nose tip, mouth corners (only when a face was found). */
  landmarks?: FaceLandmarks;
  /** The most probable class. */
  class: Emotion;
  /** The six probabilities. */
  probabilities: Record<Emotion, number>;
}

/** A face of a photo, ready for the classifier. */
export interface PhotoFace extends Omit<FaceResult, "class" | "probabilities"> {
  /** `[size, size, 3]` float32 RGB in [0, 1]: the aligned crop (or the centre crop). */
  crop: Float32Array;
}

/**
 * The faces of one photo as the classifier will see them: found and aligned by the face stage,
 * or (without one) the whole image, centre-cropped.
 *
 * @param img the photo, RGB (uint8 or float in [0, 1]), any size
 * @param opts `size` of the crops; `face` the face stage; `maxFaces` @default 8
 * @returns at least one face (a photo with no face found gives the `fallback`)
 */
export async function photoFaces(
  img: RgbInput,
  opts: { size: number; face?: FaceStage; maxFaces?: number },
): Promise<PhotoFace[]> {
  return (await photoFacesBatch([img], opts))[0];
}

/**
 * {@link photoFaces} of several photos, which go through the face stage's models together
 * (see `FaceStage.facesBatch`): faster per photo than one at a time.
 *
 * @param imgs the photos, RGB (uint8 or float in [0, 1]), any size
 * @param opts as for {@link photoFaces}
 * @returns per photo, its faces
 */
export async function photoFacesBatch(
  imgs: readonly RgbInput[],
  opts: { size: number; face?: FaceStage; maxFaces?: number },
): Promise<PhotoFace[][]> {
  if (!opts.face) {
    return imgs.map((img) => {
      const u8 = img.data instanceof Uint8Array
        ? { width: img.width, height: img.height, data: img.data }
        : {
          width: img.width,
          height: img.height,
          data: Uint8Array.from(img.data, (v) => v * 255),
        };
      const side = Math.min(img.width, img.height);
      return [{
        box: [(img.width - side) / 2, (img.height - side) / 2, side, side],
        score: 0,
        source: "whole",
        crop: Float32Array.from(resizeSquare(u8, opts.size), (v) => v / 255),
      }];
    });
  }
  const found = await opts.face.facesBatch(imgs, {
    size: opts.size,
    maxFaces: opts.maxFaces ?? 8,
  });
  return found.map((faces) =>
    faces.map((f) => ({
      box: f.box,
      score: f.score,
      source: f.source,
      landmarks: f.source === "detector" ? f.landmarks : undefined,
      crop: f.crop,
    }))
  );
}

/**
 * Classifies faces found by {@link photoFaces}.
 *
 * @param model the classifier @param faces crops of the model's input size
 * @param opts `tta`: test-time augmentation @default DEFAULT_TTA
 * @returns one result per face, in order
 */
export async function classifyFaces(
  model: EmotionModel,
  faces: readonly PhotoFace[],
  opts: { tta?: Tta } = {},
): Promise<FaceResult[]> {
  const size = model.arch.inputSize;
  const images = new Float32Array(faces.length * size * size * 3);
  faces.forEach((f, i) => images.set(f.crop, i * size * size * 3));
  const read = await model.classify({ images, n: faces.length, size }, opts);
  return faces.map(({ crop: _crop, ...f }, i) => ({
    ...f,
    class: read[i].class,
    probabilities: read[i].probabilities,
  }));
}

/**
 * Finds, aligns and classifies the faces of one photo.
 *
 * @param model the classifier
 * @param img the photo, RGB (uint8 or float in [0, 1]), any size
 * @param opts `face`: the face stage (omit for the whole image); `maxFaces` @default 8; `tta`
 *   @default DEFAULT_TTA
 * @returns one result per face, best detection first (at least one: the fallback)
 */
export async function classifyPhoto(
  model: EmotionModel,
  img: RgbInput,
  opts: { face?: FaceStage; maxFaces?: number; tta?: Tta } = {},
): Promise<FaceResult[]> {
  return await classifyFaces(
    model,
    await photoFaces(img, { ...opts, size: model.arch.inputSize }),
    { tta: opts.tta },
  );
}

/**
 * The crops of some faces as a {@link Dataset} (unlabelled), e.g. for `--adapt`.
 *
 * @param faces crops of one size @param size their side
 * @returns the dataset (labels -1)
 */
export function facesDataset(faces: readonly PhotoFace[], size: number): Dataset {
  return {
    name: `${faces.length} faces`,
    length: faces.length,
    size,
    label: () => -1,
    batch(idx) {
      const px = size * size * 3, images = new Float32Array(idx.length * px);
      idx.forEach((i, k) => images.set(faces[i].crop, k * px));
      return Promise.resolve({
        images,
        labels: new Int32Array(idx.length).fill(-1),
        n: idx.length,
        size,
      });
    },
  };
}
