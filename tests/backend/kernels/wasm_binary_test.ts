/**
 * Broadcast `Add`, `Sub`, `Multiply` and `RealDiv` on WASM (`src/backend/kernels/wasm_binary.ts`):
 * which shapes are taken (suffix and prefix patterns), the bits of the CPU backend (float32
 * add, sub, mul and div are correctly rounded both ways) for every pattern, operand order,
 * odd sizes and zeros, on one thread and on two, and no leaked buffer.
 */
import assert from "node:assert/strict";
import { tf } from "../../../src/deps.ts";
import { selectBackend } from "../../../src/backend/select.ts";
import {
  BROADCAST_MIN_SIZE,
  broadcastPattern,
  setOwnBroadcast,
} from "../../../src/backend/kernels/wasm_binary.ts";
import { simdKernels, type WasmBackend } from "../../../src/backend/kernels/wasm_simd.ts";

Deno.test("broadcastPattern() finds suffix and prefix broadcasts and nothing else", () => {
  assert.deepEqual(broadcastPattern([3], [8, 5, 5, 3]), { kind: "suffix", n: 3 });
  assert.deepEqual(broadcastPattern([1, 5, 3], [8, 5, 5, 3]), { kind: "suffix", n: 15 });
  assert.deepEqual(broadcastPattern([8, 5, 5, 1], [8, 5, 5, 3]), { kind: "prefix", n: 3 });
  assert.deepEqual(broadcastPattern([8, 1, 1, 1], [8, 5, 5, 3]), { kind: "prefix", n: 75 });
  assert.deepEqual(broadcastPattern([8, 1], [8, 6]), { kind: "prefix", n: 6 });
  assert.equal(broadcastPattern([8, 1, 1, 3], [8, 5, 5, 3]), null); // mixed
  assert.equal(broadcastPattern([5, 1], [8, 5, 3]), null); // a middle dimension only
  assert.equal(broadcastPattern([8, 5, 5, 3], [8, 5, 5, 3]), null); // equal shapes
  assert.equal(broadcastPattern([1], [8, 5]), null); // one value
  assert.equal(broadcastPattern([1, 1], [8, 5]), null);
});

/** Operands: `big` has the output's shape (with zeros in it), `small` is broadcast. */
const CASES: [number[], number[]][] = [
  [[37, 11, 13, 3], [3]], // suffix of 3: groups of 4 rows, 3 rows left over
  [[37, 11, 13, 3], [37, 11, 13, 1]], // prefix of 3
  [[37, 11, 13, 3], [37, 1, 1, 1]], // a value per image
  [[9, 21, 22, 5], [22, 5]], // suffix of 110: vectors and a scalar tail per row
  [[9, 21, 22, 7], [9, 21, 1, 1]], // prefix of 154
  [[130, 257], [130, 1]],
  [[64, 64, 2], [2]],
  [[40, 40, 16], [16]],
];
const OPS = ["add", "sub", "mul", "div"] as const;

function run(c: [number[], number[]], op: (typeof OPS)[number], swap: boolean): Float32Array {
  return tf.tidy(() => {
    const [big, small] = c;
    const zeros = tf.floor(tf.randomUniform(big, 0, 2, "float32", 2)); // about half zeros
    const a = tf.mul(tf.randomNormal(big, 0, 3, "float32", 1), zeros);
    const b = tf.randomNormal(small, 0, 1, "float32", 3);
    return (swap ? tf[op](b, a) : tf[op](a, b)).dataSync() as Float32Array;
  });
}

for (const threads of [1, 2]) {
  Deno.test(`broadcast binary operations on WASM (${threads} thread(s)) give the CPU's bits`, async () => {
    const ref = new Map<string, Float32Array>();
    await selectBackend({ backend: "cpu" });
    for (const c of CASES) {
      for (const op of OPS) {
        for (const swap of [false, true]) ref.set(`${c}${op}${swap}`, run(c, op, swap));
      }
    }
    await selectBackend({ backend: "wasm", threads });
    assert.ok(simdKernels(tf.backend()), "byel's SIMD kernels load");
    const be = tf.backend() as WasmBackend & { numDataIds(): number };
    const before = be.numDataIds();
    try {
      for (const c of CASES) {
        assert.ok(c[0].reduce((x, y) => x * y) >= BROADCAST_MIN_SIZE, `${c} is large enough`);
        for (const op of OPS) {
          for (const swap of [false, true]) {
            const got = run(c, op, swap), want = ref.get(`${c}${op}${swap}`)!;
            const i = got.findIndex((v, k) => !Object.is(v, want[k]));
            assert.equal(
              i,
              -1,
              `${c} ${op}${swap ? " swapped" : ""}: [${i}] ${got[i]} != ${want[i]}`,
            );
          }
        }
      }
      assert.equal(be.numDataIds(), before, "no buffer leaked");
      // And the speed-up the kernels are for: tfjs's loop takes several times as long.
      const x = tf.randomUniform([128, 48, 48, 3]), m = tf.tensor1d([0.485, 0.456, 0.406]);
      const time = (own: boolean) => {
        setOwnBroadcast(own);
        let best = Infinity;
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          tf.sub(x, m).dispose();
          best = Math.min(best, performance.now() - t0);
        }
        return best;
      };
      const [tfjs, own] = [time(false), time(true)];
      assert.ok(own < tfjs, `byel's ${own.toFixed(2)} ms against tfjs's ${tfjs.toFixed(2)} ms`);
      tf.dispose([x, m]);
    } finally {
      setOwnBroadcast(true);
    }
  });
}
