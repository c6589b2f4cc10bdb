/**
 * Small file helpers: every write goes to a temporary name and is renamed into place, so an
 * interrupted run never leaves a half-written file behind.
 *
 * @module
 */
import { ioErrorLine, UserError } from "./errors.ts";

/**
 * The writes every byel file goes through (models, checkpoints, reports, caches' indexes):
 * replaceable so that tests can make a write fail the way a full disk or a read-only file
 * system does, with the error Deno itself throws.
 */
export const fileWriter = {
  /** Writes bytes. @default Deno.writeFile */
  writeFile: (path: string, data: Uint8Array): Promise<void> => Deno.writeFile(path, data),
  /** Writes text. @default Deno.writeTextFile */
  writeTextFile: (path: string, text: string): Promise<void> => Deno.writeTextFile(path, text),
};

/**
 * Writes `data` to `path` atomically (temporary file in the same folder, then rename).
 *
 * @param path destination file
 * @param data bytes or text to write
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    if (typeof data === "string") await fileWriter.writeTextFile(tmp, data);
    else await fileWriter.writeFile(tmp, data);
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
    let r: Response;
    try {
      r = await fetch(s);
    } catch (e) {
      throw new UserError(ioErrorLine(e, s) ?? `cannot fetch ${s}: ${(e as Error).message}`);
    }
    if (!r.ok) {
      await r.body?.cancel();
      throw new UserError(`cannot fetch ${s}: HTTP ${r.status} ${r.statusText}; check the URL`);
    }
    return new Uint8Array(await r.arrayBuffer());
  }
  const path = s.startsWith("file:") ? decodeURIComponent(new URL(s).pathname) : s;
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

/**
 * Makes sure `dir` is a folder to write into (creating it and its parents), with one clear
 * line when it cannot be.
 *
 * @param dir the output folder (`--out`)
 * @param flag the flag that named it, for the message @default "--out"
 * @throws UserError when `dir` (or a part of it) is a file, or cannot be created
 */
export async function ensureDir(dir: string, flag = "--out"): Promise<void> {
  try {
    const st = await Deno.stat(dir);
    if (!st.isDirectory) {
      throw new UserError(
        `${flag} ${dir} is a file, not a folder; choose another ${flag} or remove it`,
      );
    }
    return;
  } catch (e) {
    if (e instanceof UserError) throw e;
    // No read permission for the folder: mkdir below asks for the write permission that an
    // output folder needs (and names that flag when it is missing too).
    if (!(e instanceof Deno.errors.NotFound) && !(e instanceof Deno.errors.NotCapable)) {
      throw new UserError(ioErrorLine(e, dir) ?? `${flag} ${dir}: ${(e as Error).message}`);
    }
  }
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (e) {
    const line = ioErrorLine(e);
    if (!line || e instanceof Deno.errors.NotCapable) throw e;
    throw new UserError(line);
  }
}
