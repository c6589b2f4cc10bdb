/**
 * Kernel coverage and a full training step across backends: every kernel the miniature ResNet
 * step runs (recorded on CPU) is registered for cpu, wasm and webgpu; the step's loss and
 * updated weights agree across backends; and it leaks no tensors.
 */
import assert from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { selectBackend } from "../src/backend/select.ts";
import { probeAdapter } from "../src/backend/webgpu.ts";
import { maxRelErr } from "./_grad_cases.ts";
import { initialValues, PARAM_SHAPES, step } from "./_mini_step.ts";

const hasAdapter = typeof (await probeAdapter()) !== "string";

async function runStep(): Promise<
  { loss: number; online: Float32Array[]; target: Float32Array[] }
> {
  const shapes = Object.values(PARAM_SHAPES);
  const init = initialValues();
  const online = init.map((v, i) => tf.tensor(v, shapes[i]));
  const target = init.map((v, i) => tf.tensor(v, shapes[i]));
  const n0 = tf.memory().numTensors;
  const r = step(online, target);
  const out = {
    loss: (await r.loss.data())[0],
    online: await Promise.all(r.online.map((t) => t.data() as Promise<Float32Array>)),
    target: await Promise.all(r.target.map((t) => t.data() as Promise<Float32Array>)),
  };
  tf.dispose([r.loss, ...r.online, ...r.target]);
  assert.equal(tf.memory().numTensors, n0, `${tf.getBackend()}: the step leaked tensors`);
  tf.dispose([...online, ...target]);
  return out;
}

Deno.test({
  name: "every kernel of a training step is registered on cpu, wasm and webgpu",
  fn: async () => {
    await selectBackend({ backend: "cpu" });
    const prof = await tf.profile(() => runStep());
    // kernelNames also lists custom-gradient scopes ("forward", "…__op"), which are not kernels;
    // everything that ran as a kernel on CPU is registered there.
    const used = [...new Set(prof.kernelNames)].filter((k) => tf.getKernel(k, "cpu")).sort();
    // The step must really exercise the training kernels we care about.
    for (
      const k of [
        "Conv2D",
        "Conv2DBackpropFilter",
        "Conv2DBackpropInput",
        "MaxPool",
        "MaxPoolGrad",
        "BatchMatMul",
        "Relu",
        "Mean",
        "Exp", // softmax cross-entropy goes through logSumExp
        "Rsqrt",
      ]
    ) assert.ok(used.includes(k), `${k} not used; used: ${used.join(" ")}`);
    const missing = ["cpu", "wasm", "webgpu"].flatMap((b) =>
      used.filter((k) => !tf.getKernel(k, b)).map((k) => `${b}:${k}`)
    );
    assert.deepEqual(missing, []);
  },
});

Deno.test({
  name: "a training step gives the same loss and weights on cpu, wasm and webgpu",
  fn: async () => {
    await selectBackend({ backend: "cpu" });
    const ref = await runStep();
    assert.ok(Number.isFinite(ref.loss) && ref.loss > 0);
    const others: ["wasm" | "webgpu", number][] = [["wasm", 1e-4]];
    if (hasAdapter) others.push(["webgpu", 1e-3]);
    for (const [b, tol] of others) {
      await selectBackend({ backend: b });
      const got = await runStep();
      assert.ok(
        Math.abs(got.loss - ref.loss) < tol * (1 + ref.loss),
        `${b} loss ${got.loss} vs ${ref.loss}`,
      );
      for (const part of ["online", "target"] as const) {
        got[part].forEach((w, i) => {
          const e = maxRelErr(w, ref[part][i]);
          assert.ok(e < tol, `${b} ${part}[${i}] max rel err ${e}`);
        });
      }
      // the update moved the weights (so the comparison is not of unchanged inputs)
      assert.ok(maxRelErr(got.online[0], ref.target[0]) > 1e-4);
    }
  },
});
