import assert from "node:assert/strict";
import type { Dataset } from "../../src/data/dataset.ts";
import { MemoryCache, memoryCacheBytes } from "../../src/data/memory.ts";
import { SyntheticFaces } from "../../src/data/synth/mod.ts";

/** A 2x2 dataset whose pixel values are known, counting which indices it was asked for. */
function counting(): Dataset & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    name: "fake",
    length: 5,
    size: 2,
    label: (i) => i % 6,
    batch: (idx) => {
      asked.push(...idx);
      const images = new Float32Array(idx.length * 12);
      // pixel j of image i: i / 10 + j / 100, and one value outside [0, 1] each side
      idx.forEach((i, k) => {
        for (let j = 0; j < 12; j++) images[k * 12 + j] = i / 10 + j / 100;
        images[k * 12] = -0.5;
        images[k * 12 + 11] = 1.5;
      });
      return Promise.resolve({
        images,
        labels: Int32Array.from(idx, (i) => i % 6),
        n: idx.length,
        size: 2,
      });
    },
  };
}

Deno.test("MemoryCache serves each image from the inner set once, quantised to 1/255", async () => {
  const inner = counting();
  const c = new MemoryCache(inner);
  assert.equal(memoryCacheBytes(inner), 5 * 2 * 2 * 3);
  const a = await c.batch([3, 1, 3]);
  assert.deepEqual(inner.asked, [3, 1]); // the repeat asked for once
  assert.equal(c.cached, 2);
  // image 3, pixel 5: 0.35 -> round(89.25) = 89 -> 89/255; clamped ends
  assert.equal(a.images[5], Math.fround(89 / 255));
  assert.equal(a.images[0], 0);
  assert.equal(a.images[11], 1);
  assert.deepEqual([...a.images.subarray(24, 36)], [...a.images.subarray(0, 12)]);
  assert.deepEqual([...a.labels], [3, 1, 3]);

  const b = await c.batch([1, 4, 3]);
  assert.deepEqual(inner.asked, [3, 1, 4]); // only the new image
  assert.deepEqual([...b.images.subarray(0, 12)], [...a.images.subarray(12, 24)]);
  assert.deepEqual([...b.images.subarray(24, 36)], [...a.images.subarray(0, 12)]);
  assert.equal(c.cached, 3);
});

Deno.test("MemoryCache of the generator: within half a level of the render, and the same cached or not", async () => {
  const faces = new SyntheticFaces({ size: 32, length: 12, seed: 3 });
  const direct = await faces.batch([7, 2]);
  const first = new MemoryCache(faces);
  const warm = await first.batch([2, 7]); // now cached
  const again = await first.batch([7, 2]);
  const cold = await new MemoryCache(faces).batch([7, 2]);
  assert.deepEqual(again.images, cold.images); // what a step sees does not depend on the cache state
  const px = 32 * 32 * 3;
  assert.deepEqual(warm.images.subarray(0, px), again.images.subarray(px));
  let worst = 0;
  for (let j = 0; j < direct.images.length; j++) {
    worst = Math.max(worst, Math.abs(direct.images[j] - again.images[j]));
  }
  assert.ok(worst <= 0.5 / 255 + 1e-7, `quantisation error ${worst}`);
  assert.ok(worst > 0, "renders are not already 8-bit");
});

Deno.test("MemoryCache refuses NaN pixels with the dataset and image named", async () => {
  const inner = counting();
  const nan = {
    ...inner,
    name: "broken",
    batch: async (idx: readonly number[]) => {
      const b = await inner.batch(idx);
      b.images[3] = NaN;
      return b;
    },
  };
  await assert.rejects(
    () => new MemoryCache(nan).batch([4]),
    /^UserError: broken: image 4 has NaN pixel values/,
  );
});
