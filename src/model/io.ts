/**
 * Models and checkpoints on disk. A model is a directory holding `model.json` (tfjs's
 * weights-manifest format: `modelTopology`, `weightsManifest`, `userDefinedMetadata` with the
 * resolved config, method, backend, seed, metrics and code version) and `weights.bin`. Writes go
 * through a Deno file IO handler into a temporary directory that is renamed into place; loads
 * work from a path or an http(s) URL.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { ArchConfig, Config } from "../config.ts";
import { EMOTIONS } from "../emotions.ts";
import { UserError } from "../errors.ts";
import { concatBytes, exists, fileWriter, isHttpUrl, readBytes } from "../fsutil.ts";
import { VERSION } from "../version.ts";
import { Params } from "./params.ts";
import { NET } from "./networks.ts";
import type { Tensor } from "../tensors.ts";

/** JSON metadata as tfjs types it (any non-null values). */
export type JsonRecord = Record<string, NonNullable<unknown>>;

/** The JSON written beside the weights. */
export interface ModelJson {
  format: string;
  generatedBy: string;
  convertedBy: null;
  modelTopology: JsonRecord;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata: JsonRecord;
}

/** @returns IEEE half-precision bits of `x` (round to nearest even) */
function _toHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  e = h; // carry into the exponent is the correct rounding
  return sign | e;
}

/**
 * A tfjs IOHandler that writes `model.json` + `weights.bin` into a directory through a
 * temporary sibling renamed into place, and reads them back.
 *
 * @param dir target directory
 * @returns an IOHandler (`save` and `load`)
 */
export function denoFileHandler(dir: string): Required<Pick<tf.io.IOHandler, "save" | "load">> {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const data = artifacts.weightData instanceof ArrayBuffer
        ? new Uint8Array(artifacts.weightData)
        : new Uint8Array(tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer[]));
      const json: ModelJson = {
        format: artifacts.format ?? "byel",
        generatedBy: artifacts.generatedBy ?? `byel ${VERSION}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology as JsonRecord,
        weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs ?? [] }],
        userDefinedMetadata: artifacts.userDefinedMetadata ?? {},
      };
      const tmp = `${dir.replace(/\/+$/, "")}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
      await Deno.mkdir(tmp, { recursive: true });
      try {
        await fileWriter.writeFile(`${tmp}/weights.bin`, data);
        await fileWriter.writeTextFile(`${tmp}/model.json`, JSON.stringify(json, null, 1) + "\n");
        let old: string | undefined;
        if (await exists(dir)) {
          old = `${tmp}.old`;
          await Deno.rename(dir, old);
        }
        await Deno.rename(tmp, dir);
        if (old) await Deno.remove(old, { recursive: true });
      } catch (e) {
        await Deno.remove(tmp, { recursive: true }).catch(() => {});
        throw e;
      }
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: "JSON",
          weightDataBytes: data.byteLength,
        },
      };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const base = dir.replace(/\/+$/, "");
      const json = await _readJson(`${base}/model.json`);
      const parts: Uint8Array[] = [];
      for (const g of json.weightsManifest) {
        for (const p of g.paths) parts.push(await readBytes(`${base}/${p}`));
      }
      const specs = json.weightsManifest.flatMap((g) => g.weights);
      const buf = concatBytes(parts);
      const want = specs.reduce((s, w) => s + _specBytes(w), 0);
      if (buf.byteLength !== want) {
        const files = json.weightsManifest.flatMap((g) => g.paths).map((p) => `${base}/${p}`);
        throw new UserError(
          `${files.join(", ")}: ${buf.byteLength} bytes, but ${base}/model.json lists ${want} ` +
            `(${
              buf.byteLength < want ? "truncated" : "extra bytes"
            }); restore the model or train it again`,
        );
      }
      return {
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: buf.buffer,
        format: json.format,
        generatedBy: json.generatedBy,
        userDefinedMetadata: json.userDefinedMetadata,
      };
    },
  };
}

/** Refuses weights holding NaN or infinities (float32 entries, and float16-quantised ones). */
function _checkFinite(buf: ArrayBuffer, specs: tf.io.WeightsManifestEntry[], file: string): void {
  let off = 0;
  for (const w of specs) {
    const bytes = _specBytes(w), n = w.shape.reduce((a, b) => a * b, 1);
    let bad: number | undefined;
    if (w.quantization?.dtype === "float16") {
      const h = new Uint16Array(buf.slice(off, off + bytes));
      for (let i = 0; i < n; i++) {
        if ((h[i] & 0x7c00) === 0x7c00) {
          bad = h[i] & 0x3ff ? NaN : Infinity;
        }
      }
    } else if (w.dtype === "float32" && !w.quantization) {
      const f = new Float32Array(buf.slice(off, off + bytes));
      for (let i = 0; i < f.length && bad === undefined; i++) {
        if (!Number.isFinite(f[i])) bad = f[i];
      }
    }
    if (bad !== undefined) {
      throw new UserError(
        `${file}: ${w.name} holds ${bad} (a damaged model); restore it or train it again`,
      );
    }
    off += bytes;
  }
}

/** Bytes of one manifest entry in the weights file (quantised entries at their stored width). */
function _specBytes(w: tf.io.WeightsManifestEntry): number {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const q = w.quantization?.dtype;
  return n * (q === "float16" || q === "uint16" ? 2 : q === "uint8" ? 1 : 4);
}

async function _readJson(pathOrUrl: string): Promise<ModelJson> {
  const text = new TextDecoder().decode(await readBytes(pathOrUrl));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UserError(`${pathOrUrl} is not valid JSON (expected a byel model.json)`);
  }
  const j = json as Partial<ModelJson>;
  const ok = typeof j === "object" && j !== null && typeof j.format === "string" &&
    Array.isArray(j.weightsManifest) &&
    j.weightsManifest.every((g) =>
      Array.isArray(g?.paths) && g.paths.every((p) => typeof p === "string" && !p.includes("..")) &&
      Array.isArray(g.weights) &&
      g.weights.every((w) =>
        typeof w?.name === "string" && Array.isArray(w.shape) &&
        w.shape.every((d) => Number.isInteger(d) && d >= 0) && typeof w.dtype === "string"
      )
    );
  if (!ok) {
    throw new UserError(
      `${pathOrUrl} is not a byel model.json (it needs "format" and a "weightsManifest" of ` +
        `paths and weights); point --model at a folder written by train`,
    );
  }
  return j as ModelJson;
}

/**
 * Writes named tensors and metadata as a tfjs model directory.
 *
 * @param dir target directory (replaced atomically)
 * @param tensors name -> tensor
 * @param opts float16 stores weights as half floats (quantized entries of the manifest)
 */
export async function writeTensors(
  dir: string,
  tensors: Map<string, Tensor>,
  opts: { format: string; topology: JsonRecord; metadata: JsonRecord; float16?: boolean },
): Promise<void> {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const [name, t] of tensors) {
    const values = (await t.data()) as Float32Array;
    if (opts.float16 && t.dtype === "float32") {
      const h = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) h[i] = _toHalf(values[i]);
      chunks.push(new Uint8Array(h.buffer));
      specs.push({ name, shape: t.shape, dtype: "float32", quantization: { dtype: "float16" } });
    } else {
      chunks.push(new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice());
      specs.push({ name, shape: t.shape, dtype: t.dtype as "float32" | "int32" });
    }
  }
  const data = concatBytes(chunks);
  await denoFileHandler(dir).save({
    modelTopology: opts.topology,
    weightSpecs: specs,
    weightData: data.buffer,
    format: opts.format,
    generatedBy: `byel ${VERSION}`,
    userDefinedMetadata: opts.metadata,
  });
}

/**
 * Reads a model directory written by {@link writeTensors}, from a path or an http(s) URL.
 *
 * @param pathOrUrl directory (or URL of it, or of its model.json)
 * @returns name -> tensor (caller disposes) and the JSON parts
 */
export async function readTensors(pathOrUrl: string): Promise<{
  tensors: Map<string, Tensor>;
  format: string;
  topology: JsonRecord;
  metadata: JsonRecord;
}> {
  const dir = pathOrUrl.replace(/\/model\.json$/, "").replace(/\/+$/, "");
  if (!isHttpUrl(dir) && !(await exists(`${dir}/model.json`))) {
    throw new UserError(
      `no model at ${pathOrUrl}: expected a directory with model.json and weights.bin`,
    );
  }
  const art = await denoFileHandler(dir).load(); // reads a path or an http(s) URL alike
  _checkFinite(art.weightData as ArrayBuffer, art.weightSpecs!, `${dir}/weights.bin`);
  const named = tf.io.decodeWeights(art.weightData!, art.weightSpecs!);
  return {
    tensors: new Map(Object.entries(named)),
    format: art.format ?? "",
    topology: (art.modelTopology ?? {}) as JsonRecord,
    metadata: (art.userDefinedMetadata ?? {}) as JsonRecord,
  };
}

/**
 * The model that ships with byel (`models/byel-quick/`, beside this module: a path in a
 * checkout, an http(s) URL when byel is imported from one).
 */
export const SHIPPED_MODEL: string = _location(
  new URL("../../models/byel-quick/", import.meta.url),
);

/** @returns a file: URL as a path, any other URL as it is */
function _location(u: URL): string {
  return u.protocol === "file:" ? decodeURIComponent(u.pathname) : u.href;
}

/** Metadata saved with a classifier. */
export interface ModelMetadata {
  /** The run's config. */
  config: Config;
  /** The training method. */
  method: string;
  /** The backend it trained on. */
  backend: string;
  /** The seed. */
  seed: number;
  /** Validation metrics of the saved weights. */
  metrics?: Record<string, unknown>;
  /** The byel version that saved it. */
  version: string;
  /** For an ensemble: each network's seed, source, method and metrics, in order. */
  members?: MemberMetadata[];
  /** Anything else training recorded (step, data, times). */
  [key: string]: unknown;
}

/** @returns whether a weight belongs to a saved classifier (`encoder.*`, `head.*`) @param name its name */
function _isClassifierWeight(name: string): boolean {
  return name.startsWith(`${NET.encoder}.`) || name.startsWith(`${NET.head}.`);
}

/** Format tag of saved classifiers. */
export const MODEL_FORMAT = "byel-classifier";

/** What one network of an ensemble was, as its ensemble's metadata records it. */
export interface MemberMetadata {
  /** Its training seed. */
  seed: number;
  /** The model folder it was read from (as given to `ensemble`). */
  from: string;
  /** Its method. */
  method: string;
  /** Its validation metrics. */
  metrics?: Record<string, unknown>;
  /** The byel version that trained it. */
  version?: string;
  /** Its training time in seconds, when recorded. */
  trainSeconds?: number;
  /** The training step its weights are from, when recorded. */
  step?: number;
}

/**
 * The weight-name prefix of network `i` of an ensemble (`member1.encoder.stage1.0.conv.w`); a
 * single network's names have none.
 *
 * @param i index of the network @param n how many networks the model holds
 * @returns the prefix, `""` when `n` is 1
 */
export function memberPrefix(i: number, n: number): string {
  return n === 1 ? "" : `member${i}.`;
}

/**
 * Saves a classifier (`encoder.*` + `head.*`), or several with the same architecture as one
 * ensemble, as a model directory. An ensemble is one `model.json` + `weights.bin` whose topology
 * says `members: N` and whose weights are named `member<i>.encoder.*` / `member<i>.head.*`, so it
 * loads from a path or a URL like a single network.
 *
 * @param dir target directory
 * @param params the classifier's record, or one per network of an ensemble
 * @param opts arch, metadata, float16
 */
export async function saveModel(
  dir: string,
  params: Params | readonly Params[],
  opts: { arch: ArchConfig; metadata: ModelMetadata; float16?: boolean },
): Promise<void> {
  const members = params instanceof Params ? [params] : params;
  if (members.length === 0) throw new Error("saveModel: no network to save");
  const tensors = new Map<string, Tensor>();
  members.forEach((p, i) => {
    for (const n of p.names().filter(_isClassifierWeight)) {
      tensors.set(memberPrefix(i, members.length) + n, p.get(n));
    }
  });
  await writeTensors(dir, tensors, {
    format: MODEL_FORMAT,
    topology: {
      arch: opts.arch,
      classes: [...EMOTIONS],
      input: "[B, S, S, 3] RGB in [0,1], ImageNet-normalised",
      ...(members.length > 1 ? { members: members.length } : {}),
    },
    metadata: opts.metadata as unknown as JsonRecord,
    float16: opts.float16,
  });
}

/**
 * Loads a classifier saved by {@link saveModel}: one network, or every network of an ensemble.
 *
 * @param pathOrUrl a directory or an http(s) URL
 * @returns `members`: one record per network (`encoder.*` + `head.*`), `params` the first of
 *   them, arch and metadata (caller disposes every member)
 */
export async function loadModelParams(
  pathOrUrl: string,
): Promise<{ params: Params; members: Params[]; arch: ArchConfig; metadata: ModelMetadata }> {
  const { tensors, format, topology, metadata } = await readTensors(pathOrUrl);
  const declared = topology.members ?? 1;
  const bad = format !== MODEL_FORMAT
    ? `is a "${format}", not a byel classifier (format ${MODEL_FORMAT})`
    : !(Number.isInteger(declared) && (declared as number) >= 1)
    ? `says "members": ${JSON.stringify(declared)} (expected a whole number >= 1)`
    : undefined;
  if (bad) {
    for (const t of tensors.values()) t.dispose();
    throw new UserError(`${pathOrUrl} ${bad}; point --model at a folder written by train`);
  }
  const n = declared as number;
  const members = Array.from({ length: n }, () => new Params());
  for (const [name, t] of tensors) {
    const m = n === 1 ? 0 : Number(/^member(\d+)\./.exec(name)?.[1] ?? NaN);
    const rest = name.slice(memberPrefix(m, n).length);
    if (!(m >= 0 && m < n && _isClassifierWeight(rest))) {
      for (const p of members) p.dispose();
      for (const u of tensors.values()) if (!u.isDisposed) u.dispose();
      throw new UserError(
        `${pathOrUrl}/model.json: weight ${name} belongs to no network of its ${n} ` +
          `(expected member0. to member${n - 1}.); restore the model or build it again`,
      );
    }
    members[m].add(rest, t);
  }
  // Models saved before these fields existed are ResNets with ImageNet normalisation.
  const arch = {
    family: "resnet",
    inputNorm: "imagenet",
    ...(topology.arch as object),
  } as ArchConfig;
  return {
    params: members[0],
    members,
    arch,
    metadata: metadata as unknown as ModelMetadata,
  };
}
