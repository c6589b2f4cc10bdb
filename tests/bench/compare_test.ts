/**
 * bench/compare.ts: byel's and PyTorch's rows joined by name, a ratio only where both sides
 * timed the same spec, loop rows compared with their bare step, and the header naming
 * PyTorch's version, BLAS and memory format (also in the final JSON line).
 */
import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { compareRows, describeSpec, formatTable, type TorchReport } from "../../bench/compare.ts";
import { benchSpec, canonicalJson, quickConfig } from "../../bench/spec.ts";

const spec = benchSpec(quickConfig());
const torch: TorchReport = {
  torch_version: "1.13.0a0",
  blas: "openblas",
  blas_detail: { config: "OpenBLAS 0.3.21 DYNAMIC_ARCH", threads: 1 },
  memory_format: "channels_last",
  threads: 2,
  rows: [
    { name: "byel/r18-w1/64", img_s: 40 },
    { name: "byel/quick", img_s: 20, spec },
    { name: "supervised/quick", img_s: 50, spec: { ...spec, arch: { ...spec.arch, width: 1 } } },
    { name: "inference/quick", error: "RuntimeError: out of memory" },
  ],
};
const byel = {
  deno: "2.9.6",
  tfjs: "4.22.0",
  quick_spec: spec,
  rows: [
    { name: "byel/r18-w1/64", backend: "wasm", threads: 2, img_s: 10, gflop_s: 5 },
    { name: "inference/r18-w1/64", backend: "wasm", threads: 2, img_s: 100 },
    { name: "byel/quick", backend: "wasm", threads: 2, img_s: 5, spec },
    { name: "supervised/quick", backend: "wasm", threads: 2, img_s: 25, spec },
    {
      name: "loop/pretrain",
      backend: "wasm",
      threads: 2,
      img_s: 4,
      step_img_s: 5,
      ratio: 0.8,
    },
    { name: "*", backend: "webgpu", error: "no adapter" },
  ],
  simd_peak_gflops_per_thread: { mul_add: 45, fma: null },
};

Deno.test("compareRows() joins by name, loop rows against their step, specs must match", () => {
  assertEquals(compareRows(byel, torch), [
    { name: "byel/r18-w1/64", backend: "wasm", byel_img_s: 10, torch_img_s: 40, ratio: 0.25 },
    {
      name: "inference/r18-w1/64",
      backend: "wasm",
      byel_img_s: 100,
      torch_img_s: null,
      ratio: null,
    },
    { name: "byel/quick", backend: "wasm", byel_img_s: 5, torch_img_s: 20, ratio: 0.25 },
    {
      name: "supervised/quick",
      backend: "wasm",
      byel_img_s: 25,
      torch_img_s: 50,
      ratio: null,
      note: "spec differs: the two sides timed different configs",
    },
    {
      name: "loop/pretrain",
      backend: "wasm",
      byel_img_s: 4,
      torch_img_s: null,
      ratio: 0.8,
      step_img_s: 5,
    },
  ]);
});

Deno.test("compareRows() compares specs whatever their key order", () => {
  // As Python writes it: other key order (sorted here), same values.
  const reordered = JSON.parse(canonicalJson(spec));
  const rows = compareRows(
    { rows: [{ name: "byel/quick", backend: "wasm", img_s: 5, spec }] },
    { rows: [{ name: "byel/quick", img_s: 10, spec: reordered }] },
  );
  assertEquals(rows[0].ratio, 0.5);
});

Deno.test("formatTable() prints PyTorch's version, BLAS and memory format first, JSON last", () => {
  const lines = formatTable(byel, torch);
  assert(lines[0].startsWith("PyTorch 1.13.0a0 | BLAS openblas (OpenBLAS 0.3.21"), lines[0]);
  assert(lines[0].includes("1 BLAS thread(s)") && lines[0].includes("memory format channels_last"));
  assert(lines[1].includes(`quick preset ${describeSpec(spec)}`), lines[1]);
  assert(lines[2].startsWith("row") && lines[2].includes("step img/s"));
  const last = JSON.parse(lines[lines.length - 1]);
  assertEquals(
    [last.torch_version, last.blas, last.memory_format, last.threads],
    ["1.13.0a0", "openblas", "channels_last", 2],
  );
  assertEquals(last.quick, describeSpec(spec));
  assertEquals(last.rows, compareRows(byel, torch));
  assert(lines.some((l) => l.includes("webgpu *: no adapter")));
  assert(lines.some((l) => l.includes("torch inference/quick: RuntimeError")));
  assert(lines.some((l) => l.startsWith("supervised/quick wasm: spec differs")));
  const loop = lines.find((l) => l.startsWith("loop/pretrain"))!;
  assert(/4\.0\s+-\s+5\.0\s+0\.800/.test(loop), loop);
});

Deno.test("formatTable() without PyTorch: header says so, torch fields are null", () => {
  const lines = formatTable({ rows: [{ name: "x", backend: "cpu", img_s: 1 }] }, null);
  assertEquals(lines[0], "PyTorch: not run (torch fields are null)");
  const last = JSON.parse(lines.pop()!);
  assertEquals([last.torch_version, last.blas, last.memory_format], [null, null, null]);
  assertEquals(last.rows[0].torch_img_s, null);
});

Deno.test("describeSpec() names network, batches and optimizers", () => {
  const vgg = benchSpec(
    quickConfig([
      "arch.family=vgg",
      "arch.norm=ibn",
      "arch.inputSize=48",
      "pretrain.batch=128",
      "pretrain.optimizer=adam",
      "finetune.batch=64",
    ]),
  );
  assertEquals(describeSpec(vgg), "vgg-w0.25/48 ibn imagenet, batch 128/64, adam/adam");
  const resnet = benchSpec(
    quickConfig(["arch.family=resnet", "arch.inputSize=64", "pretrain.optimizer=lars"]),
  );
  assertEquals(describeSpec(resnet).split(",")[0], "r18-w0.25/64 imagenet");
  assertEquals(describeSpec(resnet).split(",").at(-1), " lars/adam");
});
