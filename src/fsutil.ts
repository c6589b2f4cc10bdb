/**
 * Small file helpers: every write goes to a temporary name and is renamed into place, so an
 * interrupted run never leaves a half-written file behind.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { UserError } from "./errors.ts";

/**
 * Writes `data` to `path` atomically (temporary file in the same folder, then rename).
 *
 * @param path destination file
 * @param data bytes or text to write
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Whether a path exists (without throwing on a missing file).
 *
 * @param path file or folder
 * @returns true when `Deno.stat` succeeds
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** @returns whether `s` is an http(s) URL */
export function isHttpUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

/**
 * Reads a whole file from a path, a `file:` URL or an http(s) URL.
 *
 * @param pathOrUrl where to read
 * @returns its bytes
 * @throws UserError naming the file when it does not exist or the server refuses it
 */
export async function readBytes(pathOrUrl: string | URL): Promise<Uint8Array> {
  const s = String(pathOrUrl);
  if (isHttpUrl(s)) {
    const r = await fetch(s);
    if (!r.ok) throw new UserError(`cannot fetch ${s}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  }
  const path = s.startsWith("file:") ? fileURLToPath(s) : s;
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UserError(`no such file: ${path}`);
    throw e;
  }
}

/** @returns the byte arrays laid end to end in one new array @param parts byte arrays */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}
