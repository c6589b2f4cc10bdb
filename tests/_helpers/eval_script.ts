/**
 * Runs a snippet of TypeScript in a fresh Deno process (`deno eval --no-config`): for tests that
 * need a process of their own (threaded WASM, exit behaviour).
 *
 * @module
 */
import assert from "node:assert/strict";

/**
 * @param code module source; its last line of output must be one JSON value
 * @returns that value (the process must exit 0 within a minute)
 */
export async function evalJson(code: string): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", code],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const text = new TextDecoder().decode(out.stdout).trim();
  return JSON.parse(text.split("\n").pop()!);
}

/** @returns the file URL of a repository path, for imports in {@link evalJson} code */
export function repoUrl(path: string): string {
  return new URL(`../../${path}`, import.meta.url).href;
}
