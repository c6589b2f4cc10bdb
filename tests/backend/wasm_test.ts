/**
 * Threaded WASM under Deno: it starts with one thread per core (up to 8), the threads really
 * compute (each OS thread's CPU time, from /proc, grows during a matmul), and a script using it
 * exits by itself.
 */
import assert from "node:assert/strict";
import { evalJson, repoUrl } from "../_helpers/eval_script.ts";
import { tf, tfwasm } from "../../src/deps.ts";
import { logicalCores, selectBackend, wasmThreadsSupported } from "../../src/backend/select.ts";

const linux = Deno.build.os === "linux";

/**
 * CPU ticks (user + system) per OS thread of this process. Read through `sh` because Deno asks
 * for --allow-all to read /proc directly, and the suite runs under the narrow `-P` set.
 */
function threadTicks(): Map<string, number> {
  const out = new Map<string, number>();
  const { stdout } = new Deno.Command("sh", {
    args: ["-c", `cat /proc/${Deno.pid}/task/*/stat 2>/dev/null`],
    stdout: "piped",
  }).outputSync();
  for (const stat of new TextDecoder().decode(stdout).split("\n")) {
    if (!stat.trim()) continue;
    const tid = stat.slice(0, stat.indexOf(" "));
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.set(tid, Number(f[11]) + Number(f[12])); // utime, stime (fields 14, 15)
  }
  return out;
}

Deno.test({
  name: "threaded WASM runs XNNPACK on several OS threads",
  ignore: !linux || !wasmThreadsSupported() || logicalCores() < 2,
  fn: async () => {
    const info = await selectBackend({ backend: "wasm" });
    const want = Math.min(8, logicalCores());
    assert.equal(info.threads, want);
    assert.equal(tfwasm.getThreadsCount(), want);
    const a = tf.randomNormal([768, 768], 0, 1, "float32", 1);
    tf.matMul(a, a).dispose(); // warm-up
    const before = threadTicks();
    // ~22 GFLOP: about half a second on two cores, long enough for 10 ms clock ticks
    for (let i = 0; i < 24; i++) tf.matMul(a, a).dispose(); // WASM kernels run synchronously
    const after = threadTicks();
    a.dispose();
    const deltas = [...after].map(([id, t]) => t - (before.get(id) ?? 0)).sort((x, y) => y - x);
    // Another thread must have done at least a fifth of what the busiest did; the cores here
    // are shared with other processes, so an even split is not expected.
    assert.ok(deltas[0] >= 5, `too little CPU time measured: ${deltas.slice(0, 4)}`);
    assert.ok(deltas[1] >= 0.2 * deltas[0], `per-thread CPU ticks ${deltas.slice(0, 4)}`);
  },
});

Deno.test({
  name: "a script that starts threaded WASM exits by itself",
  ignore: !wasmThreadsSupported() || logicalCores() < 2,
  fn: async () => {
    const code = `import { selectBackend } from "${repoUrl("src/backend/select.ts")}";
      import { tf } from "${repoUrl("src/deps.ts")}";
      const info = await selectBackend({ backend: "wasm" });
      const s = tf.sum(tf.matMul(tf.ones([64, 64]), tf.ones([64, 64]))).dataSync()[0];
      console.log(JSON.stringify({ threads: info.threads, s }));`;
    assert.deepEqual(await evalJson(code), {
      threads: Math.min(8, logicalCores()),
      s: 64 * 64 * 64,
    });
  },
});
