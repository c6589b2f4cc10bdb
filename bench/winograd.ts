/**
 * Winograd F(2x2, 3x3) against tfjs's XNNPACK convolution on WASM, per ResNet-18 layer shape
 * (forward, 3x3, stride 1, "same"), side by side in one process; also the smallest channel
 * counts, where the transforms stop paying (the source of `WINOGRAD_MIN_CHANNELS`).
 *
 *   deno run -A bench/winograd.ts [--batch 32] [--size 64] [--threads N] [--reps 10]
 *
 * Prints one JSON object: per shape, milliseconds per call (median) both ways and the speed-up.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { tf } from "../src/deps.ts";
import { selectBackend } from "../src/backend/select.ts";
import { setWinograd } from "../src/backend/kernels/winograd.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    batch: { type: "string", default: "32" },
    size: { type: "string", default: "64" },
    threads: { type: "string" },
    reps: { type: "string", default: "10" },
  },
});
const info = await selectBackend({
  backend: "wasm",
  threads: values.threads ? Number(values.threads) : undefined,
});
const batch = Number(values.batch), reps = Number(values.reps), s = Number(values.size) / 4;
const shapes: [number, number][] = [[s, 64], [s / 2, 128], [s / 4, 256], [s / 8, 512]];
shapes.push([s, 16], [s, 32]); // narrow networks

async function median(f: () => tf.Tensor): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i <= reps; i++) {
    const t0 = performance.now();
    const y = f();
    await y.data();
    y.dispose();
    if (i > 0) ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)];
}

const rows = [];
for (const [hw, c] of shapes) {
  const x = tf.randomNormal([batch, hw, hw, c], 0, 1, "float32", 1) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, c, c], 0, 0.1, "float32", 2) as tf.Tensor4D;
  const conv = () => tf.conv2d(x, w, 1, "same");
  setWinograd(false);
  const direct = await median(conv);
  setWinograd(true);
  const wino = await median(conv);
  const row = {
    shape: `[${batch},${hw},${hw},${c}] * [3,3,${c},${c}]`,
    direct_ms: Number(direct.toFixed(2)),
    winograd_ms: Number(wino.toFixed(2)),
    speedup: Number((direct / wino).toFixed(2)),
  };
  console.error(JSON.stringify(row));
  rows.push(row);
  tf.dispose([x, w]);
}
console.log(JSON.stringify({ backend: info.name, threads: info.threads, batch, rows }));
Deno.exit(0);
