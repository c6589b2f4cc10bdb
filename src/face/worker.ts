/**
 * The face stage in a worker of its own (see {@link FaceStage.load}): its own tfjs on SIMD
 * WebAssembly, apart from the classifier's backend, with as many threads as it is told
 * (`FACE_THREADS` by default: batches of photos gain from a pool, a single photo's many small
 * kernels do not, and a pool that competes with a running job is far slower: 27 ms per photo on
 * one thread against 133 ms on two, measured while a training ran).
 *
 * Messages: `{ kind: "load", base, threads }` -> `{ kind: "ready", backend, threads }`;
 * `{ kind: "faces", id, images: [{ width, height, data }], opts }` -> `{ id, faces }` (one list
 * per image; crops transferred).
 *
 * @module
 */
import { selectBackend } from "../backend/select.ts";
import { alignFace } from "./align.ts";
import { detectFacesBatch, type DetectOptions } from "./detect.ts";
import { type FaceModels, loadFaceModels } from "./models.ts";
import type { RgbInput } from "./warp.ts";

const _self = self as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(msg: unknown, transfer?: Transferable[]): void;
};

let _models: FaceModels | undefined;

_self.onmessage = async (e: MessageEvent) => {
  const m = e.data as
    | { kind: "load"; base: string; threads: number }
    | { kind: "faces"; id: number; images: RgbInput[]; opts: DetectOptions & { size: number } };
  try {
    if (m.kind === "load") {
      const info = await selectBackend({ backend: "wasm", threads: m.threads }).catch(() =>
        selectBackend({ backend: "cpu" })
      );
      _models = await loadFaceModels(m.base);
      _self.postMessage({ kind: "ready", backend: info.name, threads: info.threads });
      return;
    }
    const found = await detectFacesBatch(_models!, m.images, m.opts);
    const faces = found.map((fs, i) =>
      fs.map((f) => ({ ...f, crop: alignFace(m.images[i], f.landmarks, m.opts.size).data }))
    );
    _self.postMessage(
      { id: m.id, faces },
      faces.flat().map((f) => f.crop.buffer as ArrayBuffer),
    );
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    _self.postMessage(
      m.kind === "load" ? { kind: "failed", message } : { id: m.id, error: message },
    );
  }
};
