/**
 * `info`: which backend byel would train on here, and why; the WebGPU adapter, SIMD, threads,
 * and the tfjs and Deno versions.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  type BackendRequest,
  BACKENDS,
  describeBackend,
  selectBackend,
} from "../backend/select.ts";
import { UserError } from "../errors.ts";
import { VERSION } from "../version.ts";
import type { Command } from "./command.ts";

const usage = `usage: deno run -A cli.ts info [--json] [--backend NAME] [--threads N]

Starts the backend byel would use and reports it.

  --json          print one JSON object instead of lines
  --backend NAME  auto (default), webgpu, wasm, cpu
  --threads N     WASM threads (default: logical cores, at most 8)`;

/** The `info` command. */
export const command: Command = {
  name: "info",
  summary: "show the backend (and why), WebGPU adapter, SIMD, threads, versions",
  usage,
  async run(args: string[]): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        json: { type: "boolean" },
        backend: { type: "string" },
        threads: { type: "string" },
      },
      strict: true,
    });
    const backend = (values.backend ?? "auto") as BackendRequest;
    if (!BACKENDS.includes(backend)) {
      throw new UserError(
        `--backend ${backend} is not allowed: expected one of ${BACKENDS.join(", ")}`,
      );
    }
    const threads = values.threads === undefined ? undefined : Number(values.threads);
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
      throw new UserError(`--threads ${values.threads} is not allowed: expected an integer >= 1`);
    }
    const info = await selectBackend({ backend, threads });
    const report = {
      byel: VERSION,
      backend: info.name,
      requested: info.requested,
      skipped: info.skipped,
      simd: info.simd,
      threads: info.threads,
      webgpuAdapter: info.adapter ?? null,
      tfjs: info.tfjs,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
    };
    if (values.json) {
      console.log(JSON.stringify(report));
      return 0;
    }
    const a = info.adapter;
    console.log(
      [
        describeBackend(info),
        `webgpu adapter: ${
          a
            ? `${a.description || a.vendor}${a.isFallback ? " (software, isFallbackAdapter)" : ""}`
            : "none"
        }`,
        `simd: ${info.simd}`,
        `threads: ${info.threads}`,
        `tfjs: ${info.tfjs}`,
        `deno: ${Deno.version.deno} (v8 ${Deno.version.v8})`,
        `byel: ${VERSION}`,
      ].join("\n"),
    );
    return 0;
  },
};
