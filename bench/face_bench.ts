/**
 * The face stage's cost per photo: detection (BlazeFace), landmarks (FaceMesh) and the aligned
 * crop, on 256 x 256 photos, as `eval`, `predict` and `prepare` run it (in its own worker on
 * single-threaded SIMD WASM, or in this thread with `--in-thread`). The photos are rendered
 * faces placed in larger scenes, or the images of `--dir` (any folder of PNG/JPEG files).
 *
 *   deno run -A bench/face_bench.ts [--photos 60] [--dir DIR] [--in-thread] [--backend wasm]
 *
 * Prints one JSON object: ms per photo (mean and median), faces found.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { selectBackend } from "../src/backend/select.ts";
import { readImageFile } from "../src/data/decode.ts";
import { FaceStage } from "../src/face/stage.ts";
import type { RgbInput } from "../src/face/warp.ts";
import { frontalFace, place, similarity } from "../tests/_helpers/faces.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    photos: { type: "string", default: "60" },
    dir: { type: "string" },
    "in-thread": { type: "boolean", default: false },
    backend: { type: "string", default: "wasm" },
  },
});
const n = Number(values.photos);
const info = await selectBackend({ backend: values.backend as "wasm" });
const inThread = values["in-thread"];
const stage = await FaceStage.load(undefined, { worker: !inThread });

const photos: RgbInput[] = [];
if (values.dir) {
  for await (const e of Deno.readDir(values.dir)) {
    if (photos.length >= n) break;
    if (/\.(png|jpe?g)$/i.test(e.name)) photos.push(await readImageFile(`${values.dir}/${e.name}`));
  }
} else {
  for (let k = 0; k < n; k++) {
    const { img } = frontalFace(k, 112);
    photos.push(
      place(
        img,
        similarity(img, { deg: (k % 7) * 4 - 12, k: 0.9 + (k % 5) * 0.1, cx: 128, cy: 120 }),
        256,
        256,
      ),
    );
  }
}
for (const p of photos.slice(0, 3)) await stage.faces(p, { size: 64 }); // warm-up
const ms: number[] = [];
let found = 0;
for (const p of photos) {
  const t0 = performance.now();
  const [f] = await stage.faces(p, { size: 64 });
  ms.push(performance.now() - t0);
  if (f.source === "detector") found++;
}
stage.dispose();
ms.sort((a, b) => a - b);
console.log(JSON.stringify({
  where: inThread
    ? `in-thread on ${info.name} (${info.threads} threads)`
    : "worker (wasm, 1 thread)",
  photos: photos.length,
  size: `${photos[0].width}x${photos[0].height}`,
  msPerPhoto: Number((ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(2)),
  medianMs: Number(ms[ms.length >> 1].toFixed(2)),
  found,
}));
