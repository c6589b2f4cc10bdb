/**
 * ImageFolder and LSD readers: `root/<class>/**.{jpg,jpeg,png}` with class folders mapped through
 * `classIndex` (so LSD's `ANGRER`, `happy`, `Surprised` … all work), as a {@link Dataset}.
 *
 * - Folders that are none of the six classes (`neutral`, `contempt`, …) are skipped with one
 *   notice line giving their image counts; fewer than two known classes is a `UserError`.
 * - The LSD root (holding `training_set_synthetic_images/` and `validation_set_real_images/`)
 *   is recognised and its `train` or `val` split read.
 * - Bad files (zero-byte, unsupported format, corrupt or truncated, unreadable) are skipped with
 *   a count and the first few names in one warning line; with `strict` the first one stops the
 *   run with its name. Small sets (`verify`, default up to 20,000 images) are decoded once when
 *   opened, so every bad file is known before training and the decoded pixels are kept in memory
 *   when they fit `memoryBytes`; larger sets find bad files as batches meet them and replace each
 *   by another image of the same class (use `prepare` for those: it decodes everything once).
 *
 * @module
 */
import { classIndex, EMOTIONS, NUM_CLASSES } from "../emotions.ts";
import { UserError } from "../errors.ts";
import type { Batch, Dataset } from "./dataset.ts";
import { type FileDecoder, type FileFailure, inlineDecoder, toUnitFloat } from "./decode.ts";
import type { ResizeOptions } from "./resize.ts";

/** LSD's split folders, by split. */
export const LSD_SPLITS = {
  train: "training_set_synthetic_images",
  val: "validation_set_real_images",
} as const;

/** Which LSD split to read when the root holds both. */
export type LsdSplit = keyof typeof LSD_SPLITS;

/** Extensions read as images (case-insensitive). */
const _IMAGE_EXT = /\.(jpe?g|png)$/i;
/** Extensions of images we cannot read: counted as unsupported rather than ignored. */
const _OTHER_IMAGE_EXT = /\.(gif|bmp|webp|tiff?|heic|heif|avif|jp2|jxl|ppm|pgm)$/i;

/** One source image file. */
export interface SourceFile {
  /** Absolute or root-joined path used to read it. */
  path: string;
  /** Path relative to the root, with `/` separators (e.g. `ANGRER/0001.jpg`). */
  name: string;
  /** Class index 0..5. */
  label: number;
  /** Size in bytes. */
  bytes: number;
  /** Modification time in ms since the epoch (0 when unknown). */
  mtimeMs: number;
}

/** A file skipped as unusable. */
export interface BadFile {
  /** Path relative to the root. */
  name: string;
  /** Why the file could not be used. */
  reason: FileFailure["reason"];
  /** What went wrong, for the user. */
  message: string;
}

/** What a scan of an image folder found. */
export interface FolderScan {
  /** The folder whose class sub-folders were read (the LSD split folder for an LSD root). */
  root: string;
  /** Usable-looking files, sorted by class folder then name. */
  files: SourceFile[];
  /** Files already known to be bad (empty, unsupported, unreadable). */
  bad: BadFile[];
  /** Skipped folders (not one of the six classes) and their image counts. */
  unknown: Map<string, number>;
}

/** Options for {@link readImageFolder}. */
export interface ImageFolderOptions extends ResizeOptions {
  /** Side of the square images returned. */
  size: number;
  /** Stop at the first bad file, naming it, instead of skipping it. @default false */
  strict?: boolean;
  /** For an LSD root: which split to read. @default "train" */
  split?: LsdSplit;
  /** Decode every image once when opening. @default true up to 20,000 images */
  verify?: boolean;
  /** Keep verified pixels in memory when they fit this many bytes. @default 512 MiB */
  memoryBytes?: number;
  /** Decodes the files (e.g. a worker pool from `prefetch.ts`). @default in-thread */
  decoder?: FileDecoder;
  /** Receives the notice and warning lines. @default console.error */
  log?: (line: string) => void;
}

/**
 * Lists the image files under `root/<class>/` without decoding them.
 *
 * @param root an ImageFolder or an LSD root
 * @param options `split` for an LSD root, `strict`, `log`
 * @returns the files, the bad files found so far and the skipped folders
 * @throws {UserError} when `root` is missing or not a folder, or has fewer than two of the six classes
 */
export async function scanImageFolder(
  root: string,
  options: Pick<ImageFolderOptions, "split" | "strict" | "log"> = {},
): Promise<FolderScan> {
  const log = options.log ?? ((l: string) => console.error(l));
  root = await _resolveLsdRoot(root, options.split ?? "train");
  const classDirs = (await _listDir(root)).filter((e) => e.isDirectory && !e.name.startsWith("."));
  const files: SourceFile[] = [];
  const bad: BadFile[] = [];
  const unknown = new Map<string, number>();
  // Files reached directly come first, then those through links, so that a link into another
  // class's folder never takes an image from its own class; each real file counts once.
  // The class folders themselves are walked each in full; any link back to one of them (or
  // to a folder already walked) adds nothing.
  const sorted = classDirs.sort((a, b) => _cmp(a.name, b.name));
  const seenDirs = new Set(
    await Promise.all(sorted.map((d) => Deno.realPath(`${root}/${d.name}`).catch(() => d.name))),
  );
  const walked: { label: number; dir: string; found: _Found[] }[] = [];
  for (const dir of sorted) {
    walked.push({
      label: classIndex(dir.name),
      dir: dir.name,
      found: await _walk(`${root}/${dir.name}`, dir.name, seenDirs, dir.isSymlink, true),
    });
  }
  const seenFiles = new Set<string>();
  const keep = new Map<string, _Found[]>(walked.map((w) => [w.dir, []]));
  for (const viaLink of [false, true]) {
    for (const w of walked) {
      for (const f of w.found.filter((f) => f.viaLink === viaLink)) {
        const why = f.real === ""
          ? "a broken symbolic link"
          : seenFiles.has(f.real)
          ? `the same file as ${f.real} (a repeat through a symbolic link)`
          : undefined;
        if (why) {
          if (w.label < 0) continue;
          if (options.strict) {
            throw new UserError(`${root}/${f.name}: ${why} (--strict stops at the first bad file)`);
          }
          bad.push({ name: f.name, reason: "unreadable", message: why });
        } else {
          seenFiles.add(f.real);
          keep.get(w.dir)!.push(f);
        }
      }
    }
  }
  for (const w of walked) {
    const names = keep.get(w.dir)!.map((f) => f.name).sort(_cmp);
    const label = w.label;
    if (label < 0) {
      unknown.set(
        w.dir,
        names.filter((n) => _IMAGE_EXT.test(n) || _OTHER_IMAGE_EXT.test(n)).length,
      );
      continue;
    }
    const found = await _statAll(root, names, label);
    for (const f of found) {
      if ("reason" in f) {
        if (options.strict) {
          throw new UserError(
            `${root}/${f.name}: ${f.message} (--strict stops at the first bad file; remove or fix it)`,
          );
        }
        bad.push(f);
      } else files.push(f);
    }
  }
  if (unknown.size > 0) {
    const list = [...unknown].map(([n, c]) => `${n} (${c} image${c === 1 ? "" : "s"})`).join(", ");
    log(`notice: ${root}: skipped folders that are none of the six classes: ${list}`);
  }
  const present = new Set(files.map((f) => f.label));
  if (present.size < 2) {
    const found = [
      ...EMOTIONS.map((e, i) => [e, files.filter((f) => f.label === i).length] as const)
        .filter(([, n]) => n > 0).map(([e, n]) => `${e} ${n}`),
      ...[...unknown].map(([n, c]) => `${n} ${c} (not a class)`),
    ];
    throw new UserError(
      `${root}: images for fewer than two of the six classes (found: ${
        found.join(", ") || "nothing"
      }); ` +
        `expected class folders such as anger/ disgust/ fear/ happiness/ sadness/ surprise/ (or LSD's ANGRER/ …) holding PNG or JPEG files`,
    );
  }
  return { root, files, bad, unknown };
}

/**
 * Opens an ImageFolder (or the `train`/`val` split of an LSD root) as a {@link Dataset}.
 *
 * @param root folder with one sub-folder per class
 * @param options output `size`, `strict`, `split`, `verify`, …
 * @returns the dataset; `skipped` lists the bad files found
 * @throws {UserError} on a missing folder, fewer than two classes, or (with `strict`) a bad file
 * @example
 * ```ts
 * const train = await readImageFolder("data/faces", { size: 64 });
 * const batch = await train.batch([0, 1, 2]); // batch.images: [3, 64, 64, 3] in [0, 1]
 * ```
 */
export async function readImageFolder(
  root: string,
  options: ImageFolderOptions,
): Promise<ImageFolderDataset> {
  _checkSize(options.size);
  const log = options.log ?? ((l: string) => console.error(l));
  const scan = await scanImageFolder(root, { ...options, log });
  const ds = new ImageFolderDataset(scan, { ...options, log });
  if (options.verify ?? scan.files.length <= 20_000) {
    if (scan.files.length > 2000) {
      log(`notice: ${scan.root}: decoding ${scan.files.length} images once to check them`);
    }
    await ds.verify(options.memoryBytes);
  }
  ds.reportSkipped();
  return ds;
}

/**
 * Opens one split of the ABAW4 LSD data (`training_set_synthetic_images/` or
 * `validation_set_real_images/` under `root`).
 *
 * @param root the LSD root
 * @param split `train` (synthetic) or `val` (real)
 * @param options as for {@link readImageFolder}
 * @returns the dataset
 */
export async function readLsd(
  root: string,
  split: LsdSplit,
  options: Omit<ImageFolderOptions, "split">,
): Promise<ImageFolderDataset> {
  if (!(await _isDir(`${root}/${LSD_SPLITS[split]}`))) {
    throw new UserError(
      `${root}: no ${LSD_SPLITS[split]}/ folder; pass the LSD root that holds it`,
    );
  }
  return await readImageFolder(root, { ...options, split });
}

/** An image folder as a {@link Dataset}; images are decoded when asked for. */
export class ImageFolderDataset implements Dataset {
  readonly name: string;
  readonly size: number;
  /** The folder read (the split folder for an LSD root). */
  readonly root: string;
  /** The usable files, in index order. */
  files: SourceFile[];
  /** Every bad file met so far (at scan, verification, or in a batch). */
  readonly skipped: BadFile[];
  readonly #options: ImageFolderOptions;
  readonly #log: (line: string) => void;
  readonly #decoder: FileDecoder;
  #labels: Int32Array;
  #pixels?: Uint8Array; // [length, size, size, 3] when verified and small enough
  #badIndex = new Set<number>();
  #warned = 0;

  /**
   * A dataset over a scanned folder.
   *
   * @param scan a folder scan
   * @param options output size and decoding options
   */
  constructor(scan: FolderScan, options: ImageFolderOptions) {
    this.root = scan.root;
    this.size = options.size;
    this.files = scan.files;
    this.skipped = [...scan.bad];
    this.#options = options;
    this.#log = options.log ?? ((l: string) => console.error(l));
    this.#decoder = options.decoder ?? inlineDecoder;
    this.#labels = Int32Array.from(scan.files, (f) => f.label);
    this.name = `folder(${scan.root}, ${scan.files.length} images @ ${this.size}px)`;
  }

  get length(): number {
    return this.files.length;
  }

  label(i: number): number {
    return this.#labels[i];
  }

  /** Images per class, in `EMOTIONS` order. */
  classCounts(): number[] {
    const counts = new Array(NUM_CLASSES).fill(0);
    for (const l of this.#labels) counts[l]++;
    return counts;
  }

  /**
   * Decodes every file once, dropping bad ones (or stopping, with `strict`), and keeps the
   * pixels when they fit `memoryBytes`.
   *
   * @param memoryBytes the most bytes of decoded pixels to keep @default 512 MiB
   */
  async verify(memoryBytes = 512 * 2 ** 20): Promise<void> {
    const per = this.size * this.size * 3;
    const keep = this.files.length * per <= memoryBytes;
    const good: SourceFile[] = [];
    const chunks: Uint8Array[] = [];
    const step = 256;
    for (let s = 0; s < this.files.length; s += step) {
      const part = this.files.slice(s, s + step);
      const { pixels, failures } = await this.#decoder.decodeFiles(
        part.map((f) => f.path),
        this.size,
        this.#options,
      );
      for (let k = 0; k < part.length; k++) {
        const fail = failures[k];
        if (fail) {
          this.#noteBad(part[k], fail, false);
          continue;
        }
        good.push(part[k]);
        if (keep) chunks.push(pixels.subarray(k * per, (k + 1) * per));
      }
    }
    this.files = good;
    this.#labels = Int32Array.from(good, (f) => f.label);
    if (keep) {
      this.#pixels = new Uint8Array(good.length * per);
      chunks.forEach((c, i) => this.#pixels!.set(c, i * per));
    }
    (this as { name: string }).name =
      `folder(${this.root}, ${good.length} images @ ${this.size}px)`;
  }

  /** Prints one warning line summarising the bad files skipped so far (nothing when none). */
  reportSkipped(): void {
    const line = formatSkipped(this.skipped, this.files.length + this.skipped.length, this.root);
    if (line) this.#log(line);
  }

  async batch(indices: readonly number[]): Promise<Batch> {
    const { pixels, labels } = await this.batchUint8(indices);
    return { images: toUnitFloat(pixels), labels, n: indices.length, size: this.size };
  }

  /**
   * The images at `indices` as packed uint8 (what `prepare` stores).
   *
   * @param indices image indices
   * @returns `[n, size, size, 3]` uint8 RGB and the labels
   */
  async batchUint8(
    indices: readonly number[],
  ): Promise<{ pixels: Uint8Array; labels: Int32Array }> {
    const per = this.size * this.size * 3;
    const labels = Int32Array.from(indices, (i) => this.#labels[i]);
    if (this.#pixels) {
      const pixels = new Uint8Array(indices.length * per);
      indices.forEach((i, k) =>
        pixels.set(this.#pixels!.subarray(i * per, (i + 1) * per), k * per)
      );
      return { pixels, labels };
    }
    const want = indices.map((i) => this.#usable(i));
    const { pixels, failures } = await this.#decoder.decodeFiles(
      want.map((i) => this.files[i].path),
      this.size,
      this.#options,
    );
    for (let k = 0; k < want.length; k++) {
      let fail = failures[k];
      let i = want[k];
      // A bad file met mid-training is replaced by the next usable image of the same class.
      while (fail) {
        if (!this.#badIndex.has(i)) this.#noteBad(this.files[i], fail, true); // repeats note once
        this.#badIndex.add(i);
        i = this.#usable(i);
        const one = await this.#decoder.decodeFiles([this.files[i].path], this.size, this.#options);
        fail = one.failures[0];
        if (!fail) pixels.set(one.pixels, k * per);
      }
    }
    return { pixels, labels };
  }

  /** `i`, or the next index of the same class whose file is not known to be bad. */
  #usable(i: number): number {
    if (!this.#badIndex.has(i)) return i;
    const n = this.files.length;
    for (let d = 1; d < n; d++) {
      const j = (i + d) % n;
      if (this.#labels[j] === this.#labels[i] && !this.#badIndex.has(j)) return j;
    }
    throw new UserError(
      `${this.root}: every image of class ${EMOTIONS[this.#labels[i]]} is unreadable`,
    );
  }

  #noteBad(f: SourceFile, fail: FileFailure, midway: boolean): void {
    if (this.#options.strict) {
      throw new UserError(
        `${f.path}: ${fail.message} (--strict stops at the first bad file; remove or fix it)`,
      );
    }
    this.skipped.push({ name: f.name, reason: fail.reason, message: fail.message });
    if (midway && this.#warned++ < 3) {
      this.#log(
        `warning: ${f.path}: ${fail.message}; using another ${EMOTIONS[f.label]} image instead ` +
          `(${this.skipped.length} bad so far; \`prepare\` finds them all up front)`,
      );
    }
  }
}

/**
 * One warning line for skipped files: counts by reason and the first few names.
 *
 * @param bad the skipped files
 * @param total files seen, bad included
 * @param root the folder, for the message
 * @param shown how many names to quote @default 3
 * @returns the line, or `undefined` when nothing was skipped
 */
export function formatSkipped(
  bad: readonly BadFile[],
  total: number,
  root: string,
  shown = 3,
): string | undefined {
  if (bad.length === 0) return undefined;
  const byReason = new Map<string, number>();
  for (const b of bad) byReason.set(b.reason, (byReason.get(b.reason) ?? 0) + 1);
  const counts = [...byReason].map(([r, n]) => `${n} ${r}`).join(", ");
  const names = bad.slice(0, shown).map((b) => `${b.name} (${b.message})`).join(", ");
  const more = bad.length > shown ? `, and ${bad.length - shown} more` : "";
  return `warning: ${root}: skipped ${bad.length} of ${total} files (${counts}): ${names}${more}; --strict stops at the first`;
}

function _checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 1 || size > 4096) {
    throw new UserError(`image size ${size} is out of range; use an integer from 1 to 4096`);
  }
}

function _cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function _isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** The split folder when `root` is an LSD root, else `root` itself. */
async function _resolveLsdRoot(root: string, split: LsdSplit): Promise<string> {
  root = root.replace(/\/+$/, "") || "/";
  const hasTrain = await _isDir(`${root}/${LSD_SPLITS.train}`);
  const hasVal = await _isDir(`${root}/${LSD_SPLITS.val}`);
  if (hasTrain || hasVal) {
    if (!(split === "train" ? hasTrain : hasVal)) {
      throw new UserError(
        `${root}: LSD root without ${LSD_SPLITS[split]}/; pass a root that holds it`,
      );
    }
    return `${root}/${LSD_SPLITS[split]}`;
  }
  return root;
}

async function _listDir(dir: string): Promise<(Deno.DirEntry & { broken?: boolean })[]> {
  try {
    const out: (Deno.DirEntry & { broken?: boolean })[] = [];
    for await (const e of Deno.readDir(dir)) {
      if (e.isSymlink) {
        const st = await Deno.stat(`${dir}/${e.name}`).catch(() => undefined);
        out.push(
          st
            ? { ...e, isDirectory: st.isDirectory, isFile: st.isFile }
            : { ...e, isFile: true, broken: true },
        );
      } else out.push(e);
    }
    return out;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(`${dir}: no such folder; check the path`);
    }
    if (e instanceof Deno.errors.NotADirectory) {
      throw new UserError(`${dir}: not a folder; pass a folder with one sub-folder per class`);
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new UserError(`${dir}: cannot be read (permission denied); check its permissions`);
    }
    throw e;
  }
}

/** A file found by {@link _walk}. */
interface _Found {
  /** Relative to the root, e.g. `happy/a.png`. */
  name: string;
  /** The real path (symbolic links resolved); empty for a broken link. */
  real: string;
  /** Reached through a symbolic link. */
  viaLink: boolean;
}

/**
 * Non-hidden files under `dir`, recursively, sorted by name. Each folder is entered once by its
 * real path (`seen`), so symbolic links that loop or repeat a folder add nothing; broken links
 * come back with an empty `real`.
 */
async function _walk(
  dir: string,
  rel: string,
  seen: Set<string>,
  viaLink = false,
  top = false,
): Promise<_Found[]> {
  const real = await Deno.realPath(dir).catch(() => dir);
  if (!top) {
    if (seen.has(real)) return [];
    seen.add(real);
  }
  const out: _Found[] = [];
  const entries = (await _listDir(dir)).filter((e) => !e.name.startsWith(".")).sort((a, b) =>
    _cmp(a.name, b.name)
  );
  for (const e of entries) {
    const link = viaLink || e.isSymlink;
    if (e.isDirectory) {
      out.push(...await _walk(`${dir}/${e.name}`, `${rel}/${e.name}`, seen, link));
    } else if (e.isFile) {
      const path = `${dir}/${e.name}`;
      const r = e.broken
        ? ""
        : e.isSymlink
        ? await Deno.realPath(path).catch(() => "")
        : `${real}/${e.name}`;
      out.push({ name: `${rel}/${e.name}`, real: r, viaLink: link });
    }
  }
  return out;
}

/** Stats files concurrently; classifies empty, unsupported and unreadable ones as bad. */
async function _statAll(
  root: string,
  names: string[],
  label: number,
): Promise<(SourceFile | BadFile)[]> {
  const out: (SourceFile | BadFile)[] = [];
  const step = 512;
  for (let s = 0; s < names.length; s += step) {
    out.push(
      ...await Promise.all(
        names.slice(s, s + step).map(async (name): Promise<SourceFile | BadFile> => {
          if (!_IMAGE_EXT.test(name)) {
            return { name, reason: "unsupported", message: "not a .jpg/.jpeg/.png file" };
          }
          const path = `${root}/${name}`;
          try {
            const st = await Deno.stat(path);
            if (st.size === 0) return { name, reason: "empty", message: "empty file" };
            return { path, name, label, bytes: st.size, mtimeMs: st.mtime?.getTime() ?? 0 };
          } catch (e) {
            return {
              name,
              reason: "unreadable",
              message: `cannot read: ${(e as Error).message.split("\n")[0]}`,
            };
          }
        }),
      ),
    );
  }
  return out;
}
