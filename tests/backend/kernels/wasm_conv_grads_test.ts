/**
 * Parity of the WASM input-gradient filter rotation (`rotateFilter`, one JavaScript pass in place
 * of tfjs-wasm's slow Reverse + Transpose) and of the input gradient that uses it, against the
 * CPU backend.
 */
import assert from "node:assert/strict";
import { tf } from "../../../src/deps.ts";
import { selectBackend } from "../../../src/backend/select.ts";
import { rotateFilter } from "../../../src/backend/kernels/wasm_conv_grads.ts";
import { maxRelErr } from "../../_helpers/grad_cases.ts";

const SHAPES: [number, number, number, number][] = [[3, 3, 5, 7], [7, 7, 3, 20], [1, 1, 33, 2]];

Deno.test("rotateFilter() equals transpose(reverse(w, [0, 1]), [0, 1, 3, 2]) on wasm", async () => {
  await selectBackend({ backend: "wasm", threads: 1 });
  for (const shape of SHAPES) {
    const w = tf.randomNormal(shape, 0, 1, "float32", 7);
    const ref = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]);
    const backend = tf.backend();
    const info = rotateFilter(backend, w);
    const got = tf.engine().makeTensorFromTensorInfo(info);
    assert.deepEqual(got.shape, ref.shape);
    assert.deepEqual(await got.data(), await ref.data(), `shape ${shape}`);
    tf.dispose([w, ref, got]);
  }
});

Deno.test("conv2dTranspose (Conv2DBackpropInput) on wasm matches cpu", async () => {
  const cases: {
    x: [number, number, number, number];
    f: [number, number, number, number];
    s: number;
    pad: "same" | "valid";
  }[] = [
    { x: [2, 9, 9, 5], f: [3, 3, 5, 6], s: 1, pad: "same" },
    { x: [2, 9, 9, 5], f: [3, 3, 5, 6], s: 2, pad: "same" },
    { x: [2, 16, 16, 3], f: [7, 7, 3, 8], s: 2, pad: "same" },
  ];
  for (const c of cases) {
    const run = async (b: "cpu" | "wasm") => {
      await selectBackend({ backend: b, threads: b === "wasm" ? 1 : undefined });
      const x = tf.randomNormal(c.x, 0, 1, "float32", 1) as tf.Tensor4D;
      const f = tf.randomNormal(c.f, 0, 1, "float32", 2) as tf.Tensor4D;
      const dy = tf.randomNormal(tf.conv2d(x, f, c.s, c.pad).shape, 0, 1, "float32", 3);
      const dx = tf.conv2dTranspose(dy as tf.Tensor4D, f, c.x, c.s, c.pad);
      const out = await dx.data() as Float32Array;
      tf.dispose([x, f, dy, dx]);
      return out;
    };
    const ref = await run("cpu");
    const got = await run("wasm");
    const e = maxRelErr(got, ref);
    assert.ok(e < 1e-4, `${JSON.stringify(c)}: max rel err ${e}`);
  }
});
