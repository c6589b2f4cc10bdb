/**
 * Contact sheets (rows = classes, columns = identities) and PNG encoding of rendered images,
 * so a person can look at what the model will learn from.
 *
 * @module
 */
import { png } from "../../deps.ts";
import { NUM_CLASSES } from "../../emotions.ts";
import type { Dataset } from "../dataset.ts";
import { SyntheticFaces, type SyntheticFacesOptions } from "./dataset.ts";

/**
 * Encodes an RGB float image as an 8-bit RGB PNG.
 *
 * @param rgb `[height, width, 3]` float32 in [0, 1] (values outside are clipped)
 * @param width image width
 * @param height image height (default: square)
 * @returns the PNG file's bytes
 */
export function encodePng(rgb: Float32Array, width: number, height = width): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) {
    const v = rgb[i];
    data[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  return png.encode({ width, height, data, channels: 3, depth: 8 });
}

/** Options of {@link contactSheet}. */
export interface ContactSheetOptions extends Omit<SyntheticFacesOptions, "length" | "identities"> {
  /** Number of identities (columns). @default 8 */
  columns?: number;
  /** Gap between tiles in pixels. @default 2 */
  gap?: number;
}

/**
 * Renders a contact sheet: one row per class (anger .. surprise), one column per identity,
 * so each column is one person under the six expressions.
 *
 * @param options domain, seed, tile size, columns
 * @returns the sheet as PNG bytes and its size
 * @example
 * ```ts
 * const { png } = await contactSheet({ domain: "real", size: 96, columns: 8 });
 * await Deno.writeFile("real_sheet.png", png);
 * ```
 */
export async function contactSheet(
  options: ContactSheetOptions = {},
): Promise<{ png: Uint8Array; width: number; height: number }> {
  const columns = options.columns ?? 8, gap = options.gap ?? 2;
  const ds: Dataset = new SyntheticFaces({ ...options, length: columns * NUM_CLASSES });
  const s = ds.size;
  const width = columns * s + (columns + 1) * gap,
    height = NUM_CLASSES * s + (NUM_CLASSES + 1) * gap;
  const sheet = new Float32Array(width * height * 3).fill(1);
  const indices: number[] = [];
  for (let c = 0; c < NUM_CLASSES; c++) {
    for (let k = 0; k < columns; k++) indices.push(k * NUM_CLASSES + c);
  }
  const b = await ds.batch(indices);
  for (let j = 0; j < indices.length; j++) {
    const row = Math.floor(j / columns), col = j % columns;
    const ox = gap + col * (s + gap), oy = gap + row * (s + gap);
    for (let y = 0; y < s; y++) {
      const src = (j * s * s + y * s) * 3;
      sheet.set(b.images.subarray(src, src + s * 3), ((oy + y) * width + ox) * 3);
    }
  }
  return { png: encodePng(sheet, width, height), width, height };
}
