/**
 * Gradient parity on WebGPU (here: Mesa's llvmpipe software Vulkan, forced with
 * `backend: "webgpu"`): every case's gradients match the CPU backend to 1e-3 relative (GPU
 * reductions sum in a different order). Skipped where no WebGPU adapter exists.
 */
import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { selectBackend } from "../../src/backend/select.ts";
import { probeAdapter } from "../../src/backend/webgpu.ts";
import { GRAD_CASES, gradsOnActive, maxRelErr } from "../_helpers/grad_cases.ts";

const adapter = await probeAdapter();
const ignore = typeof adapter === "string";
const SAN = { sanitizeOps: false, sanitizeResources: false, ignore };

Deno.test({
  name: "selectBackend() forced webgpu starts and passes its self-check",
  ...SAN,
  fn: async () => {
    const info = await selectBackend({ backend: "webgpu" });
    assert.equal(info.name, "webgpu");
    assert.equal(tf.getBackend(), "webgpu");
    assert.ok(info.adapter && typeof info.adapter.isFallback === "boolean");
  },
});

Deno.test({
  name: "the webgpu device has timestamp-query where the adapter does; tf.profile gets GPU times",
  ...SAN,
  fn: async () => {
    const gpuAdapter = await navigator.gpu.requestAdapter();
    const listed = gpuAdapter!.features.has("timestamp-query");
    await selectBackend({ backend: "webgpu" });
    const backend = tf.backend() as unknown as { supportTimestampQuery: boolean };
    assert.equal(backend.supportTimestampQuery, listed);
    if (!listed) return;
    const x = tf.randomNormal([4, 32, 32, 16]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 16, 16]) as tf.Tensor4D;
    const prof = await tf.profile(async () => {
      const y = tf.conv2d(x, w, 1, "same");
      await y.data();
      y.dispose();
    });
    const conv = prof.kernels.find((k) => k.name === "Conv2D");
    assert.ok(conv, "Conv2D profiled");
    assert.ok(Number(await conv.kernelTimeMs) > 0, "a GPU time, not the zero tfjs reports without");
    tf.dispose([x, w]);
  },
});

Deno.test({
  name: "dataSync() on webgpu fails with a message naming the async API",
  ...SAN,
  fn: async () => {
    await selectBackend({ backend: "webgpu" });
    // large enough that tfjs does not hand the op to the CPU (small tensors live on the CPU)
    const t = tf.add(tf.ones([128, 128]), 1);
    assert.deepEqual(Array.from((await t.data()).slice(0, 2)), [2, 2]);
    const u = tf.matMul(t, t);
    assert.throws(() => u.dataSync(), /await tensor\.data\(\)/);
    tf.dispose([t, u]);
  },
});

for (const c of GRAD_CASES) {
  Deno.test({
    name: `webgpu gradients match cpu: ${c.name}`,
    ...SAN,
    fn: async () => {
      await selectBackend({ backend: "cpu" });
      const ref = await gradsOnActive(c);
      await selectBackend({ backend: "webgpu" });
      const n0 = tf.memory().numTensors;
      const got = await gradsOnActive(c);
      assert.equal(tf.memory().numTensors, n0, "tensors leaked");
      got.forEach((g, i) => {
        const e = maxRelErr(g, ref[i]);
        assert.ok(e < 1e-3, `input ${i}: max rel err ${e}`);
      });
    },
  });
}
