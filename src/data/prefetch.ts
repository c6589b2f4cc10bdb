/**
 * The input pipeline: decoding overlapped with training.
 *
 * - {@link prefetch} keeps the next batches' `dataset.batch()` calls in flight while the caller
 *   trains on the current one.
 * - {@link DecodePool} decodes in Web Workers, so decoding runs on other cores for real rather
 *   than interleaving with training on the main thread; hand it to `readImageFolder`,
 *   `prepareCache` or `predictLsdTest` as their `decoder`. A prepared cache needs neither: it
 *   reads far faster than any decoder.
 *
 * @module
 */
import type { Batch, Dataset } from "./dataset.ts";
import type { DecodedFiles, FileDecoder, FileFailure } from "./decode.ts";
import type { ResizeOptions } from "./resize.ts";

/**
 * Splits an epoch order into batches.
 *
 * @param order image indices for the epoch
 * @param batchSize images per batch
 * @param options `dropLast` drops a final short batch @default false
 * @returns the batches, in order
 */
export function batchesOf(
  order: ArrayLike<number>,
  batchSize: number,
  options: { dropLast?: boolean } = {},
): number[][] {
  const out: number[][] = [];
  for (let s = 0; s < order.length; s += batchSize) {
    const b = Array.from({ length: Math.min(batchSize, order.length - s) }, (_, k) => order[s + k]);
    if (b.length < batchSize && options.dropLast) break;
    out.push(b);
  }
  return out;
}

/**
 * Yields `dataset.batch(b)` for each `b` of `batches`, keeping up to `depth` of the following
 * batches already requested, so their reading and decoding overlap the caller's work.
 *
 * @param dataset any dataset
 * @param batches index lists, in order
 * @param options `depth` batches in flight ahead of the one being used @default 2
 * @returns the batches, in order
 * @example
 * ```ts
 * for await (const batch of prefetch(train, batchesOf(order, 64))) await step(batch);
 * ```
 */
export async function* prefetch(
  dataset: Dataset,
  batches: Iterable<readonly number[]>,
  options: { depth?: number } = {},
): AsyncGenerator<Batch> {
  const depth = Math.max(1, options.depth ?? 2);
  const it = batches[Symbol.iterator]();
  const queue: Promise<Batch>[] = [];
  const fill = () => {
    while (queue.length < depth) {
      const n = it.next();
      if (n.done) return;
      const p = dataset.batch(n.value);
      // Marked handled now: if the caller stops early nobody awaits it; if not, awaiting it
      // below still throws.
      p.catch(() => {});
      queue.push(p);
    }
  };
  fill();
  while (queue.length > 0) {
    const next = queue.shift()!;
    fill();
    yield await next;
  }
}

/**
 * A pool of decoding workers implementing {@link FileDecoder}. Each call is split across the
 * workers; the packed pixels come back transferred, not copied. Call {@link DecodePool.close}
 * when done (live workers keep the process running).
 */
export class DecodePool implements FileDecoder {
  /** Number of workers. */
  readonly size: number;
  readonly #workers: Worker[];
  readonly #pending = new Map<
    number,
    { resolve: (r: DecodedFiles) => void; reject: (e: Error) => void }
  >();
  #next = 0;
  #rr = 0;

  /**
   * Starts the decoding workers.
   *
   * @param workers number of workers @default max(1, hardwareConcurrency - 1)
   */
  constructor(workers: number = Math.max(1, (navigator.hardwareConcurrency ?? 2) - 1)) {
    this.size = workers;
    const url = new URL("./decode_worker.ts", import.meta.url).href;
    this.#workers = Array.from({ length: workers }, () => {
      const w = new Worker(url, { type: "module" });
      w.onmessage = (e: MessageEvent) => {
        const m = e.data as {
          id: number;
          pixels?: Uint8Array;
          failures?: (FileFailure | null)[];
          error?: string;
        };
        const p = this.#pending.get(m.id);
        if (!p) return;
        this.#pending.delete(m.id);
        if (m.error !== undefined) p.reject(new Error(`decode worker: ${m.error}`));
        else p.resolve({ pixels: m.pixels!, failures: m.failures! });
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        for (const p of this.#pending.values()) {
          p.reject(new Error(`decode worker failed: ${e.message}`));
        }
        this.#pending.clear();
      };
      return w;
    });
  }

  /** Decodes files into one packed buffer, never throwing for a bad file. */
  async decodeFiles(
    paths: readonly string[],
    size: number,
    options: ResizeOptions = {},
  ): Promise<DecodedFiles> {
    const n = this.#workers.length;
    const chunk = Math.ceil(paths.length / n) || 1;
    const parts: Promise<DecodedFiles>[] = [];
    for (let s = 0; s < paths.length; s += chunk) {
      const id = this.#next++;
      const w = this.#workers[this.#rr++ % n];
      parts.push(new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject })));
      w.postMessage({
        id,
        paths: paths.slice(s, s + chunk),
        size,
        options: { upscale: options.upscale },
      });
    }
    const done = await Promise.all(parts);
    if (done.length === 1) return done[0];
    const per = size * size * 3;
    const pixels = new Uint8Array(paths.length * per);
    const failures: (FileFailure | null)[] = [];
    done.forEach((d, k) => {
      pixels.set(d.pixels, k * chunk * per);
      failures.push(...d.failures);
    });
    return { pixels, failures };
  }

  /** Stops the workers; pending calls reject. */
  close(): void {
    for (const w of this.#workers) w.terminate();
    for (const p of this.#pending.values()) p.reject(new Error("decode pool closed"));
    this.#pending.clear();
  }
}
