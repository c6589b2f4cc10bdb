import assert from "node:assert/strict";
import { tf } from "../../../src/deps.ts";
import { selectBackend } from "../../../src/backend/select.ts";

Deno.test("Transform on cpu warps every image of a batch (tfjs 4.22 returns after the first)", async () => {
  await selectBackend({ backend: "cpu" });
  const img = tf.randomUniform([3, 6, 5, 2], 0, 1, "float32", 3) as tf.Tensor4D;
  const t = [
    [1, 0, 0, 0, 1, 0, 0, 0],
    [-1, 0, 4, 0, 1, 0, 0, 0], // mirror
    [0.5, 0, 1, 0, 0.5, 1, 0, 0], // zoom in on the middle
  ];
  const batch = tf.image.transform(img, tf.tensor2d(t), "bilinear", "nearest", 0, [4, 4]);
  const one = (i: number) =>
    tf.image.transform(
      tf.slice(img, [i, 0, 0, 0], [1, 6, 5, 2]),
      tf.tensor2d([t[i]]),
      "bilinear",
      "nearest",
      0,
      [4, 4],
    );
  const want = tf.concat([one(0), one(1), one(2)]);
  assert.deepEqual(batch.shape, [3, 4, 4, 2]);
  assert.deepEqual(Array.from(await batch.data()), Array.from(await want.data()));
  // and the same on wasm
  const cpu = await batch.data();
  await selectBackend({ backend: "wasm" });
  const w = tf.image.transform(
    tf.tensor4d(await img.data(), [3, 6, 5, 2]),
    tf.tensor2d(t),
    "bilinear",
    "nearest",
    0,
    [4, 4],
  );
  const wv = await w.data();
  for (let i = 0; i < cpu.length; i++) assert.ok(Math.abs(wv[i] - cpu[i]) < 1e-6);
  await selectBackend({ backend: "cpu" });
});
