/**
 * The web page's server (`cli.ts serve`): the page, its script (byel's own code bundled for the
 * browser by `deno bundle`, built when the server starts), a sample image, the model, the face
 * models and tfjs's WebAssembly files, all from this checkout: no CDN, so the page works
 * offline. It binds 127.0.0.1 unless told otherwise and serves only those files.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { ensureDir } from "../fsutil.ts";
import { SHIPPED_MODEL } from "../model/io.ts";

/** What {@link serveWeb} needs. */
export interface ServeOptions {
  /** Port. @default 8000 */
  port?: number;
  /** Interface to bind. @default "127.0.0.1" */
  hostname?: string;
  /** The model folder served as `/models/shipped/`. @default the shipped model */
  model?: string;
  /** Where the bundled script is written. @default runs/web */
  buildDir?: string;
  /** Progress lines. @default console.log */
  log?: (line: string) => void;
}

/** A running server. */
export interface WebServer {
  /** The page's address, e.g. `http://127.0.0.1:8000/`. */
  url: string;
  /** Stops it. */
  shutdown(): Promise<void>;
}

const _ROOT = new URL("../../", import.meta.url);
const _TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json",
  png: "image/png",
  bin: "application/octet-stream",
  wasm: "application/wasm",
};

/** @returns a path under the checkout's root */
function _at(rel: string): string {
  return decodeURIComponent(new URL(rel, _ROOT).pathname);
}

/**
 * Bundles `web/main.ts` for the browser into `dir/app.js` (with `deno bundle`).
 *
 * @param dir output folder
 * @returns the bundle's path
 * @throws UserError when the bundler fails
 */
export async function buildWebBundle(dir: string): Promise<string> {
  await ensureDir(dir, "--build-dir");
  const out = `${dir}/app.js`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "browser", "-o", out, _at("web/main.ts")],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) {
    const why = new TextDecoder().decode(r.stderr).split("\n").filter((l) => l.trim()).pop();
    throw new UserError(
      `could not bundle the page's script (deno bundle: ${why}); check the checkout`,
    );
  }
  return out;
}

/**
 * Starts the page's server.
 *
 * @param opts port, hostname, model, build folder
 * @returns its address and how to stop it
 * @example
 * ```ts
 * const server = await serveWeb({ port: 8000 });
 * console.log(`open ${server.url}`);
 * ```
 */
export async function serveWeb(opts: ServeOptions = {}): Promise<WebServer> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const model = (opts.model ?? SHIPPED_MODEL).replace(/\/+$/, "");
  for (const f of ["model.json", "weights.bin"]) {
    await Deno.stat(`${model}/${f}`).catch(() => {
      throw new UserError(`--model ${model}: no ${f} there; pass a model folder written by train`);
    });
  }
  log("building the page's script (deno bundle)…");
  const bundle = await buildWebBundle(opts.buildDir ?? "runs/web");
  // URL path -> file. Nothing else is served.
  const files: Record<string, string> = {
    "/": _at("web/index.html"),
    "/index.html": _at("web/index.html"),
    "/app.js": bundle,
    "/sample.png": _at("web/sample.png"),
    "/models/shipped/model.json": `${model}/model.json`,
    "/models/shipped/weights.bin": `${model}/weights.bin`,
  };
  for (
    const f of [
      "facemesh-detection-short.json",
      "facemesh-detection-short.bin",
      "facemesh.json",
      "facemesh.bin",
    ]
  ) {
    files[`/models/face/${f}`] = _at(`models/face/${f}`);
  }
  for (
    const f of [
      "tfjs-backend-wasm.wasm",
      "tfjs-backend-wasm-simd.wasm",
      "tfjs-backend-wasm-threaded-simd.wasm",
    ]
  ) {
    files[`/tfjs-wasm/${f}`] = _at(`node_modules/@tensorflow/tfjs-backend-wasm/dist/${f}`);
  }
  const hostname = opts.hostname ?? "127.0.0.1";
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({ port: opts.port ?? 8000, hostname, onListen: () => {} }, async (req) => {
      const path = new URL(req.url).pathname;
      const file = files[path];
      if (!file || req.method !== "GET") return new Response("not found", { status: 404 });
      try {
        const body = await Deno.readFile(file);
        const type = _TYPES[file.split(".").pop()!] ?? "application/octet-stream";
        return new Response(body, {
          headers: { "content-type": type, "cache-control": "no-store" },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new UserError(
        `port ${opts.port ?? 8000} on ${hostname} is in use; pass another --port`,
      );
    }
    throw e;
  }
  const url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${server.addr.port}/`;
  return { url, shutdown: () => server.shutdown() };
}
