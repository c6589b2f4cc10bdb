/** selectBackend(): the order of choices, forced backends, and the reasons it gives. */
import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { UserError } from "../../src/errors.ts";
import {
  describeBackend,
  logicalCores,
  selectBackend,
  wasmSimdSupported,
  wasmThreadsSupported,
} from "../../src/backend/select.ts";
import { probeAdapter } from "../../src/backend/webgpu.ts";

const adapter = await probeAdapter();

Deno.test({
  name: "selectBackend() without an adapter falls back to threaded-SIMD WASM and says why",
  fn: async () => {
    const info = await selectBackend({ noAdapter: true });
    assert.equal(info.name, "wasm");
    assert.equal(tf.getBackend(), "wasm");
    assert.match(info.skipped[0], /^webgpu: no adapter/);
    assert.equal(info.simd, wasmSimdSupported());
    const cores = Math.min(8, logicalCores());
    assert.equal(info.threads, wasmThreadsSupported() && info.simd ? cores : 1);
    assert.match(
      describeBackend(info),
      /^backend wasm \((threaded-)?SIMD, \d+ threads?\); skipped webgpu/,
    );
  },
});

Deno.test({
  name: "selectBackend() auto skips a software adapter and takes a hardware one",
  ignore: typeof adapter === "string",
  fn: async () => {
    const info = await selectBackend({ backend: "auto" });
    assert.ok(info.adapter);
    if (info.adapter.isFallback) {
      assert.equal(info.name, "wasm");
      assert.ok(
        info.skipped.some((s) => /^webgpu: .*software adapter/.test(s)),
        info.skipped.join("|"),
      );
    } else {
      assert.equal(info.name, "webgpu");
    }
  },
});

Deno.test({
  name: "selectBackend() forced webgpu without an adapter is a UserError, not a fallback",
  fn: async () => {
    await assert.rejects(
      () => selectBackend({ backend: "webgpu", noAdapter: true }),
      (e: unknown) => e instanceof UserError && /^--backend webgpu: no adapter/.test(e.message),
    );
  },
});

Deno.test({
  name: "selectBackend() forced cpu and wasm, and an unknown name",
  fn: async () => {
    const cpu = await selectBackend({ backend: "cpu" });
    assert.deepEqual([cpu.name, tf.getBackend(), cpu.threads], ["cpu", "cpu", 1]);
    const wasm = await selectBackend({ backend: "wasm" });
    assert.deepEqual([wasm.name, tf.getBackend(), wasm.skipped], ["wasm", "wasm", []]);
    await assert.rejects(
      () => selectBackend({ backend: "tpu" as "cpu" }),
      (e: unknown) => e instanceof UserError && /"tpu".*auto, webgpu, wasm, cpu/.test(e.message),
    );
  },
});
