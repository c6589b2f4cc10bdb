/**
 * byel's own WebAssembly SIMD kernels (`wasm_simd/`: Winograd transforms and BatchNorm), loaded
 * onto tfjs-backend-wasm's memory so that they read and write tfjs tensors in place: the module
 * imports that memory (a shared one for tfjs's threaded build, a plain one for its SIMD build;
 * both variants ship in `wasm_simd/module.ts`). It keeps the rules in `wasm_simd/common.h` (no
 * data segment, no stack in the shared memory), so it never touches memory it was not given.
 *
 * @module
 */
import type { tf } from "../../deps.ts";
import { PLAIN, SHARED } from "./wasm_simd/module.ts";

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
        const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
          env: { memory },
        });
        result = instance.exports as unknown as SimdKernels;
      } catch {
        result = null; // memory limits or features this engine refuses
      }
    }
  }
  _modules.set(wasm, result);
  return result;
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
