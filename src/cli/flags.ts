/**
 * Shared flag handling of the training commands: every config field is a flag named by its
 * dotted path (`--pretrain.lr 0.5`, `--arch.width 0.5`, `--finetune.augment.cropScale 0.3,1`),
 * plus the short forms `--method`, `--seed`, `--backend`, `--data`, `--val`, `--balance`.
 *
 * @module
 */
import { type Config, flattenConfig, PRESETS, resolveConfig } from "../config.ts";

/** parseArgs option table for every config field. */
export function configFlagOptions(): Record<string, { type: "string" | "boolean" }> {
  const out: Record<string, { type: "string" | "boolean" }> = {};
  for (const [path, v] of flattenConfig(PRESETS.quick)) {
    out[path] = { type: typeof v === "boolean" ? "boolean" : "string" };
  }
  out.data = { type: "string" };
  out.val = { type: "string" };
  out.balance = { type: "string" };
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
