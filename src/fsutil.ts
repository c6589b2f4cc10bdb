/**
 * Small file helpers: every write goes to a temporary name and is renamed into place, so an
 * interrupted run never leaves a half-written file behind.
 *
 * @module
 */

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
