/**
 * The face stage's cost per photo: detection (BlazeFace), landmarks (FaceMesh) and the aligned
 * crop, on 256 x 256 photos, as the commands run it (in its own worker on SIMD WASM with
 * `--threads` threads, `FACE_THREADS` by default, or in this thread with `--in-thread`): one photo at a time, as `predict`
 * sends them, and in batches of `--batch` photos, as `eval`, `devscore`, `prepare` and
 * `train --data` read folders (`FaceDecoder`). The photos are rendered faces placed in larger
 * scenes, or the images of `--dir` (any folder of PNG/JPEG files).
 *
 *   deno run -A bench/face_bench.ts [--photos 64] [--dir DIR] [--batch 16] [--threads N]
 *     [--in-thread] [--backend wasm]
 *
 * Prints one JSON object: ms per photo one at a time (mean and median) and in batches (mean
 * over the batches), faces found.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { selectBackend } from "../src/backend/select.ts";
import { readImageFile } from "../src/data/decode.ts";
import { FACE_BATCH, FACE_THREADS, FaceStage } from "../src/face/stage.ts";
import type { RgbInput } from "../src/face/warp.ts";
import { frontalFace, place, similarity } from "../tests/_helpers/faces.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    photos: { type: "string", default: "64" },
    batch: { type: "string", default: String(FACE_BATCH) },
    threads: { type: "string", default: String(FACE_THREADS) },
    dir: { type: "string" },
    "in-thread": { type: "boolean", default: false },
    backend: { type: "string", default: "wasm" },
  },
});
const n = Number(values.photos);
const info = await selectBackend({ backend: values.backend as "wasm" });
const inThread = values["in-thread"];
const batchSize = Number(values.batch);
const stage = await FaceStage.load(undefined, {
  worker: !inThread,
  threads: Number(values.threads),
});

const photos: RgbInput[] = [];
if (values.dir) {
  for await (const e of Deno.readDir(values.dir)) {
    if (photos.length >= n) break;
    if (/\.(png|jpe?g)$/i.test(e.name)) photos.push(await readImageFile(`${values.dir}/${e.name}`));
  }
} else {
  for (let k = 0; k < n; k++) {
    const { img } = frontalFace(k, 112);
    const scene = place(
      img,
      similarity(img, { deg: (k % 7) * 4 - 12, k: 0.9 + (k % 5) * 0.1, cx: 128, cy: 120 }),
      256,
      256,
    );
    // uint8, as decoded files are
    const data = Uint8Array.from(scene.data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
    photos.push({ width: scene.width, height: scene.height, data });
  }
}
for (const p of photos.slice(0, 3)) await stage.faces(p, { size: 64 }); // warm-up
await stage.facesBatch(photos.slice(0, batchSize), { size: 64 });
const ms: number[] = [];
let found = 0;
for (const p of photos) {
  const t0 = performance.now();
  const [f] = await stage.faces(p, { size: 64 });
  ms.push(performance.now() - t0);
  if (f.source === "detector") found++;
}
const t0 = performance.now();
let foundBatched = 0;
for (let s = 0; s < photos.length; s += batchSize) {
  const res = await stage.facesBatch(photos.slice(s, s + batchSize), { size: 64 });
  foundBatched += res.filter(([f]) => f.source === "detector").length;
}
const batchedMs = (performance.now() - t0) / photos.length;
stage.dispose();
ms.sort((a, b) => a - b);
console.log(JSON.stringify({
  where: inThread ? `in-thread on ${info.name} (${info.threads} threads)` : stage.where,
  photos: photos.length,
  size: `${photos[0].width}x${photos[0].height}`,
  msPerPhoto: Number((ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(2)),
  medianMs: Number(ms[ms.length >> 1].toFixed(2)),
  batch: batchSize,
  msPerPhotoBatched: Number(batchedMs.toFixed(2)),
  found,
  foundBatched,
}));
