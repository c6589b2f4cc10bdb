/**
 * Writes `web/sample.png`, the page's sample photo: one rendered face of the generator's `real`
 * domain (a happy one), on a larger background so that the face stage has something to find.
 *
 *   deno run -A web/make_sample.ts
 *
 * @module
 */
import { SyntheticFaces } from "../src/data/synth/dataset.ts";
import { encodePng } from "../src/data/synth/sheet.ts";

const face = new SyntheticFaces({ domain: "real", seed: 3, size: 160, length: 60 });
const i = 3 * 6 + 3; // class 3: happiness
const b = await face.batch([i]);
const w = 240, h = 220, ox = 40, oy = 30;
const img = new Float32Array(w * h * 3);
for (let p = 0; p < w * h; p++) img.set([0.82, 0.84, 0.86], p * 3);
for (let y = 0; y < 160; y++) {
  img.set(b.images.subarray(y * 160 * 3, (y + 1) * 160 * 3), ((oy + y) * w + ox) * 3);
}
await Deno.writeFile(new URL("./sample.png", import.meta.url), encodePng(img, w, h));
console.log("wrote web/sample.png");
