/**
 * What starting a Web Worker from one of byel's own modules needs to know about permissions:
 * whether its module may be read, and whether a failure was Deno refusing a permission (the
 * callers then do the work in the calling thread instead, and say so).
 *
 * @module
 */

/**
 * @param url the worker module's URL
 * @returns whether a `file:` URL may be read without a prompt (other URLs: true, tried as they
 * come)
 */
export function mayLoadWorker(url: string): boolean {
  if (!url.startsWith("file:")) return true;
  const perms = (globalThis as {
    Deno?: { permissions?: { querySync?(d: { name: "read"; path: string }): { state: string } } };
  }).Deno?.permissions;
  if (!perms?.querySync) return true;
  return perms.querySync({ name: "read", path: decodeURIComponent(new URL(url).pathname) })
    .state === "granted";
}

/** @returns whether `e` is Deno refusing a permission (to read or import a worker's module) */
export function isPermissionError(e: unknown): boolean {
  const D = (globalThis as { Deno?: { errors?: Record<string, unknown> } }).Deno?.errors;
  for (const k of ["NotCapable", "PermissionDenied"]) {
    const C = D?.[k] as (new () => Error) | undefined;
    if (C && e instanceof C) return true;
  }
  return /Requires (read|import|net) access|NotCapable|PermissionDenied/.test(
    (e as Error)?.message ?? "",
  );
}
