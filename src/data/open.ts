/**
 * One entry point for `--data PATH` / `--val PATH`: a prepared cache file, an LSD root, or an
 * ImageFolder, whichever `PATH` is.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { type CacheDataset, isCacheFile, openCache } from "./cache.ts";
import type { Dataset } from "./dataset.ts";
import type { FaceDecoder } from "../face/stage.ts";
import { type ImageFolderDataset, type ImageFolderOptions, readImageFolder } from "./folders.ts";

/** A dataset that also knows its class distribution. */
export type ImageDataset = (ImageFolderDataset | CacheDataset) & Dataset;

/** Options for {@link openImages}. */
export interface OpenImagesOptions extends ImageFolderOptions {
  /** For a cache: rescan its sources and refuse it when they changed. @default true */
  checkSources?: boolean;
  /**
   * Framing: a face stage's decoder (a folder's images are detected and aligned, and the
   * decoder counts the images with no face; a cache must hold aligned crops), or `"none"`
   * (centre crops; a cache must hold centre crops). Undefined: centre crops, any cache.
   */
  face?: FaceDecoder | "none";
}

/**
 * Opens `path` as a dataset: a cache written by `prepare`, the `split` of an LSD root, or an
 * ImageFolder (`path/<class>/*.{png,jpg}`).
 *
 * @param path cache file or folder
 * @param options output size and reader options (`split` picks `train`/`val` of an LSD root)
 * @returns the dataset, with `classCounts()`
 * @throws {UserError} when `path` is none of these, or is unusable
 * @example
 * ```ts
 * const val = await openImages("lsd", { size: 64, split: "val" });
 * ```
 */
export async function openImages(path: string, options: OpenImagesOptions): Promise<ImageDataset> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(
        `${path}: no such file or folder; pass an image folder or a prepared cache`,
      );
    }
    throw e;
  }
  if (st.isFile) {
    if (!(await isCacheFile(path))) {
      throw new UserError(
        `${path}: not a prepared cache; pass a folder of class sub-folders or a file written by prepare`,
      );
    }
    return await openCache(path, {
      size: options.size,
      checkSources: options.checkSources,
      face: options.face === undefined ? undefined : options.face === "none" ? "none" : "detect",
      log: options.log,
    });
  }
  const face = options.face;
  return await readImageFolder(path, {
    ...options,
    decoder: face && face !== "none" ? face : options.decoder,
  });
}
