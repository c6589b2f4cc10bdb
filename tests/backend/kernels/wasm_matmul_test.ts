/**
 * Matrix products on WASM by byel's kernels (`src/backend/kernels/wasm_matmul.ts`): plain
 * `BatchMatMul` by `gemm_ab` gives the bits of tfjs's XNNPACK (single, batched and broadcast
 * right operands, odd sizes) on one thread and two; a right operand used again and again goes
 * back to XNNPACK from `XNNPACK_REUSED_MIN` values. (The transposed products split across
 * threads are checked against one thread in simd_pool_test.ts, where the pool's worker runs.)
 */
import assert from "node:assert/strict";
import { tf } from "../../../src/deps.ts";
import { selectBackend } from "../../../src/backend/select.ts";
import {
  FRESH_MAX_USES,
  PLAIN_MIN_MACS,
  plainMatMul,
  setOwnMatMul,
  XNNPACK_REUSED_MIN,
} from "../../../src/backend/kernels/wasm_matmul.ts";

const PLAIN: [number[], number[]][] = [
  [[128, 512], [512, 256]], // a BYEL head's layer
  [[370, 100], [100, 13]], // rows, columns and k off every block size
  [[1, 512], [512, 256]], // one row
  [[3, 5, 7], [3, 7, 3]], // a batch of narrow products
  [[3, 5, 7], [3, 7, 9]], // batched
  [[3, 5, 7], [7, 9]], // one right operand for the batch
  [[4, 6, 16], [1, 16, 8]],
];

async function product(sa: number[], sb: number[], own: boolean): Promise<Float32Array> {
  setOwnMatMul(own);
  const a = tf.randomNormal(sa, 0, 1, "float32", 1), b = tf.randomNormal(sb, 0, 1, "float32", 2);
  const c = tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
  const out = await c.data() as Float32Array;
  tf.dispose([a, b, c]);
  return out;
}

for (const threads of [1, 2]) {
  Deno.test(`plain products by gemm_ab (${threads} thread(s)) give XNNPACK's bits`, async () => {
    await selectBackend({ backend: "wasm", threads });
    try {
      for (const [sa, sb] of PLAIN) {
        const [xnnpack, own] = [await product(sa, sb, false), await product(sa, sb, true)];
        const i = own.findIndex((v, k) => !Object.is(v, xnnpack[k]));
        assert.equal(i, -1, `${sa} x ${sb}: [${i}] ${own[i]} != ${xnnpack[i]}`);
      }
    } finally {
      setOwnMatMul(true);
    }
  });
}

Deno.test("a right operand used again and again goes back to XNNPACK when it is large", async () => {
  await selectBackend({ backend: "wasm", threads: 1 });
  const args = (a: tf.Tensor, b: tf.Tensor) => ({
    inputs: { a, b },
    backend: tf.backend(),
    attrs: { transposeA: false, transposeB: false },
  });
  const x = tf.ones([4, 512]), big = tf.ones([512, 128]), small = tf.ones([512, 64]);
  assert.ok(512 * 128 >= XNNPACK_REUSED_MIN && 512 * 64 < XNNPACK_REUSED_MIN);
  assert.ok(4 * 512 * 64 >= PLAIN_MIN_MACS);
  const taken = (b: tf.Tensor) => {
    const c = plainMatMul(args(x, b));
    if (c) tf.backend().disposeData(c.dataId);
    return c !== null;
  };
  const uses = FRESH_MAX_USES + 2;
  assert.deepEqual(
    Array.from({ length: uses }, () => taken(big)),
    Array.from({ length: uses }, (_, i) => i < FRESH_MAX_USES),
  );
  assert.ok(Array.from({ length: uses }, () => taken(small)).every((t) => t));
  // Transposed operands are not the plain kernel's, nor one small or narrow product.
  const t = plainMatMul({ ...args(x, big), attrs: { transposeA: false, transposeB: true } });
  assert.equal(t, null);
  const [rows, tiny, narrow] = [tf.ones([128, 6]), tf.ones([6, 6]), tf.ones([512, 4])];
  assert.equal(plainMatMul(args(rows, tiny)), null);
  assert.equal(plainMatMul(args(x, narrow)), null);
  tf.dispose([x, big, small, rows, tiny, narrow]);
});
