/**
 * Prepared caches: an image folder decoded once into packed uint8 shards, read back as a
 * {@link Dataset} with bounded memory (only the index and open file handles stay resident).
 *
 * On disk, `FILE` is a JSON index and its shards lie beside it as `FILE.<tag>.<k>.bin`, each a
 * raw `[count, size, size, 3]` uint8 RGB array. The index holds the labels, the source names
 * with their sizes and modification times, and a SHA-256 of that source list: opening a cache
 * rescans its source folder and refuses a cache whose sources changed.
 *
 * Writing is crash-safe: each shard is written under a temporary name and renamed when full, a
 * progress file (`FILE.partial`) records the finished shards so an interrupted or stopped run
 * (Ctrl-C, `--strict` on a bad file) resumes where it stopped, and the index is renamed into
 * place last, so an existing cache stays readable until the new one is complete.
 *
 * @module
 */
import { NUM_CLASSES } from "../emotions.ts";
import { UserError } from "../errors.ts";
import { exists, writeFileAtomic } from "../fsutil.ts";
import type { Batch, Dataset } from "./dataset.ts";
import { type FileDecoder, inlineDecoder, toUnitFloat } from "./decode.ts";
import {
  type BadFile,
  type FolderScan,
  formatSkipped,
  LSD_SPLITS,
  type LsdSplit,
  scanImageFolder,
} from "./folders.ts";
import { resizeSquare, type Upscale } from "./resize.ts";

/** The index's format marker and version. */
export const CACHE_FORMAT = "byel-cache";
const _VERSION = 1;
/** Images per shard. */
const _PER_SHARD = 4096;

/** The JSON index of a prepared cache. */
export interface CacheIndex {
  /** Always `byel-cache`. */
  format: typeof CACHE_FORMAT;
  /** The cache layout's version. */
  version: number;
  /** Side of the stored squares. */
  size: number;
  /** The filter images smaller than `size` were enlarged with. */
  upscale: Upscale;
  /** How the images were framed: `detect` (aligned face crops) or `none` (centre crops). */
  face: "detect" | "none";
  /** Number of stored images. */
  count: number;
  /** Where the images came from, and a SHA-256 of the source list (names, sizes, mtimes). */
  source: { root: string; split: LsdSplit | null; hash: string; files: number };
  /** Labels, in stored order. */
  labels: number[];
  /** Source names relative to the root, in stored order. */
  names: string[];
  /** Source sizes in bytes and mtimes (ms), aligned with `names`. */
  bytes: number[];
  /** Source modification times (ms), aligned with `names`. */
  mtimes: number[];
  /** Shard files (relative to the index's folder) and their image counts. */
  shards: { file: string; count: number }[];
  /** Files skipped as bad while preparing. */
  skipped: BadFile[];
  /** When the cache was written (ISO 8601). */
  created: string;
}

/**
 * SHA-256 of a scan's source list: every file's name, size and mtime, and every file already
 * known as bad, so adding, removing, editing or fixing any source changes it.
 *
 * @param scan a folder scan
 * @returns lowercase hex digest
 */
export async function sourceListHash(scan: Pick<FolderScan, "files" | "bad">): Promise<string> {
  const lines = [
    ...scan.files.map((f) => `${f.name}\t${f.bytes}\t${f.mtimeMs}`),
    ...scan.bad.map((b) => `${b.name}\tbad:${b.reason}`),
  ].sort();
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(lines.join("\n")));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Options for {@link prepareCache}. */
export interface PrepareOptions {
  /** Side of the stored squares. */
  size: number;
  /** For an LSD root: which split. @default "train" */
  split?: LsdSplit;
  /** Stop at the first bad file (finished shards are kept; a rerun resumes). @default false */
  strict?: boolean;
  /** Enlarging filter. @default "bicubic" */
  upscale?: Upscale;
  /** Decoder (a worker pool from `prefetch.ts` for speed). @default in-thread */
  decoder?: FileDecoder;
  /**
   * What the decoder's pixels are, recorded in the index: `detect` when `decoder` is the face
   * stage's (aligned face crops), `none` for centre crops. @default "none"
   */
  face?: "detect" | "none";
  /**
   * Called after each chunk: source files `done` of `total` (resumed ones included), seconds
   * elapsed and this run's decoding rate in images/s.
   */
  onProgress?: (done: number, total: number, seconds: number, rate: number) => void;
  /** Notice and warning lines. @default console.error */
  log?: (line: string) => void;
}

/** What {@link prepareCache} did. */
export interface PrepareResult {
  /** The cache's index. */
  index: CacheIndex;
  /** Images decoded in this run (fewer than `index.count` when it resumed). */
  decoded: number;
  /** Images taken over from an interrupted earlier run. */
  resumed: number;
  /** Wall time, seconds. */
  seconds: number;
}

interface _Progress {
  tag: string;
  size: number;
  upscale: Upscale;
  face: "detect" | "none";
  root: string;
  done: {
    file: string;
    count: number;
    names: string[];
    labels: number[];
    bytes: number[];
    mtimes: number[];
  }[];
  /** Source files consumed by the finished shards (good and bad), in scan order. */
  consumed: { name: string; bytes: number; mtimeMs: number }[];
  skipped: BadFile[];
}

/**
 * Decodes an image folder (or an LSD split) once into a prepared cache at `out`.
 *
 * @param data the ImageFolder or LSD root
 * @param out the index file to write (shards go beside it)
 * @param options size, split, strict, decoder, progress
 * @returns the index written and timings
 * @throws {UserError} on a bad source folder, or with `strict` on the first bad file
 * @example
 * ```ts
 * await prepareCache("lsd", "lsd_train_112.cache", { size: 112 });
 * const ds = await openCache("lsd_train_112.cache");
 * ```
 */
export async function prepareCache(
  data: string,
  out: string,
  options: PrepareOptions,
): Promise<PrepareResult> {
  const log = options.log ?? ((l: string) => console.error(l));
  const size = options.size;
  const upscale = options.upscale ?? "bicubic";
  const face = options.face ?? "none";
  const decoder = options.decoder ?? inlineDecoder;
  const scan = await scanImageFolder(data, { split: options.split, strict: options.strict, log });
  const root = await Deno.realPath(scan.root);
  const hash = await sourceListHash(scan);
  const dir = _dirname(out), base = _basename(out);
  const progressPath = `${out}.partial`;
  const t0 = performance.now();

  // Resume the finished shards of an interrupted run when their sources are unchanged.
  let progress: _Progress | undefined;
  if (await exists(progressPath)) {
    try {
      const p = JSON.parse(await Deno.readTextFile(progressPath)) as _Progress;
      const same = p.size === size && p.upscale === upscale && p.face === face && p.root === root &&
        p.consumed.every((c, k) => {
          const f = scan.files[k];
          return f && f.name === c.name && f.bytes === c.bytes && f.mtimeMs === c.mtimeMs;
        });
      const shardsThere = await Promise.all(p.done.map((d) => exists(`${dir}/${d.file}`)));
      if (same && shardsThere.every(Boolean)) progress = p;
    } catch { /* unreadable progress: start over */ }
  }
  if (!progress) {
    progress = {
      tag: crypto.randomUUID().slice(0, 8),
      size,
      upscale,
      face,
      root,
      done: [],
      consumed: [],
      skipped: [...scan.bad],
    };
  } else {
    log(
      `notice: resuming ${out}: ${
        progress.done.reduce((s, d) => s + d.count, 0)
      } images already prepared`,
    );
  }
  const resumed = progress.done.reduce((s, d) => s + d.count, 0);
  const per = size * size * 3;
  const total = scan.files.length;
  let next = progress.consumed.length; // next source file to decode
  const startNext = next;
  let decoded = 0;

  while (next < total) {
    const k = progress.done.length;
    const file = `${base}.${progress.tag}.${String(k).padStart(4, "0")}.bin`;
    const tmp = `${dir}/${file}.tmp`;
    const fh = await Deno.open(tmp, { write: true, create: true, truncate: true });
    const shard = {
      file,
      count: 0,
      names: [] as string[],
      labels: [] as number[],
      bytes: [] as number[],
      mtimes: [] as number[],
    };
    const consumed: _Progress["consumed"] = [];
    const skipped: BadFile[] = [];
    try {
      while (next < total && shard.count < _PER_SHARD) {
        const part = scan.files.slice(
          next,
          Math.min(total, next + Math.min(256, _PER_SHARD - shard.count)),
        );
        const { pixels, failures } = await decoder.decodeFiles(part.map((f) => f.path), size, {
          upscale,
        });
        const good = new Uint8Array(part.length * per);
        let g = 0;
        for (let i = 0; i < part.length; i++) {
          const f = part[i], fail = failures[i];
          if (fail) {
            if (options.strict) {
              throw new UserError(
                `${f.path}: ${fail.message} (--strict stops at the first bad file; ${
                  resumed + decoded
                } images so far are kept, fix or remove it and run prepare again to resume)`,
              );
            }
            skipped.push({ name: f.name, reason: fail.reason, message: fail.message });
          } else {
            good.set(pixels.subarray(i * per, (i + 1) * per), g * per);
            g++;
            shard.names.push(f.name);
            shard.labels.push(f.label);
            shard.bytes.push(f.bytes);
            shard.mtimes.push(f.mtimeMs);
          }
          consumed.push({ name: f.name, bytes: f.bytes, mtimeMs: f.mtimeMs });
        }
        await _writeAll(fh, good.subarray(0, g * per));
        shard.count += g;
        decoded += g;
        next += part.length;
        const secs = (performance.now() - t0) / 1000;
        options.onProgress?.(next, total, secs, (next - startNext) / Math.max(secs, 1e-9));
      }
    } finally {
      fh.close();
    }
    await Deno.rename(tmp, `${dir}/${file}`);
    progress.done.push(shard);
    progress.consumed.push(...consumed);
    progress.skipped.push(...skipped);
    await writeFileAtomic(progressPath, JSON.stringify(progress));
  }

  const index: CacheIndex = {
    format: CACHE_FORMAT,
    version: _VERSION,
    size,
    upscale,
    face,
    count: progress.done.reduce((s, d) => s + d.count, 0),
    source: { root, split: _splitOf(scan.root), hash, files: scan.files.length + scan.bad.length },
    labels: progress.done.flatMap((d) => d.labels),
    names: progress.done.flatMap((d) => d.names),
    bytes: progress.done.flatMap((d) => d.bytes),
    mtimes: progress.done.flatMap((d) => d.mtimes),
    shards: progress.done.map((d) => ({ file: d.file, count: d.count })),
    skipped: progress.skipped,
    created: new Date().toISOString(),
  };
  if (index.count === 0) {
    throw new UserError(`${data}: no image could be decoded; nothing prepared`);
  }
  await writeFileAtomic(out, JSON.stringify(index));
  await Deno.remove(progressPath).catch(() => {});
  // Shards of an earlier cache at the same path are unreferenced now.
  const keep = new Set(index.shards.map((s) => s.file));
  for await (const e of Deno.readDir(dir)) {
    if (
      e.name.startsWith(`${base}.`) && /\.[0-9a-f]{8}\.\d{4}\.bin(\.tmp)?$/.test(e.name) &&
      !keep.has(e.name)
    ) {
      await Deno.remove(`${dir}/${e.name}`).catch(() => {});
    }
  }
  const line = formatSkipped(index.skipped, index.source.files, scan.root);
  if (line) log(line);
  return { index, decoded, resumed, seconds: (performance.now() - t0) / 1000 };
}

/** Options for {@link openCache}. */
export interface OpenCacheOptions {
  /** Side wanted; a cache of another size is resized on read (with a notice). @default the cache's */
  size?: number;
  /** Rescan the source folder and refuse a stale cache. @default true */
  checkSources?: boolean;
  /** Refuse a cache whose images were framed otherwise (`face` in its index). @default any */
  face?: "detect" | "none";
  /**
   * A cache whose shards total at most this many bytes is held in memory once read (each shard
   * loaded whole on first use); a larger one is read image by image from its files. @default 1 GiB
   */
  memoryBytes?: number;
  /** Notice lines. @default console.error */
  log?: (line: string) => void;
}

/**
 * Whether `path` is a prepared cache index (by its first bytes).
 *
 * @param path any path
 * @returns true for a cache index file
 */
export async function isCacheFile(path: string): Promise<boolean> {
  try {
    const f = await Deno.open(path);
    try {
      const head = new Uint8Array(64);
      const n = await f.read(head) ?? 0;
      return new TextDecoder().decode(head.subarray(0, n)).startsWith(
        `{"format":"${CACHE_FORMAT}"`,
      );
    } finally {
      f.close();
    }
  } catch {
    return false;
  }
}

/**
 * Opens a prepared cache as a {@link Dataset}, refusing it when its sources changed.
 *
 * @param path the index file written by `prepare`
 * @param options wanted size, source check
 * @returns the dataset
 * @throws {UserError} when the file is not a cache, shards are missing, or the sources changed
 */
export async function openCache(
  path: string,
  options: OpenCacheOptions = {},
): Promise<CacheDataset> {
  const log = options.log ?? ((l: string) => console.error(l));
  let index: CacheIndex;
  try {
    index = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(`${path}: no such cache; run prepare first`);
    }
    throw new UserError(
      `${path}: not a readable prepared cache (${
        (e as Error).message.split("\n")[0]
      }); run prepare again`,
    );
  }
  if (index.format !== CACHE_FORMAT || index.version !== _VERSION) {
    throw new UserError(`${path}: not a byel cache of version ${_VERSION}; run prepare again`);
  }
  const framed = index.face ?? "none"; // caches from before the face stage centre-cropped
  if (options.face && options.face !== framed) {
    throw new UserError(
      `${path} holds ${
        framed === "detect" ? "aligned face crops" : "centre crops"
      } (--face ${framed}), ` +
        `not --face ${options.face}; run prepare --face ${options.face} again, or pass --face ${framed}`,
    );
  }
  const dir = _dirname(path);
  for (const s of index.shards) {
    if (!(await exists(`${dir}/${s.file}`))) {
      throw new UserError(`${path}: shard ${s.file} is missing; run prepare again`);
    }
  }
  if (options.checkSources ?? true) {
    const srcRoot = index.source.split
      ? index.source.root.replace(/\/[^/]+$/, "")
      : index.source.root;
    if (await exists(index.source.root)) {
      const scan = await scanImageFolder(index.source.split ? srcRoot : index.source.root, {
        split: index.source.split ?? undefined,
        log: () => {},
      }).catch(() => undefined);
      const hash = scan ? await sourceListHash(scan) : "";
      if (hash !== index.source.hash) {
        const what = scan ? _describeChange(index, scan) : "it can no longer be read";
        throw new UserError(
          `${path} no longer matches its sources in ${index.source.root} (${what}); ` +
            `run prepare --data ${srcRoot} --size ${index.size} --out ${path} again`,
        );
      }
    } else {
      log(
        `notice: ${path}: source folder ${index.source.root} not found; using the cache without checking it`,
      );
    }
  }
  const ds = new CacheDataset(path, index, options.size ?? index.size, options.memoryBytes);
  if (ds.size !== index.size) {
    log(`notice: ${path} holds ${index.size}px images; resizing them to ${ds.size}px on read`);
  }
  return ds;
}

/** A prepared cache as a {@link Dataset}: reads only the images asked for. */
export class CacheDataset implements Dataset {
  readonly name: string;
  readonly length: number;
  readonly size: number;
  /** The cache's index. */
  readonly index: CacheIndex;
  readonly #dir: string;
  readonly #labels: Int32Array;
  readonly #shardOf: Int32Array; // per image
  readonly #slotOf: Int32Array; // position within its shard
  readonly #files = new Map<number, Deno.FsFile>();
  readonly #resident: boolean;
  readonly #loaded = new Map<number, Uint8Array>();

  /**
   * A dataset over a prepared cache.
   *
   * @param path the index file
   * @param index its parsed contents
   * @param size side to return (resized on read when it differs from the cache's)
   * @param memoryBytes hold the shards in memory when they total at most this @default 1 GiB
   */
  constructor(path: string, index: CacheIndex, size: number, memoryBytes = 2 ** 30) {
    this.index = index;
    this.#dir = _dirname(path);
    this.size = size;
    this.length = index.count;
    this.#labels = Int32Array.from(index.labels);
    this.#shardOf = new Int32Array(index.count);
    this.#slotOf = new Int32Array(index.count);
    let i = 0;
    index.shards.forEach((s, k) => {
      for (let j = 0; j < s.count; j++, i++) {
        this.#shardOf[i] = k;
        this.#slotOf[i] = j;
      }
    });
    this.name = `cache(${path}, ${index.count} images @ ${index.size}px)`;
    this.#resident = index.count * index.size * index.size * 3 <= memoryBytes;
  }

  label(i: number): number {
    return this.#labels[i];
  }

  /** Images per class, in `EMOTIONS` order. */
  classCounts(): number[] {
    const c = new Array(NUM_CLASSES).fill(0);
    for (const l of this.#labels) c[l]++;
    return c;
  }

  /**
   * The stored uint8 pixels at `indices` (at the cache's own size).
   *
   * @param indices image indices
   * @returns `[n, cacheSize, cacheSize, 3]` uint8
   */
  readUint8(indices: readonly number[]): Uint8Array {
    const per = this.index.size * this.index.size * 3;
    const out = new Uint8Array(indices.length * per);
    // Sync reads: a seek and its read must not interleave with another batch's on the same handle.
    // In file order, so a cache larger than the page cache is read front to back, not at random.
    const order = Array.from(indices.keys()).sort((a, b) => indices[a] - indices[b]);
    for (const k of order) {
      const i = indices[k];
      if (!(i >= 0 && i < this.length)) {
        throw new RangeError(`image index ${i} out of range 0..${this.length - 1}`);
      }
      if (this.#resident) {
        const shard = this.#shard(this.#shardOf[i]);
        const at = this.#slotOf[i] * per;
        out.set(shard.subarray(at, at + per), k * per);
        continue;
      }
      const f = this.#file(this.#shardOf[i]);
      f.seekSync(this.#slotOf[i] * per, Deno.SeekMode.Start);
      const view = out.subarray(k * per, (k + 1) * per);
      let got = 0;
      while (got < per) {
        const n = f.readSync(view.subarray(got));
        if (n === null || n === 0) {
          throw new UserError(
            `${this.name}: shard ${
              this.index.shards[this.#shardOf[i]].file
            } is truncated; run prepare again`,
          );
        }
        got += n;
      }
    }
    return out;
  }

  batch(indices: readonly number[]): Promise<Batch> {
    let pixels = this.readUint8(indices);
    if (this.size !== this.index.size) {
      const per = this.size * this.size * 3, from = this.index.size * this.index.size * 3;
      const resized = new Uint8Array(indices.length * per);
      for (let k = 0; k < indices.length; k++) {
        const img = {
          width: this.index.size,
          height: this.index.size,
          data: pixels.subarray(k * from, (k + 1) * from),
        };
        resized.set(resizeSquare(img, this.size, { upscale: this.index.upscale }), k * per);
      }
      pixels = resized;
    }
    const labels = Int32Array.from(indices, (i) => this.#labels[i]);
    return Promise.resolve({
      images: toUnitFloat(pixels),
      labels,
      n: indices.length,
      size: this.size,
    });
  }

  /** Closes the shard files (reopened on the next read). */
  close(): void {
    for (const f of this.#files.values()) f.close();
    this.#files.clear();
    this.#loaded.clear();
  }

  #shard(k: number): Uint8Array {
    let data = this.#loaded.get(k);
    if (!data) {
      data = Deno.readFileSync(`${this.#dir}/${this.index.shards[k].file}`);
      const want = this.index.shards[k].count * this.index.size * this.index.size * 3;
      if (data.length < want) {
        throw new UserError(
          `${this.name}: shard ${this.index.shards[k].file} is truncated; run prepare again`,
        );
      }
      this.#loaded.set(k, data);
    }
    return data;
  }

  #file(k: number): Deno.FsFile {
    let f = this.#files.get(k);
    if (!f) {
      f = Deno.openSync(`${this.#dir}/${this.index.shards[k].file}`);
      this.#files.set(k, f);
    }
    return f;
  }
}

function _describeChange(index: CacheIndex, scan: FolderScan): string {
  const was = new Map<string, string>();
  index.names.forEach((n, i) => was.set(n, `${index.bytes[i]}\t${index.mtimes[i]}`));
  for (const b of index.skipped) was.set(b.name, "bad");
  const now = new Map<string, string>();
  for (const f of scan.files) now.set(f.name, `${f.bytes}\t${f.mtimeMs}`);
  for (const b of scan.bad) now.set(b.name, "bad");
  const added = [...now.keys()].filter((n) => !was.has(n));
  const removed = [...was.keys()].filter((n) => !now.has(n));
  const changed = [...now.keys()].filter((n) =>
    was.has(n) && was.get(n) !== now.get(n) && was.get(n) !== "bad"
  );
  const parts: string[] = [];
  const eg = (l: string[]) => (l.length ? ` e.g. ${l[0]}` : "");
  if (added.length) parts.push(`${added.length} added${eg(added)}`);
  if (removed.length) parts.push(`${removed.length} removed${eg(removed)}`);
  if (changed.length) parts.push(`${changed.length} changed${eg(changed)}`);
  return parts.join(", ") || "source list changed";
}

async function _writeAll(f: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await f.write(data.subarray(off));
}

function _splitOf(root: string): LsdSplit | null {
  for (const [k, v] of Object.entries(LSD_SPLITS)) if (root.endsWith(`/${v}`)) return k as LsdSplit;
  return null;
}

function _dirname(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : p.slice(0, i);
}

function _basename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}
