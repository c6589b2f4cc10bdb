/**
 * `mod.ts` must work when imported from a URL by a user who has none of this repository's
 * config: serve the repository over HTTP on 127.0.0.1, import it in a fresh `deno` process
 * started with `--no-config` in an empty folder, start the WASM backend and run an op.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".js": "application/javascript; charset=utf-8",
  ".json": "application/json",
};

/** Where Deno keeps npm packages on this machine (`deno info --json`'s `npmCache`). */
async function npmCache(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
    .output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).npmCache;
}

Deno.test("mod.ts imported from an http URL with no config starts wasm with read access to its .wasm files only, and its face worker", async () => {
  const wasmDir = join(
    await npmCache(),
    "registry.npmjs.org/@tensorflow/tfjs-backend-wasm/4.22.0/dist",
  );
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      if (path.includes("..")) return new Response("no", { status: 400 });
      try {
        const body = await Deno.readFile(join(ROOT, path));
        const ext = path.slice(path.lastIndexOf("."));
        return new Response(body, { headers: { "content-type": TYPES[ext] ?? "text/plain" } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const { port } = server.addr as Deno.NetAddr;
  const dir = await Deno.makeTempDir({ prefix: "byel-url-" });
  try {
    const script = `
      import { EMOTIONS, FaceStage, selectBackend, TFJS_VERSION } from "http://127.0.0.1:${port}/mod.ts";
      import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
      if (TFJS_VERSION !== "4.22.0") throw new Error("TFJS_VERSION " + TFJS_VERSION);
      const info = await selectBackend({ backend: "wasm" });
      const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]]));
      const stage = await FaceStage.load();
      const [face] = await stage.faces({ width: 40, height: 40, data: new Uint8Array(4800) }, { size: 16 });
      stage.dispose();
      console.error(stage.where);
      console.log(JSON.stringify({ n: EMOTIONS.length, backend: info.name, y: Array.from(y.dataSync()), face: face.source }));
    `;
    await Deno.writeTextFile(join(dir, "main.ts"), script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-config",
        "--no-lock",
        "--quiet",
        `--allow-import=127.0.0.1:${port}`,
        `--allow-read=${wasmDir}`,
        `--allow-net=127.0.0.1:${port}`, // the face models, fetched beside mod.ts
        "main.ts",
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `child failed:\n${stderr}`);
    const last = JSON.parse(stdout.trim().split("\n").at(-1)!);
    assert.deepEqual(last, { n: 6, backend: "wasm", y: [17, 39], face: "fallback" });
    assert.match(stderr, /^worker \(wasm, \d threads?\)$/m); // the face worker loads from the URL
  } finally {
    ac.abort();
    await server.finished;
    await Deno.remove(dir, { recursive: true });
  }
});
