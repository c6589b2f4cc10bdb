/**
 * The face stage in a worker of its own (see {@link FaceStage.load}): its own tfjs on
 * single-threaded SIMD WebAssembly, so the detector's and FaceMesh's many small kernels do not
 * pay for the main thread's threaded WASM pool (measured: 27 ms per photo on one thread against
 * 133 ms on the 2-thread pool while another job ran), and detection runs beside the classifier.
 *
 * Messages: `{ kind: "load", base }` -> `{ kind: "ready", backend }`; `{ kind: "faces", id,
 * image: { width, height, data }, opts }` -> `{ id, faces }` (crops transferred).
 *
 * @module
 */
import { selectBackend } from "../backend/select.ts";
import { alignFace } from "./align.ts";
import { detectFaces, type DetectOptions } from "./detect.ts";
import { type FaceModels, loadFaceModels } from "./models.ts";
import type { RgbInput } from "./warp.ts";

const _self = self as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(msg: unknown, transfer?: Transferable[]): void;
};

let _models: FaceModels | undefined;

_self.onmessage = async (e: MessageEvent) => {
  const m = e.data as
    | { kind: "load"; base: string }
    | { kind: "faces"; id: number; image: RgbInput; opts: DetectOptions & { size: number } };
  try {
    if (m.kind === "load") {
      const info = await selectBackend({ backend: "wasm", threads: 1 }).catch(() =>
        selectBackend({ backend: "cpu" })
      );
      _models = await loadFaceModels(m.base);
      _self.postMessage({ kind: "ready", backend: info.name });
      return;
    }
    const faces = (await detectFaces(_models!, m.image, m.opts)).map((f) => ({
      ...f,
      crop: alignFace(m.image, f.landmarks, m.opts.size).data,
    }));
    _self.postMessage({ id: m.id, faces }, faces.map((f) => f.crop.buffer as ArrayBuffer));
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    _self.postMessage(
      m.kind === "load" ? { kind: "failed", message } : { id: m.id, error: message },
    );
  }
};
