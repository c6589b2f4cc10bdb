/**
 * The WASM convolution gradients: tfjs's stock `Conv2DBackpropInput` (a scalar loop) against
 * ours (XNNPACK forward convolutions), and our `Conv2DBackpropFilter` (tfjs has none), on
 * ResNet-18 layer shapes at 64 px, batch 32. Prints one JSON object.
 *
 *   deno run -A bench/wasm_conv_grads.ts [--threads N] [--reps 3]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { tf, tfwasm } from "../src/deps.ts";
import { startWasm } from "../src/backend/wasm.ts";
import { registerWasmConvGrads } from "../src/backend/kernels/wasm_conv_grads.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { threads: { type: "string", default: "8" }, reps: { type: "string", default: "3" } },
});
const reps = Number(values.reps);
// [input shape, filter shape, stride]: ResNet-18 at 64 px, batch 32
type Shape4 = [number, number, number, number];
const SHAPES: [Shape4, Shape4, number][] = [
  [[32, 16, 16, 64], [3, 3, 64, 64], 1],
  [[32, 16, 16, 64], [3, 3, 64, 128], 2],
  [[32, 8, 8, 128], [3, 3, 128, 128], 1],
  [[32, 4, 4, 256], [3, 3, 256, 256], 1],
  [[32, 16, 16, 64], [1, 1, 64, 128], 2],
];

function time(f: () => tf.Tensor): number {
  f().dispose(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f().dispose();
  return (performance.now() - t0) / reps;
}

// Start WASM with the stock kernels (so the stock input gradient is set up), time it, then
// register ours and time again.
await startWasm({ simd: true, threads: Number(values.threads) });
const cases = SHAPES.map(([xs, ws, s]) => {
  const x = tf.randomNormal(xs) as tf.Tensor4D;
  const w = tf.randomNormal(ws) as tf.Tensor4D;
  const dy = tf.conv2d(x, w, s, "same");
  return { xs, ws, s, x, w, dy };
});
const stock = cases.map((c) => time(() => tf.conv2dTranspose(c.dy, c.w, c.xs, c.s, "same")));
registerWasmConvGrads();
const rows = cases.map((c, i) => {
  const input = time(() => tf.conv2dTranspose(c.dy, c.w, c.xs, c.s, "same"));
  const filter = time(() =>
    tf.grad((w: tf.Tensor) => tf.conv2d(c.x, w as tf.Tensor4D, c.s, "same"))(c.w)
  );
  const forward = time(() => tf.conv2d(c.x, c.w, c.s, "same"));
  return {
    x: c.xs.join("x"),
    w: c.ws.join("x"),
    stride: c.s,
    forward_ms: +forward.toFixed(1),
    input_grad_stock_ms: +stock[i].toFixed(1),
    input_grad_ms: +input.toFixed(1),
    filter_grad_ms: +filter.toFixed(1),
  };
});
console.log(JSON.stringify({ bench: "wasm_conv_grads", threads: tfwasm.getThreadsCount(), rows }));
Deno.exit(0);
