/**
 * byel's own WebAssembly SIMD kernels (`wasm_simd/`: Winograd transforms and BatchNorm), loaded
 * onto tfjs-backend-wasm's memory so that they read and write tfjs tensors in place: the module
 * imports that memory (a shared one for tfjs's threaded build, a plain one for its SIMD build;
 * both variants ship in `wasm_simd/module.ts`). It keeps the rules in `wasm_simd/common.h` (no
 * data segment, no stack in the shared memory), so it never touches memory it was not given.
 *
 * On tfjs's threaded build the kernels also run on every thread ({@link simdRun}, through a
 * {@link SimdPool} of workers on the same memory) once {@link setSimdThreads} has said how many
 * and how to start a worker (`../wasm.ts` does, under Deno); elsewhere they run on one.
 *
 * @module
 */
import type { tf } from "../../deps.ts";
import { PLAIN, SHARED } from "./wasm_simd/module.ts";
import { type SimdCall, SimdPool, type SpawnWorker } from "./simd_pool.ts";

export type { SimdCall } from "./simd_pool.ts";

/** A tensor as a kernel sees it. */
export type Info = tf.TensorInfo;
/** A byte address in the WASM heap. */
export type Ptr = number;

/** The parts of tfjs-backend-wasm's backend object the kernels use. */
export interface WasmBackend extends tf.KernelBackend {
  /** The Emscripten module (null once the backend is disposed). */
  wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } } | null;
  dataIdMap: {
    get(id: object): { memoryOffset: number } | undefined;
    has(id: object): boolean;
  };
  makeOutput(shape: number[], dtype: "float32"): Info;
}

/** The module's exports (see the C sources for each function's contract). */
export type SimdKernels = Record<string, (...args: number[]) => void>;

const _modules = new WeakMap<object, SimdKernels | null>();
const _pools = new WeakMap<object, SimdPool | null>();
let _threads = 1;
let _spawn: SpawnWorker | undefined;
let _parallel = true;
/** The pool of the last backend that made one: stopped when a newer backend makes its own. */
let _lastPool: SimdPool | undefined;

/**
 * How many threads byel's kernels may use on a threaded WASM backend started from now on, and
 * how to start a worker (`../wasm.ts` calls this before it starts the backend).
 *
 * @param threads the backend's thread count (the calling thread plus `threads - 1` workers)
 * @param spawn starts a worker; without it the kernels run on the calling thread
 */
export function setSimdThreads(threads: number, spawn?: SpawnWorker): void {
  _threads = Math.max(1, Math.floor(threads));
  _spawn = spawn;
}

/**
 * Turns the kernels' threads on or off (on by default), for comparisons, benchmarks and tests;
 * results are the same bits either way.
 */
export function setSimdParallel(on: boolean): void {
  _parallel = on;
}

/**
 * @returns the threads {@link simdRun} uses on `backend` now (1 without a pool, or while its
 * workers are starting)
 */
export function simdThreads(backend: tf.KernelBackend): number {
  if (!_parallel || !simdKernels(backend)) return 1;
  return _pools.get((backend as WasmBackend).wasm!)?.threads ?? 1;
}

/**
 * Runs independent kernel calls, on every thread of the backend's pool when it has one (see
 * `simd_pool.ts`), else one after the other.
 *
 * @param backend the WASM backend whose kernels run (they must be available: {@link simdKernels})
 * @param calls export names and arguments; no two calls may write the same memory
 */
export function simdRun(backend: tf.KernelBackend, calls: SimdCall[]): void {
  const k = simdKernels(backend)!;
  const pool = _parallel && calls.length > 1
    ? _pools.get((backend as WasmBackend).wasm!)
    : undefined;
  if (pool) return pool.run(calls);
  for (const [name, ...args] of calls) k[name](...args);
}

/**
 * Runs `call(start, count)` for chunks of `n` items (images of a batch, rows, elements) through
 * {@link simdRun}: one chunk on one thread, else four per thread so that a thread that wakes
 * late takes fewer, each a multiple of `align` items (but the last).
 *
 * @param call the kernel call for items `start .. start + count`
 */
export function simdSplit(
  backend: tf.KernelBackend,
  n: number,
  call: (start: number, count: number) => SimdCall,
  align = 1,
): void {
  simdRun(backend, _chunks(backend, n, align).map(([start, count]) => call(start, count)));
}

/** @returns `[start, count]` pairs covering `0 .. n`, for {@link simdSplit} */
function _chunks(backend: tf.KernelBackend, n: number, align: number): [number, number][] {
  const threads = simdThreads(backend);
  const units = Math.ceil(n / align);
  const parts = Math.max(1, Math.min(units, threads === 1 ? 1 : 4 * threads));
  const out: [number, number][] = [];
  for (let p = 0; p < parts; p++) {
    const a = Math.floor((p * units) / parts) * align;
    const b = Math.min(n, Math.floor(((p + 1) * units) / parts) * align);
    if (b > a) out.push([a, b - a]);
  }
  return out;
}

function _decode(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * @returns the kernels instantiated on `backend`'s memory (once per backend), or null where they
 * cannot run: no SIMD in this WebAssembly engine, a disposed backend, or a tfjs build whose
 * memory is not reachable (callers then use tfjs's own kernels)
 */
export function simdKernels(backend: tf.KernelBackend): SimdKernels | null {
  const wasm = (backend as WasmBackend).wasm;
  if (!wasm) return null;
  const known = _modules.get(wasm);
  if (known !== undefined) return known;
  let result: SimdKernels | null = null;
  const memory = wasm.wasmMemory ?? wasm.asm?.memory;
  if (memory instanceof WebAssembly.Memory) {
    const shared = typeof SharedArrayBuffer !== "undefined" &&
      memory.buffer instanceof SharedArrayBuffer;
    const bytes = _decode(shared ? SHARED : PLAIN);
    if (WebAssembly.validate(bytes)) {
      try {
        const module = new WebAssembly.Module(bytes);
        const instance = new WebAssembly.Instance(module, { env: { memory } });
        result = instance.exports as unknown as SimdKernels;
        _pools.set(wasm, shared ? _startPool(module, memory, instance.exports) : null);
      } catch {
        result = null; // memory limits or features this engine refuses
      }
    }
  }
  _modules.set(wasm, result);
  return result;
}

/** @returns a pool of `_threads - 1` workers on `memory`, or null without threads or workers */
function _startPool(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  exports: WebAssembly.Exports,
): SimdPool | null {
  if (_threads < 2 || !_spawn) return null;
  _lastPool?.dispose(); // the backend it served is gone (tfjs runs one WASM backend at a time)
  try {
    _lastPool = new SimdPool(module, memory, exports, _threads - 1, _spawn);
    return _lastPool;
  } catch {
    _lastPool = undefined;
    return null; // no workers here: the kernels run on the calling thread
  }
}

/** @returns the heap address of a tensor's data on the WASM backend */
export function ptr(backend: tf.KernelBackend, t: Info): Ptr {
  return (backend as WasmBackend).dataIdMap.get(t.dataId)!.memoryOffset;
}

/** Frees tensors made inside a kernel. */
export function free(backend: tf.KernelBackend, infos: Info[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

/** @returns a new float32 tensor on the WASM heap (uninitialised) */
export function output(backend: tf.KernelBackend, shape: number[]): Info {
  return (backend as WasmBackend).makeOutput(shape, "float32");
}
