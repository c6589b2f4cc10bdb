/**
 * Ensembles: several networks of one architecture (typically the same preset trained with
 * different seeds) read as one classifier whose probabilities are the mean of theirs. On byel's
 * synthetic-to-real transfer an ensemble of three seeds scored above the mean of its members
 * on both real-photo dev sets in eleven of twelve groups of seeds (by about 0.015 macro F1 on
 * average; see the README's results). It costs one forward pass per network.
 *
 * `buildEnsemble` joins trained model folders into one model folder (`cli.ts ensemble`); the
 * format is {@link saveModel}'s (`members: N`, weights `member<i>.*`), so `load()`, `eval`,
 * `predict`, `devscore`, `--adapt` and the web page read it like a single network.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { ArchConfig } from "../config.ts";
import { UserError } from "../errors.ts";
import type { LogitsFn } from "../eval/tta.ts";
import { loadModelParams, type MemberMetadata, type ModelMetadata, saveModel } from "./io.ts";
import { classifierForward } from "./networks.ts";
import type { Params } from "./params.ts";
import type { Tensor2D, Tensor4D } from "../tensors.ts";
import { VERSION } from "../version.ts";

/**
 * The logits of the mean of several classifiers' probabilities: `log(mean_m softmax(z_m))`, so
 * that `softmax` of the result is exactly that mean (it already sums to one). With one input it
 * returns that input unchanged.
 *
 * @param logits one `[B, C]` tensor per network (not disposed)
 * @returns `[B, C]` logits
 */
export function meanProbabilityLogits(logits: readonly Tensor2D[]): Tensor2D {
  if (logits.length === 0) throw new Error("meanProbabilityLogits: no logits");
  if (logits.length === 1) return logits[0].clone();
  return tf.tidy(() => {
    const lp = tf.stack(logits.map((z) => tf.logSoftmax(z))); // [M, B, C]
    return tf.sub(tf.logSumExp(lp, 0), Math.log(logits.length)) as Tensor2D; // [B, C]
  });
}

/**
 * The classifier function of one network or an ensemble, in evaluation mode.
 *
 * @param members one record (`encoder.*` + `head.*`) per network
 * @param arch their shared architecture
 * @returns `x [B, S, S, 3]` (normalised) -> `[B, 6]` logits
 */
export function ensembleLogits(members: readonly Params[], arch: ArchConfig): LogitsFn {
  const one = (p: Params, x: Tensor4D) => classifierForward(p, x, { arch, ctx: { train: false } }); // [B, 6]
  if (members.length === 1) return (x) => one(members[0], x);
  return (x) => tf.tidy(() => meanProbabilityLogits(members.map((p) => one(p, x))));
}

/**
 * A short description of a model for logs: its method, and for an ensemble how many networks
 * and their seeds (`baseline, ensemble of 3: seeds 0, 1, 2`).
 *
 * @param metadata the model's metadata
 * @returns the description
 */
export function describeModel(metadata: ModelMetadata): string {
  const m = metadata.members;
  if (!m || m.length < 2) return metadata.method;
  return `${metadata.method}, ensemble of ${m.length}: seeds ${m.map((x) => x.seed).join(", ")}`;
}

/**
 * Joins trained models of one architecture into one ensemble model folder. Reads only the
 * given folders (or URLs) and writes only `out` (through a temporary folder renamed into place).
 * A model that is itself an ensemble contributes all of its networks.
 *
 * @param sources model folders or URLs, two or more networks in all
 * @param out the ensemble's folder
 * @param opts `float16` stores the weights as half floats
 * @returns the ensemble's metadata
 */
export async function buildEnsemble(
  sources: readonly string[],
  out: string,
  opts: { float16?: boolean } = {},
): Promise<ModelMetadata> {
  const loaded: Awaited<ReturnType<typeof loadModelParams>>[] = [];
  try {
    for (const src of sources) {
      const m = await loadModelParams(src);
      loaded.push(m);
      const arch = loaded[0].arch;
      if (JSON.stringify(_sorted(m.arch)) !== JSON.stringify(_sorted(arch))) {
        throw new UserError(
          `${src}: its network (${_archLine(m.arch)}) is not ${sources[0]}'s ` +
            `(${_archLine(arch)}); an ensemble needs one architecture: give models ` +
            `trained with the same preset`,
        );
      }
    }
    const members = loaded.flatMap((m) => m.members);
    if (members.length < 2) {
      throw new UserError(
        `an ensemble needs two or more networks, got ${members.length} (${sources.join(", ")}); ` +
          `give the model folders of several training runs`,
      );
    }
    const info: MemberMetadata[] = loaded.flatMap((m, i) =>
      m.metadata.members?.map((x) => ({ ...x, from: `${sources[i]} (${x.from})` })) ??
        [_member(m.metadata, sources[i])]
    );
    // The first network's config, data and backend describe the ensemble (the networks share
    // the architecture; their seeds, times and metrics are per network, under `members`).
    const { metrics: _m, step: _s, trainSeconds: _t, ...shared } = loaded[0].metadata;
    const metadata: ModelMetadata = {
      ...shared,
      method: [...new Set(info.map((x) => x.method))].join("+"),
      version: VERSION,
      members: info,
    };
    await saveModel(out, members, { arch: loaded[0].arch, metadata, float16: opts.float16 });
    return metadata;
  } finally {
    for (const m of loaded) for (const p of m.members) p.dispose();
  }
}

/** @returns what an ensemble records of one network @param m its metadata @param from its source */
function _member(m: ModelMetadata, from: string): MemberMetadata {
  const out: MemberMetadata = { seed: m.seed, from, method: m.method, version: m.version };
  if (m.metrics) out.metrics = m.metrics;
  if (typeof m.trainSeconds === "number") out.trainSeconds = m.trainSeconds;
  if (typeof m.step === "number") out.step = m.step;
  return out;
}

/** @returns a copy of an object with its keys sorted (for comparing architectures) */
function _sorted(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

/** @returns an architecture in a few words */
function _archLine(a: ArchConfig): string {
  return `${a.family} x${a.width} at ${a.inputSize} px, ${a.inputNorm} input`;
}
