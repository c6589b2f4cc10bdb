/**
 * Classifying the faces in a photograph: the face stage finds and aligns every face (up to
 * `maxFaces`), the classifier reads each aligned crop. Without the face stage the whole image
 * is centre-cropped and read as one face. No Deno API is used, so the browser page runs the
 * same code.
 *
 * @module
 */
import { resizeSquare } from "../data/resize.ts";
import type { Emotion } from "../emotions.ts";
import type { FaceLandmarks } from "../face/detect.ts";
import type { FaceStage } from "../face/stage.ts";
import type { RgbInput } from "../face/warp.ts";
import type { EmotionModel } from "../model/classifier.ts";

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

/**
 * Finds, aligns and classifies the faces of one photo.
 *
 * @param model the classifier
 * @param img the photo, RGB (uint8 or float in [0, 1]), any size
 * @param opts `face`: the face stage (omit for the whole image); `maxFaces` @default 8
 * @returns one result per face, best detection first (at least one: the fallback)
 */
export async function classifyPhoto(
  model: EmotionModel,
  img: RgbInput,
  opts: { face?: FaceStage; maxFaces?: number } = {},
): Promise<FaceResult[]> {
  const size = model.arch.inputSize;
  if (!opts.face) {
    const u8 = img.data instanceof Uint8Array
      ? { width: img.width, height: img.height, data: img.data }
      : { width: img.width, height: img.height, data: Uint8Array.from(img.data, (v) => v * 255) };
    const side = Math.min(img.width, img.height);
    const px = resizeSquare(u8, size);
    const [r] = await model.classify({ images: Float32Array.from(px, (v) => v / 255), n: 1, size });
    return [{
      box: [(img.width - side) / 2, (img.height - side) / 2, side, side],
      score: 0,
      source: "whole",
      class: r.class,
      probabilities: r.probabilities,
    }];
  }
  const faces = await opts.face.faces(img, { size, maxFaces: opts.maxFaces ?? 8 });
  const images = new Float32Array(faces.length * size * size * 3);
  faces.forEach((f, i) => images.set(f.crop, i * size * size * 3));
  const read = await model.classify({ images, n: faces.length, size });
  return faces.map((f, i) => ({
    box: f.box,
    score: f.score,
    source: f.source,
    landmarks: f.source === "detector" ? f.landmarks : undefined,
    class: read[i].class,
    probabilities: read[i].probabilities,
  }));
}
