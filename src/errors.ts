/**
 * Errors meant for a person: the CLI prints their message as one line, never a stack trace.
 *
 * @module
 */

/** A problem with the user's input or environment, with a message that names the fix. */
export class UserError extends Error {
  /** @param message one line: what is wrong (quoting the value or file) and how to fix it */
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
    const what = m[2].replace(/^"|"$/g, "").replace(/\.tmp-\d+-[0-9a-f]+$/, "");
    return `permission denied: ${m[1]} access to ${what}; run again with ${m[3]}=${what} ` +
      `(or a folder above it), or -A`;
  }
  return `permission denied: ${err.message.split("\n")[0]}`;
}
