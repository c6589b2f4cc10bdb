import assert from "node:assert/strict";
import type { Batch, Dataset } from "../../src/data/dataset.ts";
import { decodeFiles } from "../../src/data/decode.ts";
import { readImageFolder } from "../../src/data/folders.ts";
import { batchesOf, DecodePool, prefetch } from "../../src/data/prefetch.ts";
import { flat, jpegBytes, pngBytes, writeTree } from "../_helpers/fixtures.ts";

Deno.test("batchesOf() splits an order, optionally dropping the short tail", () => {
  assert.deepEqual(batchesOf([5, 4, 3, 2, 1], 2), [[5, 4], [3, 2], [1]]);
  assert.deepEqual(batchesOf(Int32Array.of(5, 4, 3, 2, 1), 2, { dropLast: true }), [[5, 4], [
    3,
    2,
  ]]);
});

Deno.test("prefetch() yields batches in order with `depth` requests ahead", async () => {
  let inFlight = 0, maxInFlight = 0;
  const ds: Dataset = {
    name: "fake",
    length: 100,
    size: 1,
    label: (i) => i % 6,
    batch: async (idx) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      return {
        images: new Float32Array(idx.length * 3),
        labels: Int32Array.from(idx),
        n: idx.length,
        size: 1,
      };
    },
  };
  const got: number[] = [];
  for await (
    const b of prefetch(ds, batchesOf(Array.from({ length: 20 }, (_, i) => i), 3), { depth: 2 })
  ) {
    got.push(...b.labels);
  }
  assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i));
  assert.equal(maxInFlight, 3);
  // Stopping early leaves no unhandled rejection behind (the batches already requested fail).
  const failing: Dataset = {
    ...ds,
    batch: (idx): Promise<Batch> => idx[0] > 0 ? Promise.reject(new Error("x")) : ds.batch(idx),
  };
  let unhandled = 0;
  const onUnhandled = (e: PromiseRejectionEvent) => {
    unhandled++;
    e.preventDefault();
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  const first: number[] = [];
  for await (const b of prefetch(failing, [[0], [1], [2]], { depth: 2 })) {
    first.push(...b.labels);
    break;
  }
  await new Promise((r) => setTimeout(r, 20));
  globalThis.removeEventListener("unhandledrejection", onUnhandled);
  assert.deepEqual(first, [0]);
  assert.equal(unhandled, 0);
});

Deno.test("DecodePool decodes in workers exactly as the in-thread decoder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "byel_pool_" });
  const pool = new DecodePool(2);
  try {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 7; i++) {
      files[`happy/${i}.jpg`] = jpegBytes(12 + i, 10, flat(12 + i, 10, 30 * i, 100, 200));
    }
    files["sad/a.png"] = pngBytes(3, 3, flat(3, 3, 9, 8, 7));
    files["sad/bad.png"] = new Uint8Array([1, 2, 3]);
    await writeTree(dir, files);
    const paths = Object.keys(files).map((f) => `${dir}/${f}`);
    const a = await pool.decodeFiles(paths, 6);
    const b = await decodeFiles(paths, 6);
    assert.deepEqual(a.pixels, b.pixels);
    assert.deepEqual(a.failures, b.failures);
    assert.equal(a.failures.filter(Boolean).length, 1);
    const viaPool = await readImageFolder(dir, {
      size: 6,
      decoder: pool,
      verify: false,
      log: () => {},
    });
    const inline = await readImageFolder(dir, { size: 6, verify: false, log: () => {} });
    assert.deepEqual(
      (await viaPool.batch([0, 3, 7])).images,
      (await inline.batch([0, 3, 7])).images,
    );
  } finally {
    pool.close();
    await Deno.remove(dir, { recursive: true });
  }
});
