/**
 * The direct convolution of images with few channels (`src/backend/kernels/wasm_conv_narrow.ts`):
 * `narrowConv2d` gives the bits of tfjs's XNNPACK convolution, plain and fused (bias, relu),
 * for strides 1 and 2, `same` and `valid` padding, output channels in blocks of 16 and 4;
 * `tf.conv2d` and `tf.fused.conv2d` run it for the shapes it takes; nothing leaks.
 */
import assert from "node:assert/strict";
import { tf } from "../../../src/deps.ts";
import { selectBackend } from "../../../src/backend/select.ts";
import {
  narrowConv2d,
  narrowConvEligible,
  setOwnNarrowConv,
} from "../../../src/backend/kernels/wasm_conv_narrow.ts";

type Shape = [number, number, number, number];
type Case = { x: Shape; f: Shape; stride: number; pad: "same" | "valid" };
const CASES: Case[] = [
  { x: [3, 9, 11, 3], f: [3, 3, 3, 16], stride: 1, pad: "same" }, // the VGG stem's
  { x: [2, 10, 9, 3], f: [3, 3, 3, 20], stride: 2, pad: "same" }, // a 16 block and a 4 block
  { x: [2, 8, 8, 1], f: [5, 5, 1, 8], stride: 1, pad: "valid" },
  { x: [1, 7, 6, 4], f: [3, 3, 4, 12], stride: 2, pad: "valid" },
];

/** tfjs's convolution (XNNPACK) of a case, fused or not, with byel's kernel off or on. */
function conv(c: Case, x: tf.Tensor4D, f: tf.Tensor4D, bias: tf.Tensor1D | null, own: boolean) {
  setOwnNarrowConv(own);
  try {
    return bias
      ? tf.fused.conv2d({ x, filter: f, strides: c.stride, pad: c.pad, bias, activation: "relu" })
      : tf.conv2d(x, f, c.stride, c.pad);
  } finally {
    setOwnNarrowConv(true);
  }
}

Deno.test("narrowConv2d() gives the bits of tfjs's XNNPACK convolution, plain and fused with bias and relu", async () => {
  await selectBackend({ backend: "wasm" });
  for (const c of CASES) {
    const x = tf.randomNormal(c.x, 0, 1, "float32", 1) as tf.Tensor4D;
    const f = tf.randomNormal(c.f, 0, 0.5, "float32", 2) as tf.Tensor4D;
    const bias = tf.randomNormal([c.f[3]], 0, 0.5, "float32", 3) as tf.Tensor1D;
    assert.ok(narrowConvEligible(tf.backend(), x, f, [1, 1]), `${c.f} is taken`);
    const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.stride, 1, c.pad);
    for (const fused of [false, true]) {
      const want = conv(c, x, f, fused ? bias : null, false);
      const before = tf.memory().numTensors;
      const out = narrowConv2d(tf.backend(), x, f, {
        strides: [c.stride, c.stride],
        padTop: info.padInfo.top,
        padLeft: info.padInfo.left,
        outHeight: info.outHeight,
        outWidth: info.outWidth,
        bias: fused ? bias : undefined,
        relu: fused,
      });
      const got = tf.engine().makeTensorFromTensorInfo(out);
      assert.equal(tf.memory().numTensors, before + 1);
      assert.deepEqual(got.shape, want.shape);
      const [a, b] = [got.dataSync(), want.dataSync()];
      assert.equal(
        a.filter((v, i) => !Object.is(v, b[i])).length,
        0,
        `${c.x} * ${c.f} fused=${fused}`,
      );
      // Through tf.conv2d / tf.fused.conv2d, with byel's kernel on: the same bits.
      const routed = conv(c, x, f, fused ? bias : null, true);
      assert.deepEqual(routed.dataSync(), b);
      tf.dispose([want, got, routed]);
    }
    tf.dispose([x, f, bias]);
  }
  // Wider patches, output channels off the blocks, or dilation: tfjs's kernel.
  const x = tf.zeros([1, 8, 8, 8]) as tf.Tensor4D;
  assert.equal(narrowConvEligible(tf.backend(), x, tf.zeros([3, 3, 8, 16]), [1, 1]), false);
  assert.equal(
    narrowConvEligible(tf.backend(), tf.zeros([1, 8, 8, 3]), tf.zeros([3, 3, 3, 6]), [1, 1]),
    false,
  );
  assert.equal(
    narrowConvEligible(tf.backend(), tf.zeros([1, 8, 8, 3]), tf.zeros([3, 3, 3, 8]), [2, 2]),
    false,
  );
  await selectBackend({ backend: "cpu" });
});
