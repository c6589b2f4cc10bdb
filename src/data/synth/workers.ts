/**
 * `RenderWorker`: the generator's faces rendered in a Web Worker. A training run asks for the
 * images of step k + 1 before step k trains (`src/train/loop.ts`), but the generator renders
 * on the thread that asks (3 ms a face at 48 px here), so in the first epoch, before the
 * memory cache holds the faces, each step waited for its batch to be drawn: 20,000 faces took
 * a minute of the default run. In a worker, the next batch is drawn while the step trains.
 *
 * Where the worker cannot start (no read access to its module, or `mod.ts` imported from a URL
 * that a worker may not load from), or fails, the faces are rendered in the calling thread, the
 * same pixels either way; {@link RenderWorker.where} says which.
 *
 * @module
 */
import type { Batch, Dataset } from "../dataset.ts";
import { isPermissionError, mayLoadWorker } from "../../workers.ts";
import type { SyntheticFaces } from "./dataset.ts";

/** A {@link SyntheticFaces} whose batches are rendered in a worker. */
export class RenderWorker implements Dataset {
  readonly name: string;
  readonly length: number;
  readonly size: number;
  /** `worker`, or `this thread (why)`. */
  where: string;
  readonly #faces: SyntheticFaces;
  #worker: Worker | undefined;
  readonly #pending = new Map<
    number,
    { indices: readonly number[]; resolve: (b: Batch) => void; reject: (e: Error) => void }
  >();
  #next = 0;

  /**
   * Starts the worker (nothing is rendered until a batch is asked for).
   *
   * @param faces the generator to render for
   */
  constructor(faces: SyntheticFaces) {
    this.#faces = faces;
    this.name = faces.name;
    this.length = faces.length;
    this.size = faces.size;
    const url = new URL("./render_worker.ts", import.meta.url).href;
    this.where = "worker";
    if (typeof Worker === "undefined") {
      this.where = "this thread (no workers here)";
      return;
    }
    if (!mayLoadWorker(url)) {
      this.where = `this thread (no read access to ${url})`;
      return;
    }
    try {
      this.#worker = new Worker(url, { type: "module" });
    } catch (e) {
      if (!isPermissionError(e)) throw e;
      this.where = `this thread (no permission to load ${url})`;
      return;
    }
    this.#worker.onmessage = (e: MessageEvent) => this.#receive(e.data);
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#fallBack(`the render worker failed: ${e.message}`);
    };
    const { domain, seed, size, length, identities } = faces;
    this.#worker.postMessage({ kind: "init", options: { domain, seed, size, length, identities } });
  }

  /** @returns the class of image `i` */
  label(i: number): number {
    return this.#faces.label(i);
  }

  /**
   * Renders the images at `indices` (in the worker when it runs).
   *
   * @param indices image indices
   * @returns the images and labels, as {@link SyntheticFaces.batch} gives them
   */
  batch(indices: readonly number[]): Promise<Batch> {
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= this.length) {
        return Promise.reject(new RangeError(`image index ${i} is outside 0..${this.length - 1}`));
      }
    }
    if (!this.#worker) return this.#faces.batch(indices);
    const id = this.#next++;
    return new Promise<Batch>((resolve, reject) => {
      this.#pending.set(id, { indices, resolve, reject });
      this.#worker!.postMessage({ kind: "batch", id, indices: [...indices] });
    });
  }

  /** Stops the worker (later batches render in the calling thread). */
  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    for (const p of this.#pending.values()) p.reject(new Error("RenderWorker closed"));
    this.#pending.clear();
  }

  #receive(m: { kind: string; id: number; images?: Float32Array; message?: string }): void {
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    if (m.kind === "error") return p.reject(new Error(m.message));
    const labels = Int32Array.from(p.indices, (i) => this.#faces.label(i));
    p.resolve({ images: m.images!, labels, n: p.indices.length, size: this.size });
  }

  /** The worker failed: render what it had been asked for here, and from now on. */
  #fallBack(why: string): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.where = `this thread (${why})`;
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      this.#faces.batch(p.indices).then(p.resolve, p.reject);
    }
  }
}
