/**
 * The worker behind `RenderWorker` (`workers.ts`): renders batches of the generator's faces
 * and sends the pixels back (transferred, not copied).
 *
 * Messages in: `{ kind: "init", options }` (the `SyntheticFaces` options), then
 * `{ kind: "batch", id, indices }`. Out: `{ kind: "batch", id, images }` (`[n, size, size, 3]`
 * float32) or `{ kind: "error", id, message }`.
 *
 * @module
 */
import { SyntheticFaces, type SyntheticFacesOptions } from "./dataset.ts";

type _In =
  | { kind: "init"; options: SyntheticFacesOptions }
  | { kind: "batch"; id: number; indices: number[] };

let faces: SyntheticFaces | undefined;

self.onmessage = (e: MessageEvent<_In>) => {
  const m = e.data;
  if (m.kind === "init") {
    faces = new SyntheticFaces(m.options);
    return;
  }
  try {
    const px = faces!.size * faces!.size * 3;
    const images = new Float32Array(m.indices.length * px);
    m.indices.forEach((i, k) => faces!.renderInto(i, images, k * px));
    self.postMessage({ kind: "batch", id: m.id, images }, [images.buffer]);
  } catch (err) {
    self.postMessage({ kind: "error", id: m.id, message: (err as Error).message ?? String(err) });
  }
};
