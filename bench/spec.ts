/**
 * The configs the benchmark times, and the part of each that the PyTorch reference needs to
 * build the same step (its {@link BenchSpec}).
 *
 * - The `quick` rows (`byel/quick`, `supervised/quick`, `inference/quick`) time the `QUICK`
 *   preset of `src/config.ts` as it is at run time (optionally with `--set path=value`
 *   overrides, to time a preset change before it lands): its network, batches, heads,
 *   optimizers and augmentations.
 * - The `r18` rows (`kind/r18-w<width>/<size>`) time a ResNet-18 of a given width and input
 *   size with the quick preset's training settings and one batch size for both stages.
 *
 * byel's side builds its steps from the {@link Config}; the reference gets the spec of the
 * quick rows as JSON (`--quick-json`) and derives the r18 rows' specs from it the same way
 * {@link r18Config} does. Each side reports the spec of every row it timed, and
 * `bench/compare.ts` leaves the ratio of a row out when the two differ, so a stale reference
 * can never be compared with a different step.
 *
 * Run it to print the quick spec: `deno run bench/spec.ts [--set arch.family=vgg ...]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  applyOverrides,
  type ArchConfig,
  type Config,
  type FinetuneConfig,
  QUICK,
  validateConfig,
} from "../src/config.ts";
import { UserError } from "../src/errors.ts";

/**
 * The settings of one stage that a benchmarked step depends on: the fields both stages' configs
 * share (`batch` counts pairs of views for BYEL; `augment` is each view's).
 */
export type StageSpec = Pick<
  FinetuneConfig,
  "batch" | "microBatch" | "optimizer" | "lr" | "weightDecay" | "momentum" | "augment"
>;

/** Everything the reference needs to build the steps of a config. */
export interface BenchSpec {
  arch: ArchConfig;
  pretrain: StageSpec & {
    trust: number;
    emaDecay: number;
    hidden: number;
    projectionDim: number;
    lossWeights: { byol: number; cls: number; orth: number };
  };
  finetune: StageSpec & { dropout: number };
}

/**
 * The reference's view of a config.
 *
 * @param cfg a benchmarked config (e.g. {@link quickConfig}'s)
 * @returns its spec (plain JSON)
 * @example
 * ```ts
 * const spec = benchSpec(QUICK);
 * spec.pretrain.batch === QUICK.pretrain.batch; // true
 * ```
 */
export function benchSpec(cfg: Config): BenchSpec {
  const stage = (s: Config["pretrain"] | Config["finetune"]): StageSpec => ({
    batch: s.batch,
    microBatch: s.microBatch,
    optimizer: s.optimizer,
    lr: s.lr,
    weightDecay: s.weightDecay,
    momentum: s.momentum,
    augment: structuredClone(s.augment),
  });
  const p = cfg.pretrain;
  return {
    arch: { ...cfg.arch },
    pretrain: {
      ...stage(p),
      trust: p.trust,
      emaDecay: p.emaDecay,
      hidden: p.hidden,
      projectionDim: p.projectionDim,
      lossWeights: { ...p.lossWeights },
    },
    finetune: { ...stage(cfg.finetune), dropout: cfg.finetune.dropout },
  };
}

/**
 * The quick preset as the benchmark times it: `QUICK` with `overrides`, validated.
 *
 * @param overrides `path=value` strings, as `--set` takes them @default none
 * @param base the preset @default QUICK
 * @returns the config of the quick rows
 * @throws UserError on a malformed override or an invalid value
 */
export function quickConfig(overrides: string[] = [], base: Config = QUICK): Config {
  const pairs: Record<string, string> = {};
  for (const o of overrides) {
    const at = o.indexOf("=");
    if (at <= 0) throw new UserError(`--set ${JSON.stringify(o)}: expected path=value`);
    pairs[o.slice(0, at)] = o.slice(at + 1);
  }
  return validateConfig(applyOverrides(base, pairs));
}

/**
 * The config of an r18 row: `base`'s training settings on a ResNet-18 (ImageNet stem,
 * BatchNorm, ImageNet input normalisation) of `width` at `inputSize`, `batch` images per step
 * in both stages, one pass per step. bench/reference_torch.py derives its r18 rows the same way.
 *
 * @param base the quick rows' config
 * @param opts the row's width, input size and batch
 * @returns the row's config
 */
export function r18Config(
  base: Config,
  opts: { width: number; inputSize: number; batch: number },
): Config {
  return {
    ...base,
    arch: {
      family: "resnet",
      depth: 18,
      width: opts.width,
      stem: "imagenet",
      inputSize: opts.inputSize,
      inputNorm: "imagenet",
      norm: "batch",
    },
    pretrain: { ...base.pretrain, batch: opts.batch, microBatch: 0 },
    finetune: { ...base.finetune, batch: opts.batch, microBatch: 0 },
  };
}

/**
 * A JSON text with the keys of every object sorted, so that two specs compare equal exactly
 * when they hold the same values (whichever side wrote them).
 *
 * @param v any JSON value
 * @returns its canonical JSON
 */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${
      Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")
    }}`;
  }
  return JSON.stringify(v);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { set: { type: "string", multiple: true, default: [] } },
  });
  console.log(JSON.stringify(benchSpec(quickConfig(values.set))));
}
