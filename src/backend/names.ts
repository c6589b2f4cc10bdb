/**
 * The backend names, in one place (no imports, so the config and the CLI can name them without
 * loading tfjs).
 *
 * @module
 */

/** The backends byel can be asked for: a name, or `auto` (see `selectBackend`). */
export const BACKENDS = ["auto", "webgpu", "wasm", "cpu"] as const;
/** A backend request: a name or `auto`. */
export type BackendRequest = typeof BACKENDS[number];
/** A backend that runs: what `auto` resolves to. */
export type BackendName = Exclude<BackendRequest, "auto">;
