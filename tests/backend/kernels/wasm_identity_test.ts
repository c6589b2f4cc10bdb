/**
 * `Identity` on WASM shares its input's data (`src/backend/kernels/wasm_identity.ts`): a clone
 * holds the same values without a copy, outlives the original, is freed with its last tensor,
 * and a custom gradient's saved tensors still give the right gradient.
 */
import assert from "node:assert/strict";
import { tf } from "../../../src/deps.ts";
import { selectBackend } from "../../../src/backend/select.ts";
import type { WasmBackend } from "../../../src/backend/kernels/wasm_simd.ts";

Deno.test("tf.clone on WASM shares the data, outlives the original, and frees with the last", async () => {
  await selectBackend({ backend: "wasm", threads: 1 });
  const be = tf.backend() as WasmBackend & { numDataIds(): number };
  const before = { tensors: tf.memory().numTensors, data: be.numDataIds() };
  const x = tf.tensor1d([1, 2, 3, 4, 5]);
  const y = tf.clone(x);
  assert.equal(be.numDataIds(), before.data + 1, "the clone made no new buffer");
  assert.equal(be.dataIdMap.get(y.dataId)!.memoryOffset, be.dataIdMap.get(x.dataId)!.memoryOffset);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4, 5]);
  const z = tf.add(y, 1); // a kernel on the clone writes a new tensor, not the shared one
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4, 5]);
  tf.dispose([y, z]);
  assert.deepEqual({ tensors: tf.memory().numTensors, data: be.numDataIds() }, before);
});

Deno.test("a custom gradient's saved (cloned) tensors give the right gradient on WASM", async () => {
  await selectBackend({ backend: "wasm", threads: 1 });
  // f(x) = x^3 with the gradient 3 x^2 from the saved x.
  const cube = tf.customGrad((x, save) => {
    (save as tf.GradSaveFunc)([x as tf.Tensor]);
    return {
      value: tf.pow(x as tf.Tensor, 3),
      gradFunc: (dy, saved) => tf.mul(dy as tf.Tensor, tf.mul(3, tf.square(saved[0]))),
    };
  });
  const before = tf.memory().numTensors;
  const g = tf.tidy(() =>
    tf.grad((x: tf.Tensor) => tf.sum(cube(x) as tf.Tensor))(tf.tensor1d([1, -2, 0.5]))
  );
  assert.deepEqual(Array.from(g.dataSync()), [3, 12, 0.75]);
  g.dispose();
  assert.equal(tf.memory().numTensors, before);
});
