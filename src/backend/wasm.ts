/**
 * Starting the WASM backend under Deno, threaded when asked.
 *
 * tfjs treats Deno as Node.js, where its multithreaded build is switched off
 * (`WASM_HAS_MULTITHREAD_SUPPORT` returns false under `IS_NODE`). Forcing the flag on is not
 * enough, for three reasons this file works around without touching `node_modules`:
 *
 * 1. Emscripten's pthread pool creates its workers with `new Worker(blobUrl)` after setting the
 *    global `Worker` to `node:worker_threads`' class, and the blob holds a Node-style worker
 *    script that reads `__filename` and loads the main script with `fs.readFileSync` from a
 *    `blob:` URL; neither works in Deno. While the module starts, we make the global `Worker`
 *    resolve to {@link _PthreadWorker}, which runs our own worker script (below) instead.
 * 2. Our worker script runs the Emscripten module as a *web* worker (it hides `process` from it),
 *    so it needs no `location`, `__filename` or file system, and takes the compiled module and
 *    the shared memory from the main thread.
 * 3. Emscripten unreferences each worker once it has loaded, and Deno does not count a pending
 *    `WebAssembly.instantiate` as work, so the process used to exit half-way through start-up.
 *    Our workers stay referenced until the backend is ready, then are unreferenced for good, so
 *    a finished script still exits.
 *
 * 4. The C++ side caps any requested thread count at half the logical cores (it assumes
 *    hyper-threading), read once from `os.cpus()` while the module instantiates. We pass the count
 *    explicitly (`setThreadsCount`) and, for that moment only, report twice as many cores, so the
 *    cap is the count we asked for. It is also capped at Emscripten's preallocated pool of 8
 *    workers: a thread beyond the pool would need a worker started from the event loop while the
 *    main thread blocks waiting for it.
 *
 * 5. byel's own SIMD kernels run on as many threads as XNNPACK: once the backend runs, they get
 *    a pool of `node:worker_threads` workers (`kernels/simd_pool.ts`).
 *
 * @module
 */
import nodeFs from "node:fs";
import nodeOs from "node:os";
import { Worker as NodeWorker } from "node:worker_threads";
import { tf, tfwasm } from "../deps.ts";
import { setSimdThreads } from "./kernels/wasm_simd.ts";

/** Emscripten preallocates this many pthread workers; more threads than this would deadlock. */
export const MAX_WASM_THREADS = 8;

/** How the WASM backend was started. */
export interface WasmStart {
  /** Whether the SIMD build runs. */
  simd: boolean;
  /** Threads XNNPACK uses (1 = single-threaded). */
  threads: number;
}

// The pthread worker: the part of Emscripten's generated worker.js that runs in a web worker,
// wrapped for `node:worker_threads` (whose workers Deno lets us unreference).
const _WORKER_SOURCE = String.raw`"use strict";
const { parentPort } = require("node:worker_threads");
globalThis.self = globalThis;
self.location = { href: "byel:wasm-pthread" };
self.postMessage = (msg) => parentPort.postMessage(msg);
// Emscripten recognises a web worker by a global importScripts; we never load scripts by URL.
self.importScripts = () => { throw new Error("byel: importScripts is not available in pthreads"); };
let Module = {};
let initializedJS = false;
let pendingQueues = [];
let held = null; // messages that arrive while the main script is being evaluated
const err = (...a) => console.error(a.join(" "));
self.alert = (...a) => postMessage({ cmd: "alert", text: a.join(" "), threadId: Module["_pthread_self"]() });
Module["instantiateWasm"] = (info, receiveInstance) => {
  const instance = new WebAssembly.Instance(Module["wasmModule"], info);
  receiveInstance(instance);
  Module["wasmModule"] = null;
  return instance.exports;
};
self.startWorker = (instance) => { Module = instance; postMessage({ cmd: "loaded" }); };
function handle(d) {
  try {
    if (d.cmd === "run") {
      Module["__emscripten_thread_init"](d.pthread_ptr, 0, 0, 1);
      Module["establishStackSpace"]();
      Module["PThread"].receiveObjectTransfer(d);
      Module["PThread"].threadInitTLS();
      if (!initializedJS) {
        pendingQueues.forEach((q) => Module["executeNotifiedProxyingQueue"](q));
        pendingQueues = [];
        initializedJS = true;
      }
      try {
        Module["invokeEntryPoint"](d.start_routine, d.arg);
      } catch (ex) {
        if (ex != "unwind") {
          if (ex instanceof Module["ExitStatus"]) {
            if (!Module["keepRuntimeAlive"]()) Module["__emscripten_thread_exit"](ex.status);
          } else throw ex;
        }
      }
    } else if (d.cmd === "cancel") {
      if (Module["_pthread_self"]()) Module["__emscripten_thread_exit"](-1);
    } else if (d.target === "setimmediate") {
      // nothing: the main thread echoes these
    } else if (d.cmd === "processProxyingQueue") {
      if (initializedJS) Module["executeNotifiedProxyingQueue"](d.queue);
      else pendingQueues.push(d.queue);
    } else if (d.cmd) {
      err("byel wasm pthread: unknown command " + d.cmd);
    }
  } catch (ex) {
    if (Module["__emscripten_thread_crashed"]) Module["__emscripten_thread_crashed"]();
    throw ex;
  }
}
async function load(d) {
  held = [];
  Module["wasmModule"] = d.wasmModule;
  for (const h of d.handlers) Module[h] = (...args) => postMessage({ cmd: "callHandler", handler: h, args });
  Module["wasmMemory"] = d.wasmMemory;
  Module["buffer"] = d.wasmMemory.buffer;
  Module["ENVIRONMENT_IS_PTHREAD"] = true;
  const src = typeof d.urlOrBlob === "string" ? d.urlOrBlob : await d.urlOrBlob.text();
  // Hide Node from the module so that it takes its web-worker path.
  const factory = new Function("process", "require", "global", "__dirname", "__filename",
    src + "\nreturn WasmBackendModuleThreadedSimd;")();
  factory(Module);
  const rest = held;
  held = null;
  for (const m of rest) handle(m);
}
parentPort.on("message", (d) => {
  if (held) held.push(d);
  else if (d.cmd === "load") load(d).catch((e) => { err("byel wasm pthread: " + (e && e.stack || e)); throw e; });
  else handle(d);
});
`;

const _realCpus = nodeOs.cpus;
// Emscripten only counts them; a real entry would need --allow-sys=cpus.
const _FAKE_CPU = { model: "", speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };

/** The most useful line of what Emscripten and tfjs said while failing to start. */
function _cause(said: string[]): string {
  const text = said.join("\n");
  const perm = /Requires (\w+) access to "([^"]+)", run again with the (--allow-\w+) flag/.exec(
    text,
  );
  if (perm) {
    const dir = perm[2].replace(/\/[^/]*$/, "");
    return `needs ${perm[1]} access to the tfjs WASM files; run again with ${
      perm[3]
    }=${dir} (or -A)`;
  }
  const line = said.find((l) => /Aborted\(|failed|Error/.test(l)) ?? said[0];
  return line ? line.split("\n")[0].slice(0, 300) : "tf.setBackend('wasm') failed";
}

/** Workers created while the threaded module starts; unreferenced once it has started. */
const _starting: _PthreadWorker[] = [];
let _holdRefs = false;

/**
 * Stands in for `node:worker_threads`' Worker inside Emscripten's pthread pool: ignores the
 * script URL it is given, runs {@link _WORKER_SOURCE}, and defers `unref()` until start-up ends.
 */
class _PthreadWorker {
  readonly #w: NodeWorker;
  // Emscripten assigns these; in its Node mode it dispatches through `on("message")`.
  onmessage: unknown = null;
  onerror: unknown = null;

  constructor(_url: unknown) {
    this.#w = new NodeWorker(_WORKER_SOURCE, { eval: true });
    _starting.push(this);
  }
  on(event: string, fn: (...a: unknown[]) => void): this {
    this.#w.on(event, fn);
    return this;
  }
  postMessage(data: unknown, transfer?: unknown): void {
    // deno-lint-ignore no-explicit-any
    this.#w.postMessage(data, transfer as any);
  }
  terminate(): void {
    void this.#w.terminate();
  }
  ref(): void {
    // Kept referenced only while starting; afterwards the threads just wait on shared memory.
  }
  unref(): void {
    if (!_holdRefs) this.#w.unref();
  }
  /** Lets the process exit while this worker idles. */
  release(): void {
    this.#w.unref();
  }
}

/**
 * Starts the WASM backend (`tf.setBackend("wasm")`) with the given build.
 *
 * @param opts `simd` and `threads` (> 1 selects the threaded-SIMD build)
 * @returns what actually runs (threads as reported by the C++ side)
 * @throws Error when the backend fails to start or does not start within `timeoutMs`
 */
export async function startWasm(
  opts: { simd: boolean; threads: number; timeoutMs?: number },
): Promise<WasmStart> {
  const threaded = opts.simd && opts.threads > 1;
  const threads = Math.max(1, Math.min(MAX_WASM_THREADS, Math.floor(opts.threads)));
  tf.env().set("WASM_HAS_SIMD_SUPPORT", opts.simd);
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", threaded);
  tfwasm.setThreadsCount(threaded ? threads : 1);
  const saved = Object.getOwnPropertyDescriptor(globalThis, "Worker");
  if (threaded) {
    // Emscripten assigns `globalThis.Worker = worker_threads.Worker` and then calls
    // `new Worker(...)`; the accessor makes that assignment a no-op and hands it our class.
    Object.defineProperty(globalThis, "Worker", {
      configurable: true,
      get: () => _PthreadWorker,
      set: () => {},
    });
    _holdRefs = true;
    // deno-lint-ignore no-explicit-any
    (nodeOs as any).cpus = () => Array.from({ length: 2 * threads }, () => _FAKE_CPU);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Emscripten and tfjs report a failed start through console.error/warn in several lines; we
  // keep them out of the user's terminal and turn the cause into the thrown message.
  const said: string[] = [];
  const { warn, error } = console;
  console.warn = console.error = (...a: unknown[]) => void said.push(a.map(String).join(" "));
  // The threaded build prints with fs.writeSync(2, …) (thread-safe), not through console.
  const writeSync = nodeFs.writeSync;
  // deno-lint-ignore no-explicit-any
  (nodeFs as any).writeSync = (fd: number, data: unknown, ...rest: unknown[]) => {
    if (fd === 2 && typeof data === "string") return void said.push(data);
    // deno-lint-ignore no-explicit-any
    return (writeSync as any)(fd, data, ...rest);
  };
  try {
    const started = tf.setBackend("wasm");
    const timeout = new Promise<boolean>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`did not start within ${(opts.timeoutMs ?? 30000) / 1000} s`)),
        opts.timeoutMs ?? 30000,
      );
    });
    const ok = await Promise.race([started, timeout]);
    if (!ok) throw new Error(_cause(said));
  } finally {
    clearTimeout(timer);
    console.warn = warn;
    console.error = error;
    // deno-lint-ignore no-explicit-any
    (nodeFs as any).writeSync = writeSync;
    if (threaded) {
      if (saved) Object.defineProperty(globalThis, "Worker", saved);
      else delete (globalThis as { Worker?: unknown }).Worker;
      _holdRefs = false;
      // deno-lint-ignore no-explicit-any
      (nodeOs as any).cpus = _realCpus;
      for (const w of _starting.splice(0)) w.release();
    }
  }
  const running = tfwasm.getThreadsCount();
  // byel's own SIMD kernels get as many threads as XNNPACK (workers on the same memory).
  setSimdThreads(threaded ? running : 1, _spawnSimdWorker);
  return { simd: opts.simd, threads: running };
}

/** Starts a worker for byel's SIMD kernels (see `kernels/simd_pool.ts`). */
function _spawnSimdWorker(source: string): NodeWorker {
  return new NodeWorker(source, { eval: true });
}
