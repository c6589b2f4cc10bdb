/**
 * Threads for byel's own SIMD kernels (`wasm_simd/`). tfjs-backend-wasm's threaded build runs
 * XNNPACK on a pool of threads, but a kernel byel calls from JavaScript runs on the calling
 * thread alone. {@link SimdPool} gives those kernels the other cores: each worker instantiates
 * the same module on tfjs's shared memory (the module keeps no state and no stack in it, see
 * `wasm_simd/common.h`), and a kernel becomes a list of independent calls (images of a batch,
 * blocks of rows, the 16 products of a Winograd filter gradient) that the calling thread and
 * the workers take one at a time from a shared counter. The calling thread blocks until every
 * worker it woke has finished, so the kernel stays synchronous, as tfjs expects.
 *
 * The calls of one run write disjoint memory and each computes exactly what it computes
 * serially, so a kernel gives the same bits on any number of threads.
 *
 * Protocol (an `Int32Array` on a `SharedArrayBuffer`): `[NEXT, COUNT, ERROR, -]`, then per
 * worker `[READY, JOB, DONE]`. A run writes the calls, resets `NEXT`, sets `COUNT`, and stores a
 * new job number in the `JOB` slot of every worker that is `READY` (a worker still starting is
 * not woken, and the calling thread does its share); each woken worker drains the counter and
 * stores the job number in `DONE`. Waits are `Atomics.wait` (a futex), never a spin, so an idle
 * worker costs nothing and XNNPACK's threads keep the cores.
 *
 * Workers come from a `spawn` function (`node:worker_threads` under Deno, see `../wasm.ts`),
 * which this file does not import, so that it also bundles for the browser, where the kernels
 * run on one thread.
 *
 * @module
 */

/** A kernel call: the export's name, then its arguments (pointers and sizes). */
export type SimdCall = [name: string, ...args: number[]];

/** What {@link SimdPool} needs of a worker. */
export interface PoolWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  /** Lets the process exit while the worker idles (Node's `unref`). */
  unref?(): void;
}

/** Starts a worker running `source` (a classic script using `require("node:worker_threads")`). */
export type SpawnWorker = (source: string) => PoolWorker;

/** Calls one run can hold. */
export const MAX_CALLS = 256;
/** Arguments one call can have (the F(4x4) transforms take 45). */
export const MAX_ARGS = 48;

const _NEXT = 0, _COUNT = 1, _ERROR = 2, _SLOTS = 4;
const _READY = 0, _JOB = 1, _DONE = 2;

/** The worker: instantiates the module, then runs jobs until its job number goes negative. */
const _WORKER_SOURCE = String.raw`"use strict";
const { parentPort } = require("node:worker_threads");
parentPort.once("message", (d) => {
  const c = new Int32Array(d.ctl), ids = new Int32Array(d.ids), na = new Int32Array(d.nargs);
  const args = new Float64Array(d.args), base = ${_SLOTS} + 3 * d.slot;
  let fns;
  try {
    const ex = new WebAssembly.Instance(d.module, { env: { memory: d.memory } }).exports;
    fns = d.names.map((n) => ex[n]);
  } catch (e) {
    Atomics.store(c, base + ${_READY}, -1);
    parentPort.close();
    return;
  }
  Atomics.store(c, base + ${_READY}, 1);
  let seen = 0;
  for (;;) {
    Atomics.wait(c, base + ${_JOB}, seen);
    const job = Atomics.load(c, base + ${_JOB});
    if (job < 0) break;
    if (job === seen) continue;
    seen = job;
    try {
      for (;;) {
        const i = Atomics.add(c, ${_NEXT}, 1);
        if (i >= Atomics.load(c, ${_COUNT})) break;
        fns[ids[i]].apply(null, args.subarray(i * ${MAX_ARGS}, i * ${MAX_ARGS} + na[i]));
      }
    } catch (e) {
      Atomics.store(c, ${_ERROR}, 1);
    }
    Atomics.store(c, base + ${_DONE}, job);
    Atomics.notify(c, base + ${_DONE});
  }
  parentPort.close();
});
`;

/**
 * The calling thread plus `workers` threads running one SIMD module's exports on a shared
 * memory. Runs are synchronous; a pool serves one thread (the one tfjs's kernels run on).
 */
export class SimdPool {
  readonly #ctl: Int32Array<SharedArrayBuffer>;
  readonly #ids: Int32Array<SharedArrayBuffer>;
  readonly #nargs: Int32Array<SharedArrayBuffer>;
  readonly #args: Float64Array<SharedArrayBuffer>;
  readonly #index = new Map<string, number>();
  readonly #fns: ((...a: number[]) => void)[] = [];
  readonly #workers: PoolWorker[] = [];
  #job = 0;

  /**
   * @param module the compiled module (importing `env.memory`, shared)
   * @param memory the shared memory it runs on
   * @param exports the module's exports on this thread
   * @param workers how many workers to start (the calling thread is one more)
   * @param spawn starts one worker
   * @throws Error when the memory is not shared or a worker cannot start
   */
  constructor(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    exports: Record<string, unknown>,
    workers: number,
    spawn: SpawnWorker,
  ) {
    if (!(memory.buffer instanceof SharedArrayBuffer)) {
      throw new Error("SimdPool needs a shared WebAssembly.Memory");
    }
    const names = Object.keys(exports).filter((n) => typeof exports[n] === "function").sort();
    names.forEach((n, i) => {
      this.#index.set(n, i);
      this.#fns.push(exports[n] as (...a: number[]) => void);
    });
    this.#ctl = new Int32Array(new SharedArrayBuffer(4 * (_SLOTS + 3 * workers)));
    this.#ids = new Int32Array(new SharedArrayBuffer(4 * MAX_CALLS));
    this.#nargs = new Int32Array(new SharedArrayBuffer(4 * MAX_CALLS));
    this.#args = new Float64Array(new SharedArrayBuffer(8 * MAX_CALLS * MAX_ARGS));
    try {
      for (let slot = 0; slot < workers; slot++) {
        const w = spawn(_WORKER_SOURCE);
        this.#workers.push(w);
        w.postMessage({
          module,
          memory,
          names,
          slot,
          ctl: this.#ctl.buffer,
          ids: this.#ids.buffer,
          nargs: this.#nargs.buffer,
          args: this.#args.buffer,
        });
        w.unref?.();
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Threads a run can use now: the calling thread and the workers that have started. */
  get threads(): number {
    let n = 1;
    for (let w = 0; w < this.#workers.length; w++) {
      if (Atomics.load(this.#ctl, _SLOTS + 3 * w + _READY) === 1) n++;
    }
    return n;
  }

  /** Threads the pool will have once its workers have started. */
  get size(): number {
    return 1 + this.#workers.length;
  }

  /**
   * Runs the calls, in any order and on any thread, and returns when all have finished.
   *
   * @param calls independent calls (no two write the same memory)
   * @throws Error naming the export when a call traps, or for an unknown export, too many calls
   *   or arguments (nothing runs then)
   */
  run(calls: SimdCall[]): void {
    if (calls.length > MAX_CALLS) throw new Error(`SimdPool: ${calls.length} calls > ${MAX_CALLS}`);
    calls.forEach(([name, ...args], i) => {
      const id = this.#index.get(name);
      if (id === undefined) throw new Error(`SimdPool: no export ${name}`);
      if (args.length > MAX_ARGS) throw new Error(`SimdPool: ${name} has ${args.length} args`);
      this.#ids[i] = id;
      this.#nargs[i] = args.length;
      this.#args.set(args, i * MAX_ARGS);
    });
    const c = this.#ctl;
    Atomics.store(c, _NEXT, 0);
    Atomics.store(c, _COUNT, calls.length);
    Atomics.store(c, _ERROR, 0);
    const job = ++this.#job;
    const woken: number[] = [];
    if (calls.length > 1) {
      for (let w = 0; w < this.#workers.length; w++) {
        const base = _SLOTS + 3 * w;
        if (Atomics.load(c, base + _READY) !== 1) continue;
        Atomics.store(c, base + _JOB, job);
        Atomics.notify(c, base + _JOB);
        woken.push(base);
      }
    }
    let failed: unknown;
    try {
      for (;;) {
        const i = Atomics.add(c, _NEXT, 1);
        if (i >= calls.length) break;
        const [, ...args] = calls[i];
        this.#fns[this.#ids[i]](...args);
      }
    } catch (e) {
      failed = e;
      Atomics.store(c, _NEXT, calls.length); // the workers stop taking calls
    }
    for (const base of woken) {
      for (;;) {
        const done = Atomics.load(c, base + _DONE);
        if (done === job) break;
        Atomics.wait(c, base + _DONE, done);
      }
    }
    if (failed !== undefined) throw failed;
    if (Atomics.load(c, _ERROR)) {
      throw new Error(
        `SimdPool: a call trapped in a worker (${calls.map((k) => k[0]).join(", ")})`,
      );
    }
  }

  /** Stops the workers (a later {@link run} uses the calling thread only). */
  dispose(): void {
    for (let w = 0; w < this.#workers.length; w++) {
      const base = _SLOTS + 3 * w;
      Atomics.store(this.#ctl, base + _READY, 0);
      Atomics.store(this.#ctl, base + _JOB, -1);
      Atomics.notify(this.#ctl, base + _JOB);
      this.#workers[w].terminate();
    }
    this.#workers.length = 0;
  }
}
