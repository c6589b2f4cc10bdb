/**
 * Choosing the backend: one function, used by the CLI and the library, that returns what it
 * chose and why it skipped the others.
 *
 * Order for `auto`: WebGPU when a hardware adapter exists and passes a numeric self-check
 * (software adapters such as Mesa's llvmpipe train ~20× slower than WASM, so auto skips them);
 * else WASM threaded-SIMD with one thread per core (up to 8); else WASM SIMD; else plain WASM;
 * else CPU. A forced backend that cannot start is a {@link UserError}, never a silent fallback.
 *
 * @module
 */
import nodeOs from "node:os";
import { tf, TFJS_VERSION } from "../deps.ts";
import { UserError } from "../errors.ts";
import { registerKernels } from "./kernels/mod.ts";
import { MAX_WASM_THREADS, startWasm, type WasmStart } from "./wasm.ts";
import { type AdapterSummary, probeAdapter, registerWebGPU, selfCheck } from "./webgpu.ts";

import { type BackendName, type BackendRequest, BACKENDS } from "./names.ts";

export { type BackendName, type BackendRequest, BACKENDS };

/** What {@link selectBackend} chose. */
export interface BackendInfo {
  /** The active tfjs backend. */
  name: BackendName;
  /** What was asked for. */
  requested: BackendRequest;
  /** One line per backend (or build) tried and skipped, with the reason. */
  skipped: string[];
  /** WASM runs the SIMD build (false when the backend is not WASM). */
  simd: boolean;
  /** Threads the backend computes with (WASM: XNNPACK's pool; CPU and WebGPU: 1). */
  threads: number;
  /** The WebGPU adapter, when one was found (also when it was skipped). */
  adapter?: AdapterSummary;
  /** The tfjs version. */
  tfjs: string;
}

/** Options for {@link selectBackend}. */
export interface SelectOptions {
  /** Which backend to start. @default "auto" */
  backend?: BackendRequest;
  /** WASM threads; 1 selects single-threaded SIMD. @default logical cores, at most 8 */
  threads?: number;
  /** Test hook: behave as if no WebGPU adapter existed. @default false */
  noAdapter?: boolean;
  /** Give up on a WASM build that has not started after this long. @default 30000 */
  wasmTimeoutMs?: number;
}

// WebAssembly feature probes (from GoogleChromeLabs/wasm-feature-detect, as tfjs uses them).
// deno-fmt-ignore
const _SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11,
]);
// deno-fmt-ignore
const _THREADS_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65,
  0, 254, 16, 2, 0, 26, 11,
]);

function _validate(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** Whether this runtime supports WASM SIMD. */
export function wasmSimdSupported(): boolean {
  return _validate(_SIMD_PROBE);
}

/** Whether this runtime supports WASM threads (shared memory and atomics). */
export function wasmThreadsSupported(): boolean {
  return typeof SharedArrayBuffer === "function" && _validate(_THREADS_PROBE);
}

/** Logical cores, as the OS reports them. */
export function logicalCores(): number {
  return navigator.hardwareConcurrency || nodeOs.cpus().length || 1;
}

// Replace tfjs's WebGPU factory now, so that code calling tf.ready() before selectBackend()
// neither hits its broken device request nor picks a software GPU by priority.
registerWebGPU();

// The WASM module starts once per process; later selections reuse it as it is.
let _wasm: WasmStart | undefined;
let _quietDone = false;

/**
 * tfjs's CPU backend greets Node users with a banner ("Hi, looks like you are running
 * TensorFlow.js in Node.js…") on its first write; under Deno it is noise. Creating the backend
 * is cheap and synchronous, so we do it on import and mark it as used.
 */
function _quietCpu(): void {
  if (_quietDone) return;
  const cpu = tf.findBackend("cpu") as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false;
  _quietDone = true;
}
_quietCpu();

async function _tryWebGPU(): Promise<string | undefined> {
  registerWebGPU();
  let ok: boolean;
  try {
    ok = await tf.setBackend("webgpu");
  } catch (e) {
    return `device creation failed: ${(e as Error).message}`;
  }
  if (!ok) return "device creation failed (see the tfjs warning above)";
  const bad = await selfCheck();
  if (bad) {
    tf.removeBackend("webgpu");
    registerWebGPU();
    return bad;
  }
  return undefined;
}

/**
 * Starts WASM, threaded-SIMD first when allowed. Returns the reasons for builds skipped, and
 * throws only when no WASM build starts.
 */
async function _tryWasm(opts: SelectOptions, skipped: string[]): Promise<WasmStart> {
  if (_wasm) {
    if (tf.getBackend() !== "wasm") await tf.setBackend("wasm");
    return _wasm;
  }
  const simd = wasmSimdSupported();
  const want = Math.max(1, Math.min(MAX_WASM_THREADS, opts.threads ?? logicalCores()));
  const timeoutMs = opts.wasmTimeoutMs ?? 30000;
  const builds: { simd: boolean; threads: number; label: string }[] = [];
  if (simd && want > 1) {
    if (wasmThreadsSupported()) builds.push({ simd, threads: want, label: "threaded-SIMD" });
    else skipped.push("wasm threaded-SIMD: no SharedArrayBuffer/atomics in this runtime");
  }
  if (simd) builds.push({ simd, threads: 1, label: "SIMD" });
  else skipped.push("wasm SIMD: WebAssembly SIMD is not supported by this runtime");
  builds.push({ simd: false, threads: 1, label: "plain" });
  for (const b of builds) {
    try {
      _wasm = await startWasm({ simd: b.simd, threads: b.threads, timeoutMs });
      if (b.threads > 1 && _wasm.threads < b.threads) {
        skipped.push(`wasm: asked for ${b.threads} threads, XNNPACK runs ${_wasm.threads}`);
      }
      return _wasm;
    } catch (e) {
      const why = (e as Error).message;
      // Without read access to the .wasm files every build fails the same way; say it once.
      if (/^needs read access/.test(why)) {
        skipped.push(`wasm: ${why}`);
        break;
      }
      skipped.push(`wasm ${b.label}: ${why}`);
    }
  }
  throw new Error("no WASM build started");
}

/**
 * Chooses, starts and activates the backend (`tf.setBackend`), and says why.
 *
 * @param opts `backend` ("auto" by default), `threads`, and the `noAdapter` test hook
 * @returns what runs, what was skipped and why, SIMD, threads, the adapter
 * @throws UserError when a forced backend cannot start
 * @example
 * ```ts
 * const info = await selectBackend({ backend: "auto" });
 * console.log(`backend ${info.name} (threads ${info.threads})`, info.skipped);
 * ```
 */
export async function selectBackend(opts: SelectOptions = {}): Promise<BackendInfo> {
  const requested = opts.backend ?? "auto";
  if (!BACKENDS.includes(requested)) {
    throw new UserError(`unknown backend "${requested}"; expected one of: ${BACKENDS.join(", ")}`);
  }
  registerKernels();
  _quietCpu();
  const skipped: string[] = [];
  const result = (name: BackendInfo["name"], extra: Partial<BackendInfo> = {}): BackendInfo => ({
    name,
    requested,
    skipped,
    simd: false,
    threads: 1,
    tfjs: TFJS_VERSION,
    ...extra,
  });

  // WebGPU
  let adapter: AdapterSummary | undefined;
  if (requested === "auto" || requested === "webgpu") {
    const probe = opts.noAdapter
      ? "no adapter (forced by the noAdapter test hook)"
      : await probeAdapter();
    if (typeof probe === "string") {
      if (requested === "webgpu") throw new UserError(`--backend webgpu: ${probe}`);
      skipped.push(`webgpu: ${probe}`);
    } else {
      adapter = probe;
      if (requested === "auto" && probe.isFallback) {
        skipped.push(
          `webgpu: "${probe.description}" is a software adapter (isFallbackAdapter), far slower ` +
            `than WASM; --backend webgpu uses it anyway`,
        );
      } else {
        const bad = await _tryWebGPU();
        if (!bad) return result("webgpu", { adapter });
        if (requested === "webgpu") throw new UserError(`--backend webgpu: ${bad}`);
        skipped.push(`webgpu: ${bad}`);
      }
    }
  }

  // WASM
  if (requested === "auto" || requested === "wasm") {
    try {
      const w = await _tryWasm(opts, skipped);
      return result("wasm", { simd: w.simd, threads: w.threads, adapter });
    } catch (e) {
      if (requested === "wasm") {
        throw new UserError(`--backend wasm could not start: ${skipped.join("; ") || e}`);
      }
    }
  }

  // CPU
  if (!(await tf.setBackend("cpu"))) throw new UserError("the cpu backend did not start");
  return result("cpu", { adapter });
}

/**
 * The one line the CLI prints about the backend.
 *
 * @param info what {@link selectBackend} returned
 * @returns e.g. `backend wasm (threaded-SIMD, 2 threads); skipped webgpu: no adapter`
 */
export function describeBackend(info: BackendInfo): string {
  let what: string = info.name;
  if (info.name === "wasm") {
    const build = info.simd ? (info.threads > 1 ? "threaded-SIMD" : "SIMD") : "plain";
    what += ` (${build}, ${info.threads} thread${info.threads === 1 ? "" : "s"})`;
  } else if (info.name === "webgpu" && info.adapter) {
    what += ` (${info.adapter.description || info.adapter.vendor}${
      info.adapter.isFallback ? ", software" : ""
    })`;
  }
  return `backend ${what}` + (info.skipped.length ? `; skipped ${info.skipped.join("; ")}` : "");
}
