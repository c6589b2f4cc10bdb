/**
 * The fused F(4x4) Winograd convolution (`wino43_conv`) against the staged pipeline (input
 * transform, products and output transform each over the whole batch), side by side in one
 * process: per layer shape, a new filter every call (as in training), with bias and relu, the
 * two alternating (which goes first alternates too). Also checks that both give the same bits.
 * The source of `FUSED_CHUNK` and `FUSED_MAX_FILTER` (`src/backend/kernels/winograd.ts`).
 *
 *   deno run -A bench/winograd_fused.ts [--shapes 128x48x16x16,...] [--rounds 11] [--serial]
 *
 * Shapes are batch x side x in x out channels; the default is the quick preset's layers at its
 * batch. `--serial` runs byel's kernels on one thread (as in the browser).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { tf } from "../src/deps.ts";
import { selectBackend } from "../src/backend/select.ts";
import { setSimdParallel } from "../src/backend/kernels/wasm_simd.ts";
import { setWinogradFused } from "../src/backend/kernels/winograd.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    shapes: {
      type: "string",
      default: "128x48x16x16,128x24x16x32,128x24x32x32,128x12x32x64,128x12x64x64," +
        "128x6x64x128,128x6x128x128",
    },
    rounds: { type: "string", default: "11" },
    serial: { type: "boolean", default: false },
  },
});
const info = await selectBackend({ backend: "wasm" });
if (values.serial) setSimdParallel(false);
console.log(
  `backend ${info.name}; byel's kernels on ${values.serial ? "one thread" : "every thread"}`,
);
const rounds = Number(values.rounds);
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
for (const spec of values.shapes.split(",")) {
  const [b, s, c, k] = spec.split("x").map(Number);
  const x = tf.randomNormal([b, s, s, c]) as tf.Tensor4D;
  const f = tf.randomNormal([3, 3, c, k], 0, 0.05) as tf.Tensor4D;
  const bias = tf.randomNormal([k]) as tf.Tensor1D;
  const ms = { fused: [] as number[], staged: [] as number[] };
  const first: Partial<Record<keyof typeof ms, Float32Array>> = {};
  for (let r = 0; r <= rounds; r++) {
    for (const fused of r % 2 ? [true, false] : [false, true]) {
      setWinogradFused(fused);
      const filter = tf.add(f, 0) as tf.Tensor4D; // a new filter, as every training step
      await filter.data();
      const t0 = performance.now(); // WASM kernels run synchronously: the call is the work
      const y = tf.fused.conv2d({ x, filter, strides: 1, pad: "same", bias, activation: "relu" });
      const dt = performance.now() - t0;
      const key = fused ? "fused" : "staged";
      if (r > 0) ms[key].push(dt); // round 0 warms up
      else first[key] = await y.data() as Float32Array;
      tf.dispose([y, filter]);
    }
  }
  setWinogradFused(true);
  const same = first.fused!.every((v, i) => Object.is(v, first.staged![i]));
  const [fu, st] = [median(ms.fused), median(ms.staged)];
  console.log(JSON.stringify({
    shape: spec,
    staged_ms: +st.toFixed(2),
    fused_ms: +fu.toFixed(2),
    speedup: +(st / fu).toFixed(2),
    same_bits: same,
  }));
  tf.dispose([x, f, bias]);
}
