/**
 * The WASM Winograd convolution (`src/backend/kernels/winograd.ts`): the shipped WebAssembly
 * modules keep the rules that make sharing tfjs's memory safe; forward convolutions (plain and
 * fused with bias and relu, F(2x2, 3x3) and F(4x4, 3x3), "same", "valid" and odd sizes) and the
 * input gradient match the CPU backend; transformed filters are cached per filter and freed
 * with it; tiny convolutions stay on tfjs's kernel.
 */
import assert from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { selectBackend } from "../src/backend/select.ts";
import {
  clearWinogradCache,
  setWinograd,
  winogradCacheSize,
  winogradEligible,
  winogradTile,
} from "../src/backend/kernels/winograd.ts";
import { PLAIN, SHARED } from "../src/backend/kernels/winograd/winograd_wasm.ts";
import { maxRelErr } from "./_grad_cases.ts";

type Shape4 = [number, number, number, number];

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

Deno.test("the Winograd modules import one memory and have no data, start or stack use", () => {
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
        "wino43_filter",
        "wino43_input",
        "wino43_output",
        "wino_dy",
        "wino_filter",
        "wino_filter_grad",
        "wino_input",
        "wino_input_t",
        "wino_output",
      ],
    );
  }
});

Deno.test("winogradEligible() and winogradTile() pick the convolutions and tile sizes", () => {
  const g = (x: Shape4, f: Shape4, s = 1, d = 1) => ({
    xShape: x,
    filterShape: f,
    strides: [s, s] as [number, number],
    dilations: [d, d] as [number, number],
    dataFormat: "NHWC",
  });
  assert.equal(winogradEligible(g([32, 16, 16, 64], [3, 3, 64, 64])), true);
  assert.equal(winogradEligible(g([32, 16, 16, 64], [3, 3, 64, 64], 2)), false); // stride 2
  assert.equal(winogradEligible(g([32, 16, 16, 64], [3, 3, 64, 64], 1, 2)), false); // dilated
  assert.equal(winogradEligible(g([32, 16, 16, 64], [1, 1, 64, 64])), false); // 1x1
  assert.equal(winogradEligible(g([32, 16, 16, 64], [3, 3, 64, 62])), false); // K % 4
  assert.equal(winogradEligible(g([32, 16, 16, 16], [3, 3, 16, 16])), false); // too narrow
  assert.equal(winogradEligible(g([1, 4, 4, 64], [3, 3, 64, 64])), false); // too little work
  assert.equal(winogradTile(16, 16), 4);
  assert.equal(winogradTile(4, 5), 4);
  assert.equal(winogradTile(2, 2), 2);
  assert.equal(winogradTile(8, 3), 2);
});

interface Case {
  x: Shape4;
  f: Shape4;
  pad: "same" | "valid" | number;
  fused?: "relu" | "linear";
}

const CASES: Case[] = [
  { x: [2, 8, 8, 32], f: [3, 3, 32, 36], pad: "same" }, // F(4x4), exact tiles
  { x: [3, 7, 9, 8], f: [3, 3, 8, 12], pad: "same" }, // F(4x4), partial tiles
  { x: [2, 2, 2, 16], f: [3, 3, 16, 8], pad: "same" }, // F(2x2)
  { x: [2, 5, 3, 4], f: [3, 3, 4, 4], pad: "same" }, // F(2x2), odd sizes
  { x: [2, 9, 9, 8], f: [3, 3, 8, 8], pad: "valid" }, // 7x7 out, no padding
  { x: [1, 6, 6, 4], f: [3, 3, 4, 8], pad: 2 }, // explicit padding 2: 8x8 out
  { x: [2, 8, 8, 16], f: [3, 3, 16, 16], pad: "same", fused: "relu" },
  { x: [2, 3, 3, 8], f: [3, 3, 8, 4], pad: "same", fused: "linear" },
];

async function convOn(backend: "cpu" | "wasm", c: Case): Promise<Float32Array> {
  await selectBackend({ backend, threads: backend === "wasm" ? 1 : undefined });
  return tf.tidy(() => {
    const x = tf.randomNormal(c.x, 0, 1, "float32", 1) as tf.Tensor4D;
    const f = tf.randomNormal(c.f, 0, 0.3, "float32", 2) as tf.Tensor4D;
    const bias = tf.randomNormal([c.f[3]], 0, 1, "float32", 3) as tf.Tensor1D;
    return c.fused
      ? tf.fused.conv2d({ x, filter: f, strides: 1, pad: c.pad, bias, activation: c.fused })
      : tf.conv2d(x, f, 1, c.pad);
  }).dataSync() as Float32Array;
}

Deno.test("Winograd convolutions on wasm match the cpu backend", async () => {
  setWinograd(true, { anySize: true });
  try {
    for (const c of CASES) {
      const ref = await convOn("cpu", c);
      const got = await convOn("wasm", c);
      const e = maxRelErr(got, ref);
      assert.ok(e < 1e-4, `${JSON.stringify(c)}: max rel err ${e}`);
      // Without Winograd the same call differs (else this test would not test it).
      setWinograd(false);
      const direct = await convOn("wasm", c);
      setWinograd(true, { anySize: true });
      assert.ok(maxRelErr(direct, got) > 0, `${JSON.stringify(c)} did not run Winograd`);
    }
  } finally {
    setWinograd(true);
  }
});

Deno.test("input and filter gradients by Winograd on wasm match cpu", async () => {
  const grads = async (backend: "cpu" | "wasm") => {
    await selectBackend({ backend, threads: backend === "wasm" ? 1 : undefined });
    const x = tf.randomNormal([2, 8, 8, 16], 0, 1, "float32", 4) as tf.Tensor4D;
    const f = tf.randomNormal([3, 3, 16, 20], 0, 0.3, "float32", 5) as tf.Tensor4D;
    const r = tf.randomNormal([2, 8, 8, 20], 0, 1, "float32", 6);
    const [dx, df] = tf.grads((a, b) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same"), r))
    )([x, f]);
    const out = [await dx.data(), await df.data()] as Float32Array[];
    tf.dispose([x, f, r, dx, df]);
    return out;
  };
  try {
    const ref = await grads("cpu");
    setWinograd(false);
    const direct = await grads("wasm");
    setWinograd(true, { anySize: true });
    const got = await grads("wasm");
    for (const [i, name] of ["dx", "dfilter"].entries()) {
      assert.ok(maxRelErr(got[i], ref[i]) < 1e-4, `${name}: ${maxRelErr(got[i], ref[i])}`);
      assert.ok(maxRelErr(got[i], direct[i]) > 0, `${name} did not go through Winograd`);
    }
  } finally {
    setWinograd(true);
  }
});

Deno.test("transformed filters are cached per filter and freed after it", async () => {
  await selectBackend({ backend: "wasm", threads: 1 });
  setWinograd(true, { anySize: true });
  try {
    const x = tf.randomNormal([1, 8, 8, 8], 0, 1, "float32", 7) as tf.Tensor4D;
    const f1 = tf.randomNormal([3, 3, 8, 8], 0, 1, "float32", 8) as tf.Tensor4D;
    clearWinogradCache();
    tf.conv2d(x, f1, 1, "same").dispose();
    assert.equal(winogradCacheSize(), 1);
    tf.conv2d(x, f1, 1, "same").dispose();
    assert.equal(winogradCacheSize(), 1, "second call with the same filter: a hit");
    f1.dispose();
    const f2 = tf.randomNormal([3, 3, 8, 8], 0, 1, "float32", 9) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    tf.conv2d(x, f2, 1, "same").dispose();
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
    assert.equal(winogradCacheSize(), 1, "f1's entry was swept when f2's was added");
    tf.dispose([x, f2]);
  } finally {
    setWinograd(true);
  }
});

Deno.test({
  name: "Winograd on threaded WASM (shared memory module) matches tfjs's convolution",
  ignore: (navigator.hardwareConcurrency ?? 1) < 2,
  fn: async () => {
    const sel = new URL("../src/backend/select.ts", import.meta.url).href;
    const wino = new URL("../src/backend/kernels/winograd.ts", import.meta.url).href;
    const deps = new URL("../src/deps.ts", import.meta.url).href;
    const code = `import { selectBackend } from "${sel}"; import { tf } from "${deps}";
      import { setWinograd } from "${wino}";
      const info = await selectBackend({ backend: "wasm", threads: 2 });
      const shared = tf.backend().wasm.wasmMemory?.buffer instanceof SharedArrayBuffer;
      const x = tf.randomNormal([8, 16, 16, 64], 0, 1, "float32", 1);
      const f = tf.randomNormal([3, 3, 64, 64], 0, 0.1, "float32", 2);
      const w = tf.conv2d(x, f, 1, "same").dataSync();
      setWinograd(false);
      const d = tf.conv2d(x, f, 1, "same").dataSync();
      let e = 0, diff = 0;
      for (let i = 0; i < d.length; i++) {
        e = Math.max(e, Math.abs(w[i] - d[i]) / (1 + Math.abs(d[i])));
        if (w[i] !== d[i]) diff++;
      }
      console.log(JSON.stringify({ threads: info.threads, shared, e, diff }));`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", code],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const text = new TextDecoder().decode(out.stdout).trim();
    const r = JSON.parse(text.split("\n").pop()!);
    assert.equal(r.threads, 2);
    assert.equal(r.shared, true);
    assert.ok(r.diff > 0, "Winograd did not run");
    assert.ok(r.e < 1e-4, `max rel err ${r.e}`);
  },
});
