/**
 * Shared flag handling of the training commands: every config field is a flag named by its
 * dotted path (`--pretrain.lr 0.5`, `--arch.width 0.5`, `--finetune.augment.cropScale 0.3,1`),
 * plus the short forms `--method`, `--seed`, `--backend`, `--data`, `--val`, `--balance`,
 * `--face`.
 *
 * @module
 */
import { type Config, flattenConfig, PRESETS, resolveConfig } from "../config.ts";
import { type BackendRequest, BACKENDS } from "../backend/names.ts";
import { UserError } from "../errors.ts";
import { SHIPPED_MODEL } from "../model/io.ts";

/** parseArgs option table for every config field. */
export function configFlagOptions(): Record<string, { type: "string" | "boolean" }> {
  const out: Record<string, { type: "string" | "boolean" }> = {};
  for (const [path, v] of flattenConfig(PRESETS.quick)) {
    out[path] = { type: typeof v === "boolean" ? "boolean" : "string" };
  }
  out.data = { type: "string" };
  out.val = { type: "string" };
  out.balance = { type: "string" };
  out.face = { type: "string" };
  return out;
}

/**
 * Turns parsed flag values into a validated config.
 *
 * @param values parseArgs values
 * @returns the config and the overrides that produced it
 */
export function configFromFlags(
  values: Record<string, unknown>,
): { config: Config; overrides: Record<string, string> } {
  const overrides: Record<string, string> = {};
  const paths = new Set(flattenConfig(PRESETS.quick).keys());
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    if (k === "data") overrides["data.train"] = String(v);
    else if (k === "val") overrides["data.val"] = String(v);
    else if (k === "balance") overrides["data.balance"] = String(v);
    else if (k === "face") overrides["data.face"] = String(v);
    else if (paths.has(k)) overrides[k] = String(v);
  }
  const preset = (values.preset as string | undefined) ?? "quick";
  return { config: resolveConfig(preset, overrides), overrides };
}

/** Usage lines listing every config flag with its `quick` default. */
export function configFlagHelp(): string {
  return [...flattenConfig(PRESETS.quick)].map(([k, v]) =>
    `  --${k.padEnd(34)} ${Array.isArray(v) ? v.join(",") : String(v)}`
  ).join("\n");
}

/**
 * Parses an integer flag, once for every command.
 *
 * @param name the flag, without dashes @param raw its value, or undefined when not given
 * @param opts `min` (inclusive), `max` @default Infinity, `default` when not given
 * @returns the integer
 * @throws UserError quoting the value and the allowed range
 */
export function intFlag(
  name: string,
  raw: string | undefined,
  opts: { min: number; max?: number; default: number },
): number {
  if (raw === undefined) return opts.default;
  const v = Number(raw);
  const max = opts.max ?? Infinity;
  if (!(raw.trim() !== "" && Number.isInteger(v) && v >= opts.min && v <= max)) {
    const range = max === Infinity ? `>= ${opts.min}` : `in ${opts.min}..${max}`;
    throw new UserError(`--${name} ${raw} is not allowed: expected an integer ${range}`);
  }
  return v;
}

/**
 * Checks a `--backend` value.
 *
 * @param raw the value, or undefined for `auto`
 * @returns the request
 * @throws UserError naming the allowed values
 */
export function backendFlag(raw: string | undefined): BackendRequest {
  const v = raw ?? "auto";
  if (!(BACKENDS as readonly string[]).includes(v)) {
    throw new UserError(`--backend ${v} is not allowed: expected one of ${BACKENDS.join(", ")}`);
  }
  return v as BackendRequest;
}

/**
 * `--model`: the given model folder or URL, else the shipped one.
 *
 * @param raw the flag's value, if given
 * @returns a model path or URL
 */
export function modelFlag(raw: string | undefined): string {
  return raw ?? SHIPPED_MODEL;
}

/** The help line of `--model`, shared by the commands that read a model. */
export const MODEL_FLAG_HELP =
  "  --model DIR|URL   a model folder (model.json + weights.bin) or its http(s) URL\n" +
  "                    (default: the shipped model, models/byel-quick)";
