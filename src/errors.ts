/**
 * Errors meant for a person: the CLI prints their message as one line, never a stack trace.
 *
 * @module
 */

/** A problem with the user's input or environment, with a message that names the fix. */
export class UserError extends Error {
  /**
   * A problem described by one line.
   *
   * @param message one line: what is wrong (quoting the value or file) and how to fix it
   */
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

/**
 * Turns a Deno permission error into a one-line message naming the flag to add.
 *
 * @param err any thrown value
 * @returns a one-line message, or undefined when `err` is not a permission error
 */
export function permissionHint(err: unknown): string | undefined {
  if (!(err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied)) {
    return undefined;
  }
  const m = /Requires (\w+) access to ([^,]+), run again with the (--allow-\w+) flag/.exec(
    err.message,
  );
  if (m) {
    // Name the file the user meant, not the temporary name it is written under first.
    const what = _finalName(m[2].replace(/^"|"$/g, ""));
    return `permission denied: ${m[1]} access to ${what}; run again with ${m[3]}=${what} ` +
      `(or a folder above it), or -A`;
  }
  // The operating system's refusal (not Deno's permissions) is an I/O error.
  if (!(err instanceof Deno.errors.NotCapable)) return undefined;
  return `permission denied: ${err.message.split("\n")[0]}`;
}

/** The final name of a path written under a temporary one (`x.tmp-PID-HEX[/...]` -> `x`). */
function _finalName(path: string): string {
  return path.replace(/\.tmp-\d+-[0-9a-f]+(\.old)?(\/.*)?$/, "");
}

/**
 * Turns a file-system or network failure into one line naming the path or URL and the fix:
 * missing, not a folder, exists, permission, read-only, no space, link loop, refused,
 * unresolvable, timed out. Writes go through temporary names and renames, so the line names
 * the file the user meant and can promise that nothing written before was lost.
 *
 * @param err any thrown value
 * @param where the path or URL, when the error's message does not name it
 * @returns the line, or undefined when `err` is not such a failure
 */
export function ioErrorLine(err: unknown, where?: string): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: string }).code;
  const msg = err.message.split("\n")[0];
  const quoted = [...msg.matchAll(/'([^']+)'/g)].map((m) => m[1]);
  const path = _finalName(where ?? quoted.at(-1) ?? "");
  const named = path || "the file";
  const url = where ?? /\((https?:\/\/[^)\s]+)\)/.exec(String(err.cause ?? ""))?.[1] ??
    /https?:\/\/\S+/.exec(msg)?.[0]?.replace(/[),]+$/, "") ?? "the URL";
  const cause = String((err as { cause?: unknown }).cause ?? "");
  if (err instanceof Deno.errors.NotFound || code === "ENOENT") {
    return `${named}: no such file or folder; check the path`;
  }
  if (err instanceof Deno.errors.NotADirectory || code === "ENOTDIR") {
    return `${named}: part of this path is a file, not a folder; choose another path (e.g. another --out)`;
  }
  if (err instanceof Deno.errors.AlreadyExists || code === "EEXIST") {
    return `${named} already exists and is not a folder; remove it or choose another path`;
  }
  if (err instanceof Deno.errors.IsADirectory || code === "EISDIR") {
    return `${named} is a folder; pass a file`;
  }
  if (code === "EROFS" || /read-only file system/i.test(msg)) {
    return `${named} is on a read-only file system; write somewhere else (e.g. --out runs/NAME)`;
  }
  if (code === "ENOSPC" || /no space left/i.test(msg)) {
    return `no space left on the disk holding ${named}; free some space or write elsewhere, then ` +
      `run again (files written before are intact; a training run continues with --resume)`;
  }
  if (code === "EDQUOT") {
    return `disk quota exceeded writing ${named}; free some space or write elsewhere`;
  }
  if (err instanceof Deno.errors.FilesystemLoop || code === "ELOOP") {
    return `${named}: symbolic links loop; fix or remove the link`;
  }
  if (err instanceof Deno.errors.PermissionDenied || code === "EACCES" || code === "EPERM") {
    return `${named}: permission denied by the system; choose a path you may use (e.g. --out ` +
      `runs/NAME) or change the file's permissions`;
  }
  if (err instanceof Deno.errors.ConnectionRefused || /connection refused/i.test(cause + msg)) {
    return `cannot reach ${url}: the connection was refused (is the server running?); check the URL`;
  }
  if (/dns error|failed to lookup|name or service not known|no address/i.test(cause + msg)) {
    return `cannot reach ${url}: its host name does not resolve; check the URL and the network`;
  }
  if (err instanceof Deno.errors.TimedOut || /timed out/i.test(cause + msg)) {
    return `cannot reach ${url}: the connection timed out; check the URL and the network`;
  }
  if (err instanceof TypeError && /fetch failed|error sending request/i.test(msg + cause)) {
    return `cannot reach ${url}: ${msg}; check the URL and the network`;
  }
  return undefined;
}
