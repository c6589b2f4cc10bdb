/**
 * byel's WebAssembly SIMD module (`src/backend/kernels/wasm_simd/`): the shipped binaries keep
 * the rules that make sharing tfjs's memory safe; the BatchNorm kernels match the CPU backend's
 * composition of tfjs ops (values, statistics and gradients), and with a relu fused give the
 * bits of tfjs's relu after them; the transposed matrix products match the CPU backend. The
 * Winograd kernels have their own file, winograd_test.ts.
 */
import assert from "node:assert/strict";
import { tf } from "../../../src/deps.ts";
import { selectBackend } from "../../../src/backend/select.ts";
import { batchNormTrain, setFusedBnRelu } from "../../../src/backend/batch_norm.ts";
import { wasmBatchNormAvailable } from "../../../src/backend/kernels/wasm_batch_norm.ts";
import { transposedMatMul } from "../../../src/backend/kernels/wasm_matmul.ts";
import { PLAIN, SHARED } from "../../../src/backend/kernels/wasm_simd/module.ts";
import { maxRelErr } from "../../_helpers/grad_cases.ts";

/** @returns the ids of a WebAssembly binary's sections */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8; // magic + version
  while (at < bytes.length) {
    const id = bytes[at++];
    let size = 0, shift = 0, b: number;
    do {
      b = bytes[at++];
      size |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    ids.push(id);
    at += size;
  }
  return ids;
}

Deno.test("the SIMD modules import one memory and have no data, start or stack use", () => {
  for (const [name, b64] of [["PLAIN", PLAIN], ["SHARED", SHARED]]) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    assert.ok(WebAssembly.validate(bytes), `${name} validates`);
    const ids = sectionIds(bytes);
    // 8 start, 11 data, 12 data count: each would let the module write tfjs's memory itself.
    for (const forbidden of [8, 11, 12]) {
      assert.ok(!ids.includes(forbidden), `${name} has section ${forbidden}`);
    }
    const mod = new WebAssembly.Module(bytes);
    assert.deepEqual(
      WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}:${i.kind}`),
      ["env.memory:memory"],
    );
    assert.deepEqual(
      WebAssembly.Module.exports(mod).map((e) => e.name).sort(),
      [
        "adam_update",
        "bcast_prefix",
        "bcast_suffix",
        "blur3",
        "bn_combine",
        "bn_grad_blocks",
        "bn_grad_rows",
        "bn_invstd",
        "bn_norm_rows",
        "bn_sqdev_blocks",
        "bn_sum_blocks",
        "conv_narrow",
        "gemm_ab",
        "gemm_abt",
        "gemm_atb",
        "lerp_update",
        "maxpool2",
        "maxpool_grad",
        "patch_filter_grad",
        "sum_parts",
        "warp_bilinear_nearest",
        "wino43_conv",
        "wino43_filter",
        "wino43_input",
        "wino43_output",
        "wino63_conv",
        "wino63_filter",
        "wino_dy",
        "wino_filter",
        "wino_filter_grad",
        "wino_filter_grad_tiles",
        "wino_filter_rot",
        "wino_filter_t",
        "wino_input",
        "wino_input_t",
        "wino_output",
        "wino_output_t",
        "wino_pack8",
      ],
    );
  }
});

Deno.test("batchNormTrain() on the WASM kernels matches cpu: y, statistics and gradients", async () => {
  // 4-D, 2-D, and more rows than one summation block (128), not a multiple of it.
  const shapes = [[4, 5, 5, 8], [3, 12], [700, 4]];
  const run = async (backend: "cpu" | "wasm", shape: number[]) => {
    await selectBackend({ backend, threads: backend === "wasm" ? 1 : undefined });
    const c = shape[shape.length - 1];
    const x = tf.add(tf.mul(tf.randomNormal(shape, 0, 1, "float32", 1), 3), 5);
    const g = tf.randomUniform([c], 0.5, 1.5, "float32", 2) as tf.Tensor1D;
    const b = tf.randomNormal([c], 0, 1, "float32", 3) as tf.Tensor1D;
    const r = tf.randomNormal(shape, 0, 1, "float32", 4);
    const used = wasmBatchNormAvailable(x);
    const { y, mean, variance } = batchNormTrain(x, g, b);
    const grads = tf.grads((xx, gg, bb) =>
      tf.sum(tf.mul(batchNormTrain(xx, gg as tf.Tensor1D, bb as tf.Tensor1D).y, r))
    )([x, g, b]);
    const out = await Promise.all([y, mean, variance, ...grads].map((t) => t.data()));
    tf.dispose([x, g, b, r, y, mean, variance, ...grads]);
    return { used, out: out as Float32Array[] };
  };
  for (const shape of shapes) {
    const ref = await run("cpu", shape);
    const got = await run("wasm", shape);
    assert.equal(ref.used, false);
    assert.equal(got.used, true, "the WASM kernels ran");
    ["y", "mean", "variance", "dx", "dgamma", "dbeta"].forEach((name, i) => {
      const e = maxRelErr(got.out[i], ref.out[i]);
      assert.ok(e < 1e-4, `${shape} ${name}: ${e}`);
    });
  }
});

Deno.test("batchNormTrain() with relu: fused on WASM, the bits of tfjs's relu after it; near cpu", async () => {
  // 4-D with a summation block and a tail; 2-D; beta shifted so that about half is cut.
  const shapes = [[3, 10, 9, 8], [5, 12]];
  const run = async (backend: "cpu" | "wasm", shape: number[], fused: boolean) => {
    await selectBackend({ backend, threads: backend === "wasm" ? 1 : undefined });
    setFusedBnRelu(fused);
    try {
      const c = shape[shape.length - 1];
      const x = tf.randomNormal(shape, 0, 2, "float32", 1);
      const g = tf.randomUniform([c], 0.5, 1.5, "float32", 2) as tf.Tensor1D;
      const b = tf.randomNormal([c], 0, 1, "float32", 3) as tf.Tensor1D;
      const r = tf.randomNormal(shape, 0, 1, "float32", 4);
      const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
        batchNormTrain(xx, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-5, { relu: true }).y;
      const y = f(x, g, b);
      const grads = tf.grads((xx, gg, bb) => tf.sum(tf.mul(f(xx, gg, bb), r)))([x, g, b]);
      const out = await Promise.all([y, ...grads].map((t) => t.data()));
      const { kernelNames } = await tf.profile(() => tf.grad((xx) => tf.sum(f(xx, g, b)))(x));
      tf.dispose([x, g, b, r, y, ...grads]);
      return { out: out as Float32Array[], relu: kernelNames.includes("Relu") };
    } finally {
      setFusedBnRelu(true);
    }
  };
  for (const shape of shapes) {
    const { out: fused, relu: fusedRelu } = await run("wasm", shape, true);
    const { out: apart, relu: apartRelu } = await run("wasm", shape, false);
    const { out: ref } = await run("cpu", shape, true);
    assert.deepEqual([fusedRelu, apartRelu], [false, true], "fused: no Relu kernel; apart: Relu");
    const zeros = fused[0].filter((v) => v === 0).length;
    assert.ok(zeros > fused[0].length / 5 && zeros < fused[0].length * 0.8, `${zeros} cut`);
    ["y", "dx", "dgamma", "dbeta"].forEach((name, i) => {
      assert.deepEqual(fused[i], apart[i], `${shape} ${name}: fused differs from tfjs's relu`);
      const e = maxRelErr(fused[i], ref[i]);
      assert.ok(e < 1e-4, `${shape} ${name} against cpu: ${e}`);
    });
  }
});

Deno.test("a BatchNorm training step (relu fused) on the WASM kernels leaks no tensor", async () => {
  await selectBackend({ backend: "wasm", threads: 1 });
  const x = tf.randomNormal([2, 4, 4, 8]);
  const g = tf.variable(tf.ones([8])), b = tf.variable(tf.zeros([8]));
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(
      () =>
        tf.sum(
          tf.square(
            batchNormTrain(x, g as tf.Variable<tf.Rank.R1>, b as tf.Variable<tf.Rank.R1>, 1e-5, {
              relu: true,
            }).y,
          ),
        ) as tf.Scalar,
      [g, b],
    );
    tf.dispose([value, ...Object.values(grads)]);
  });
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, g, b]);
});

Deno.test("transposed matrix products on WASM (byel's gemm kernels) match cpu", async () => {
  const cases: [[number, number], [number, number], boolean, boolean][] = [
    [[32, 512], [32, 256], true, false], // dense weight gradient xᵀ dy
    [[32, 256], [512, 256], false, true], // dense input gradient dy Wᵀ
    [[20, 12], [20, 8], true, false],
    [[12, 20], [8, 20], false, true],
    [[6, 5], [6, 3], true, false], // not multiples of 4: tfjs's own kernel
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const run = async (backend: "cpu" | "wasm") => {
      await selectBackend({ backend, threads: backend === "wasm" ? 1 : undefined });
      const a = tf.randomNormal(sa, 0, 1, "float32", 1) as tf.Tensor2D;
      const b = tf.randomNormal(sb, 0, 1, "float32", 2) as tf.Tensor2D;
      const c = tf.matMul(a, b, ta, tb);
      const out = await c.data() as Float32Array;
      tf.dispose([a, b, c]);
      return out;
    };
    const ref = await run("cpu");
    const got = await run("wasm");
    const e = maxRelErr(got, ref);
    assert.ok(e < 1e-5, `${sa} x ${sb} (${ta}, ${tb}): ${e}`);
  }
  // The kernels take the multiples of 4 and leave the rest to tfjs.
  await selectBackend({ backend: "wasm", threads: 1 });
  const a = tf.ones([1, 8, 4]), b = tf.ones([1, 8, 12]);
  const args = (x: tf.Tensor, y: tf.Tensor) => ({
    inputs: { a: x, b: y },
    backend: tf.backend(),
    attrs: { transposeA: true, transposeB: false },
  });
  const c = transposedMatMul(args(a, b));
  assert.ok(c);
  assert.deepEqual(c.shape, [1, 4, 12]);
  tf.backend().disposeData(c.dataId);
  assert.equal(transposedMatMul(args(tf.ones([1, 8, 3]), b)), null);
  tf.dispose([a, b]);
});
