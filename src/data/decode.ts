/**
 * JPEG and PNG decoding into 8-bit RGB, through the npm codecs named in `deps.ts`: no
 * hand-written decoder. JPEG goes through libjpeg-turbo (WASM) once {@link loadFastJpeg} has
 * run (every async entry point here runs it), with jpeg-js as the fallback for what TurboJPEG
 * refuses (e.g. CMYK) and when the WASM module cannot be loaded; PNG through fast-png. Every PNG flavour is folded to RGB: 1/2/4/8/16-bit gray,
 * gray+alpha, RGB, RGBA and palette. Grayscale is replicated to three channels, 16-bit samples
 * are rounded to 8 bits (`round(v / 257)`), and alpha is dropped as PIL's `convert("RGB")` does.
 *
 * @module
 */
import { jpeg, type JpegTurbo, loadJpegTurbo, png } from "../deps.ts";
import { UserError } from "../errors.ts";
import type { RgbImage } from "./image.ts";
import { type ResizeOptions, resizeSquare } from "./resize.ts";

export type { RgbImage };

/** Why a file could not be decoded. */
export type DecodeFailure = "empty" | "unsupported" | "corrupt";

/** A file that is empty, not a JPEG/PNG, or damaged. */
export class DecodeError extends Error {
  /**
   * A file that cannot be used, and why.
   *
   * @param reason the kind of failure
   * @param message what the codec said
   */
  constructor(readonly reason: DecodeFailure, message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

/** The two formats this project reads, by their first bytes. */
export function sniffFormat(bytes: Uint8Array): "jpeg" | "png" | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return "jpeg";
  }
  if (bytes.length >= 8 && png.hasPngSignature(bytes)) return "png";
  return undefined;
}

/** Largest image we agree to decode (pixels), so a hostile header cannot exhaust memory. */
const _MAX_PIXELS = 50_000_000;

/**
 * Decodes a JPEG or PNG file's bytes into 8-bit RGB.
 *
 * @param bytes the whole file
 * @returns `[h, w, 3]` uint8 RGB
 * @throws {DecodeError} empty, unsupported (not JPEG/PNG) or corrupt/truncated data
 * @example
 * ```ts
 * const img = decodeImage(await Deno.readFile("face.jpg"));
 * console.log(img.width, img.height);
 * ```
 */
export function decodeImage(bytes: Uint8Array): RgbImage {
  if (bytes.length === 0) throw new DecodeError("empty", "empty file");
  const format = sniffFormat(bytes);
  if (format === "jpeg") return _decodeJpeg(bytes);
  if (format === "png") return _decodePng(bytes);
  throw new DecodeError("unsupported", "not a JPEG or PNG file");
}

/** The JPEG decoders this module can use. */
export type JpegDecoderName = "libjpeg-turbo" | "jpeg-js";

let _turbo: JpegTurbo | null | undefined; // undefined: not tried yet; null: unavailable or off

/**
 * Loads libjpeg-turbo (WASM) for JPEG decoding, once; when it cannot be loaded (no read access
 * to the npm cache, say) JPEGs go through jpeg-js instead.
 *
 * @returns the decoder JPEGs will use from now on
 */
export async function loadFastJpeg(): Promise<JpegDecoderName> {
  if (_turbo === undefined) _turbo = await loadJpegTurbo().catch(() => null);
  return _turbo ? "libjpeg-turbo" : "jpeg-js";
}

/**
 * Chooses the JPEG decoder (for comparisons and benchmarks).
 *
 * @param name `libjpeg-turbo` (falls back to jpeg-js when it cannot load) or `jpeg-js`
 * @returns the decoder now in use
 */
export async function useJpegDecoder(name: JpegDecoderName): Promise<JpegDecoderName> {
  if (name === "jpeg-js") {
    _turbo = null;
    return "jpeg-js";
  }
  if (!_turbo) _turbo = undefined;
  return await loadFastJpeg();
}

function _decodeJpeg(bytes: Uint8Array): RgbImage {
  // jpeg-js silently fills a truncated scan with grey; a file that lost its end-of-image marker
  // is truncated (0xFFD9 cannot occur inside entropy-coded data, only as the EOI marker).
  if (!_hasJpegEnd(bytes)) {
    throw new DecodeError("corrupt", "truncated JPEG (no end-of-image marker)");
  }
  if (_turbo) {
    try {
      const t = _turbo.decode(bytes);
      const n = t.width * t.height;
      if (n > 0 && n <= _MAX_PIXELS && t.data.length === n * 4) {
        const rgb = new Uint8Array(n * 3);
        const src = t.data;
        for (let i = 0, j = 0; i < n * 4; i += 4, j += 3) {
          rgb[j] = src[i];
          rgb[j + 1] = src[i + 1];
          rgb[j + 2] = src[i + 2];
        }
        return { width: t.width, height: t.height, data: rgb };
      }
    } catch {
      // TurboJPEG refuses some files jpeg-js reads (CMYK/YCCK, recoverable warnings): try it.
    }
  }
  let out: { width: number; height: number; data: Uint8Array };
  try {
    out = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      maxResolutionInMP: _MAX_PIXELS / 1e6,
      maxMemoryUsageInMB: 1024,
    });
  } catch (e) {
    throw new DecodeError("corrupt", `bad JPEG: ${(e as Error).message}`);
  }
  if (!out.width || !out.height || out.data.length !== out.width * out.height * 3) {
    throw new DecodeError("corrupt", "bad JPEG: no image data");
  }
  return { width: out.width, height: out.height, data: out.data };
}

function _hasJpegEnd(bytes: Uint8Array): boolean {
  // Allow some trailing padding or junk after EOI, as written by some cameras and tools.
  const from = Math.max(2, bytes.length - 4096);
  for (let i = bytes.length - 2; i >= from; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}

function _decodePng(bytes: Uint8Array): RgbImage {
  let img: ReturnType<typeof png.decode>;
  try {
    img = png.decode(bytes);
  } catch (e) {
    throw new DecodeError("corrupt", `bad PNG: ${(e as Error).message}`);
  }
  const { width, height } = img;
  if (!width || !height || width * height > _MAX_PIXELS) {
    throw new DecodeError("corrupt", `bad PNG: unusable size ${width}x${height}`);
  }
  const n = width * height;
  try {
    if (img.palette) {
      const rgb = png.convertIndexedToRgb(img); // 3 or 4 (tRNS) values per pixel
      return { width, height, data: _toRgb8(rgb, n, rgb.length / n, 8) };
    }
    if (img.depth < 8) {
      return {
        width,
        height,
        data: _toRgb8(_unpackGray(img.data, width, height, img.depth), n, 1, 8),
      };
    }
    const expected = n * img.channels;
    if (img.data.length < expected) {
      throw new Error(`short pixel data (${img.data.length} < ${expected})`);
    }
    return { width, height, data: _toRgb8(img.data, n, img.channels, img.depth) };
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError("corrupt", `bad PNG: ${(e as Error).message}`);
  }
}

/** Unpacks 1/2/4-bit gray rows (each row padded to a byte) into 0..255 values. */
function _unpackGray(
  data: ArrayLike<number>,
  width: number,
  height: number,
  depth: number,
): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const max = (1 << depth) - 1;
  const mask = max;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = data[y * rowBytes + (bit >> 3)];
      const v = (byte >> (8 - depth - (bit & 7))) & mask;
      out[y * width + x] = Math.round((v * 255) / max);
    }
  }
  return out;
}

/** Folds 1..4 channels of 8- or 16-bit samples into RGB uint8 (gray replicated, alpha dropped). */
function _toRgb8(src: ArrayLike<number>, n: number, channels: number, depth: number): Uint8Array {
  const out = new Uint8Array(n * 3);
  const to8 = depth === 16 ? (v: number) => Math.round(v / 257) : (v: number) => v;
  if (channels === 1 || channels === 2) {
    for (let i = 0; i < n; i++) {
      const g = to8(src[i * channels]);
      out[i * 3] = g;
      out[i * 3 + 1] = g;
      out[i * 3 + 2] = g;
    }
  } else if (channels === 3 && depth === 8) {
    for (let i = 0; i < n * 3; i++) out[i] = src[i];
  } else if (channels === 3 || channels === 4) {
    for (let i = 0; i < n; i++) {
      out[i * 3] = to8(src[i * channels]);
      out[i * 3 + 1] = to8(src[i * channels + 1]);
      out[i * 3 + 2] = to8(src[i * channels + 2]);
    }
  } else {
    throw new DecodeError("unsupported", `PNG with ${channels} channels`);
  }
  return out;
}

/**
 * Decodes file bytes and resizes them to a `size` x `size` square (see {@link resizeSquare}
 * for the centre crop and filters).
 *
 * @param bytes the whole JPEG or PNG file
 * @param size output side in pixels
 * @param options resize filter choices
 * @returns `[size, size, 3]` uint8 RGB
 * @throws {DecodeError} when the bytes are not a readable JPEG/PNG
 */
export function decodeToSquare(
  bytes: Uint8Array,
  size: number,
  options: ResizeOptions = {},
): Uint8Array {
  return resizeSquare(decodeImage(bytes), size, options);
}

/**
 * Converts uint8 pixels to float32 in [0, 1] (`v / 255`), into `out` at `offset` when given.
 *
 * @param src uint8 values
 * @param out destination (allocated when omitted)
 * @param offset first index written in `out`
 * @returns `out`
 */
export function toUnitFloat(src: Uint8Array, out?: Float32Array, offset = 0): Float32Array {
  const dst = out ?? new Float32Array(src.length);
  const lut = _UNIT, n = src.length;
  let i = 0;
  if (src.byteOffset % 4 === 0) {
    // Four bytes per load (little-endian, as on every platform Deno runs): fewer memory reads,
    // and the loop reaches optimised code sooner.
    const words = new Uint32Array(src.buffer, src.byteOffset, n >>> 2);
    for (let w = 0, j = offset; w < words.length; w++, j += 4) {
      const v = words[w];
      dst[j] = lut[v & 255];
      dst[j + 1] = lut[(v >>> 8) & 255];
      dst[j + 2] = lut[(v >>> 16) & 255];
      dst[j + 3] = lut[v >>> 24];
    }
    i = words.length * 4;
  }
  for (; i < n; i++) dst[offset + i] = lut[src[i]];
  return dst;
}

/** `v / 255` for every byte: a table lookup is several times faster than dividing. */
const _UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/**
 * Reads and decodes one image file at full resolution, with one clear message per problem.
 *
 * @param path a PNG or JPEG file
 * @returns the image, uint8 RGB
 * @throws {UserError} naming the file and the fix when it is missing, a folder, unreadable or
 *   not a valid PNG/JPEG
 */
export async function readImageFile(path: string): Promise<RgbImage> {
  await loadFastJpeg();
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(`${path}: no such file; check the path`);
    }
    if (e instanceof Deno.errors.IsADirectory) {
      throw new UserError(`${path}: is a folder; pass image files (PNG or JPEG)`);
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new UserError(
        `${path}: cannot be read (permission denied); check the file's permissions`,
      );
    }
    throw e;
  }
  try {
    return decodeImage(bytes);
  } catch (e) {
    if (e instanceof DecodeError) {
      throw new UserError(`${path}: ${e.message}; pass a valid PNG or JPEG image`);
    }
    throw e;
  }
}

/**
 * Reads one JPEG or PNG file as a square RGB image for the model (used by `predict FILE…`).
 *
 * @param path the image file
 * @param size side of the square the model expects
 * @returns `[size, size, 3]` float32 in [0, 1]
 * @throws {UserError} naming the file when it is missing, unreadable, empty, corrupt or not JPEG/PNG
 * @example
 * ```ts
 * const x = await decodeImageFile("face.png", 64); // Float32Array(64 * 64 * 3)
 * ```
 */
export async function decodeImageFile(path: string, size: number): Promise<Float32Array> {
  return toUnitFloat(resizeSquare(await readImageFile(path), size));
}

/** Why one file of a batch could not be used. */
export interface FileFailure {
  /** Why the file could not be used. */
  reason: DecodeFailure | "unreadable";
  /** What went wrong, for the user. */
  message: string;
}

/** The result of decoding several files into one packed uint8 buffer. */
export interface DecodedFiles {
  /** `[n, size, size, 3]` uint8 RGB; a failed file's slot is left zero. */
  pixels: Uint8Array;
  /** `null` for each file that decoded, else why it failed. */
  failures: (FileFailure | null)[];
}

/** Something that decodes files to squares: {@link decodeFiles} here, or a worker pool. */
export interface FileDecoder {
  /**
   * Decodes files into one packed buffer, never throwing for a bad file.
   *
   * @param paths image files
   * @param size output side
   * @param options resize filters
   * @returns the packed pixels and per-file failures
   */
  decodeFiles(
    paths: readonly string[],
    size: number,
    options?: ResizeOptions,
  ): Promise<DecodedFiles>;
}

/**
 * Reads and decodes files on this thread into one packed buffer, never throwing for a bad file.
 *
 * @param paths image files
 * @param size output side
 * @param options resize filters
 * @returns `[n, size, size, 3]` uint8 and one failure entry per file (`null` when fine)
 */
export async function decodeFiles(
  paths: readonly string[],
  size: number,
  options: ResizeOptions = {},
): Promise<DecodedFiles> {
  await loadFastJpeg();
  const per = size * size * 3;
  const pixels = new Uint8Array(paths.length * per);
  const failures: (FileFailure | null)[] = new Array(paths.length).fill(null);
  // Reads run concurrently (I/O), decodes one after another (CPU).
  const reads = await Promise.all(paths.map((p) =>
    Deno.readFile(p).then(
      (b) => b,
      (e: Error) => ({
        reason: "unreadable" as const,
        message: `cannot read: ${e.message.split("\n")[0]}`,
      }),
    )
  ));
  for (let i = 0; i < paths.length; i++) {
    const r = reads[i];
    if (!(r instanceof Uint8Array)) {
      failures[i] = r;
      continue;
    }
    try {
      pixels.set(decodeToSquare(r, size, options), i * per);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      failures[i] = { reason: e.reason, message: e.message };
    }
  }
  return { pixels, failures };
}

/** The in-thread {@link FileDecoder}. */
export const inlineDecoder: FileDecoder = { decodeFiles };
