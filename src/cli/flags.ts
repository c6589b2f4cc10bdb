/**
 * Shared flag handling of the training commands: every config field is a flag named by its
 * dotted path (`--pretrain.lr 0.5`, `--arch.width 0.5`, `--finetune.augment.cropScale 0.3,1`),
 * plus the short forms `--method`, `--seed`, `--backend`, `--data`, `--val`, `--balance`.
 *
 * @module
 */
import { type Config, flattenConfig, PRESETS, resolveConfig } from "../config.ts";
import { estimateStepBytes, maxMicroBatch, WASM_STEP_LIMIT_BYTES } from "../backend/memory.ts";
import { UserError } from "../errors.ts";

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

/**
 * Refuses, before training, a (micro-)batch whose step would not fit the 4 GiB WASM heap, and
 * names the micro-batch that would (gradient accumulation keeps the effective batch).
 *
 * @param cfg run config @param backend the active backend name
 */
export function checkWasmMemory(cfg: Config, backend: string): void {
  if (backend !== "wasm") return;
  for (const stage of ["pretrain", "finetune"] as const) {
    const s = cfg[stage];
    const micro = s.microBatch > 0 ? s.microBatch : s.batch;
    const step = {
      imageSize: cfg.arch.inputSize,
      depth: cfg.arch.depth,
      widthMultiplier: cfg.arch.width,
      stem: cfg.arch.stem,
      views: stage === "pretrain" ? 2 : 1,
    };
    const bytes = estimateStepBytes({ ...step, batch: micro });
    if (bytes > WASM_STEP_LIMIT_BYTES) {
      const fit = maxMicroBatch(step);
      throw new UserError(
        `${stage} micro-batch ${micro} needs ~${
          (bytes / 1024 ** 3).toFixed(1)
        } GiB, more than the WASM heap allows ` +
          `(${(WASM_STEP_LIMIT_BYTES / 1024 ** 3).toFixed(1)} GiB); pass --${stage}.microBatch ${
            fit > 0 ? fit : 1
          } ` +
          `(a divisor of --${stage}.batch ${s.batch}) to accumulate gradients instead`,
      );
    }
  }
}
