/**
 * Builds small image trees on the fly for the data tests (PNG through fast-png, JPEG through
 * jpeg-js), so no binary fixture lives in the repository.
 *
 * @module
 */
import { jpeg, png } from "../../src/deps.ts";

/** A PNG of any flavour (`data` is channel-interleaved, rows packed for depth < 8). */
export function pngBytes(
  width: number,
  height: number,
  data: Uint8Array | Uint16Array,
  opts: { channels?: number; depth?: 1 | 2 | 4 | 8 | 16; palette?: number[][] } = {},
): Uint8Array {
  return png.encode({
    width,
    height,
    data,
    channels: opts.channels ?? 3,
    depth: opts.depth ?? 8,
    palette: opts.palette as never,
  });
}

/** A JPEG of an RGB image (`rgb` is `[h, w, 3]`). */
export function jpegBytes(
  width: number,
  height: number,
  rgb: Uint8Array,
  quality = 95,
): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[i * 4] = rgb[i * 3];
    rgba[i * 4 + 1] = rgb[i * 3 + 1];
    rgba[i * 4 + 2] = rgb[i * 3 + 2];
    rgba[i * 4 + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ data: rgba, width, height }, quality).data);
}

/** A flat-colour `[h, w, 3]` image. */
export function flat(width: number, height: number, r: number, g: number, b: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) out.set([r, g, b], i * 3);
  return out;
}

/** Writes `files` (relative path -> bytes) under `root`, creating folders. */
export async function writeTree(root: string, files: Record<string, Uint8Array>): Promise<void> {
  for (const [rel, bytes] of Object.entries(files)) {
    const path = `${root}/${rel}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, bytes);
  }
}

/**
 * An LSD-style tree under `root`: `training_set_synthetic_images/` with ANGRER, HAPPINESS,
 * SADNESS (mixed PNG/JPEG, gray and colour, odd sizes), a `neutral` folder, a corrupt JPEG and
 * an empty PNG; `validation_set_real_images/` with two classes. Returns the counts it made.
 */
export async function makeLsdTree(root: string): Promise<{ train: number[]; val: number[] }> {
  const t = "training_set_synthetic_images", v = "validation_set_real_images";
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < 3; i++) {
    files[`${t}/ANGRER/a${i}.jpg`] = jpegBytes(13 + i, 11, flat(13 + i, 11, 200, 30, 30));
  }
  files[`${t}/ANGRER/a3.png`] = pngBytes(5, 7, new Uint8Array(35).fill(90), { channels: 1 });
  for (let i = 0; i < 2; i++) {
    files[`${t}/HAPPINESS/h${i}.png`] = pngBytes(9, 9, flat(9, 9, 10, 220, 10));
  }
  for (let i = 0; i < 5; i++) {
    files[`${t}/SADNESS/s${i}.jpg`] = jpegBytes(16, 16, flat(16, 16, 20, 20, 180));
  }
  files[`${t}/neutral/n0.jpg`] = jpegBytes(8, 8, flat(8, 8, 128, 128, 128));
  files[`${t}/neutral/n1.jpg`] = jpegBytes(8, 8, flat(8, 8, 128, 128, 128));
  const good = jpegBytes(16, 16, flat(16, 16, 20, 20, 180));
  files[`${t}/SADNESS/zz_corrupt.jpg`] = good.slice(0, good.length >> 1);
  files[`${t}/HAPPINESS/zz_empty.png`] = new Uint8Array(0);
  for (let i = 0; i < 2; i++) {
    files[`${v}/FEAR/f${i}.jpg`] = jpegBytes(10, 12, flat(10, 12, 100, 100, 100));
  }
  files[`${v}/SURPRISE/u0.png`] = pngBytes(4, 4, flat(4, 4, 250, 250, 0));
  await writeTree(root, files);
  return { train: [4, 0, 0, 2, 5, 0], val: [0, 0, 2, 0, 0, 1] };
}
