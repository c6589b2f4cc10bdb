/**
 * The backend choice in a web page (the page served by `cli.ts serve`): WebGPU where the
 * browser has a hardware adapter, else WebAssembly (with SIMD where the browser has it; its
 * `.wasm` files from the server, never a CDN), else the CPU, with byel's kernels registered
 * (on WASM they run on one thread). Deno uses `selectBackend`, which also runs threaded WASM and
 * the WebGPU self-check.
 *
 * @module
 */
import { tf, tfwasm } from "../deps.ts";
import type { BackendName } from "./names.ts";
import { registerKernels } from "./kernels/mod.ts";

/** What {@link selectBrowserBackend} chose, and why it skipped the others. */
export interface BrowserBackend {
  /** The active backend. */
  name: BackendName;
  /** One line per backend tried and skipped. */
  skipped: string[];
}

/**
 * Starts the best backend this browser offers.
 *
 * @param opts `wasmPath`: the URL folder serving tfjs-backend-wasm's `.wasm` files;
 *   `prefer`: a backend to try first, or `auto`
 * @returns the backend that runs
 */
export async function selectBrowserBackend(
  opts: { wasmPath: string; prefer?: BackendName | "auto" },
): Promise<BrowserBackend> {
  // byel's kernels (registering them needs no backend; each checks that it can run), as
  // `selectBackend` does in Deno. Here they run on one thread: the page starts no workers.
  registerKernels();
  const skipped: string[] = [];
  const gpu =
    (navigator as { gpu?: { requestAdapter(): Promise<{ isFallbackAdapter?: boolean } | null> } })
      .gpu;
  const order: BackendName[] = opts.prefer && opts.prefer !== "auto"
    ? [
      opts.prefer,
      ...(["webgpu", "wasm", "cpu"] as BackendName[]).filter((b) => b !== opts.prefer),
    ]
    : ["webgpu", "wasm", "cpu"];
  for (const name of order) {
    try {
      if (name === "webgpu") {
        const adapter = gpu ? await gpu.requestAdapter() : null;
        if (!adapter) {
          skipped.push("webgpu: this browser has no WebGPU adapter");
          continue;
        }
        if (adapter.isFallbackAdapter && opts.prefer !== "webgpu") {
          skipped.push("webgpu: a software adapter only");
          continue;
        }
      }
      if (name === "wasm") tfwasm.setWasmPaths(opts.wasmPath);
      if (await tf.setBackend(name)) {
        await tf.ready();
        return { name, skipped };
      }
      skipped.push(`${name}: did not start`);
    } catch (e) {
      skipped.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no backend started: ${skipped.join("; ")}`);
}
