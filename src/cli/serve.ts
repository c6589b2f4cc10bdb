/**
 * `serve`: the web page that runs the model in the browser (see `src/web/server.ts`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { serveWeb } from "../web/server.ts";
import type { Command } from "./command.ts";
import { intFlag } from "./flags.ts";

const usage = `usage: deno task serve [--port 8000] [--host 127.0.0.1] [--model DIR]

Serves a page that reads facial expressions in the browser: drop or pick a photo, or allow the
webcam; every face gets a box and the six class probabilities. It runs byel's own code with
tfjs in the page (WebGPU where the browser has it, else WebAssembly, and it says which), with
every file served from this checkout (no CDN). Open /?sample to classify the bundled sample
image, /?model=URL for another model folder. Ctrl-C stops it.

  --port N       port (default 8000)
  --host NAME    interface to bind (default 127.0.0.1: this machine only)
  --model DIR    the model to serve (default the shipped one)`;

/** The `serve` command. */
export const command: Command = {
  name: "serve",
  summary: "serve a web page that runs the model in the browser",
  usage,
  async run(args: string[]): Promise<number> {
    const { values } = parseArgs({
      args,
      options: { port: { type: "string" }, host: { type: "string" }, model: { type: "string" } },
      strict: true,
    });
    const server = await serveWeb({
      port: intFlag("port", values.port, { min: 0, max: 65535, default: 8000 }),
      hostname: values.host ?? "127.0.0.1",
      model: values.model,
    });
    console.log(`byel page at ${server.url} (and ${server.url}?sample); Ctrl-C stops it`);
    await new Promise(() => {}); // until Ctrl-C
    return 0;
  },
};
