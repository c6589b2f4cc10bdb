/**
 * The CPU backend's `Transform` (tf.image.transform), fixed for batches: tfjs-backend-cpu 4.22
 * returns from inside its batch loop, so every image after the first comes back as the fill
 * value. This wrapper runs the stock kernel once per image and lays the results end to end.
 * (WASM and WebGPU transform batches correctly; the augmentations use this kernel on every
 * backend, and the CPU backend is the reference the parity tests compare against.)
 *
 * @module
 */
import { tf } from "../../deps.ts";

let _registered = false;

/** Registers the batch-correct CPU `Transform`. Idempotent. */
export function registerCpuTransform(): void {
  if (_registered) return;
  const stock = tf.getKernel("Transform", "cpu");
  if (!stock) return;
  _registered = true;
  tf.unregisterKernel("Transform", "cpu");
  tf.registerKernel({
    kernelName: "Transform",
    backendName: "cpu",
    kernelFunc: (args) => {
      const { image, transforms } = args.inputs as {
        image: tf.TensorInfo;
        transforms: tf.TensorInfo;
      };
      // deno-lint-ignore no-explicit-any
      const backend = args.backend as any;
      const [batch, h, w, c] = image.shape;
      if (batch <= 1) return stock.kernelFunc(args);
      const px = backend.data.get(image.dataId).values as Float32Array;
      const tv = backend.data.get(transforms.dataId).values as Float32Array;
      const parts: Float32Array[] = [];
      let outShape: number[] = [];
      for (let b = 0; b < batch; b++) {
        const one = backend.makeTensorInfo(
          [1, h, w, c],
          image.dtype,
          px.slice(b * h * w * c, (b + 1) * h * w * c),
        );
        const t = backend.makeTensorInfo(
          [1, 8],
          "float32",
          transforms.shape[0] === 1 ? tv.slice(0, 8) : tv.slice(b * 8, b * 8 + 8),
        );
        const out = stock.kernelFunc({
          ...args,
          inputs: { image: one, transforms: t },
        }) as tf.TensorInfo;
        parts.push(backend.data.get(out.dataId).values as Float32Array);
        outShape = out.shape;
        for (const x of [one, t, out]) backend.disposeIntermediateTensorInfo(x);
      }
      const n = parts[0].length, all = new Float32Array(n * batch);
      parts.forEach((p, b) => all.set(p, b * n));
      return backend.makeTensorInfo([batch, ...outShape.slice(1)], image.dtype, all);
    },
  });
}
