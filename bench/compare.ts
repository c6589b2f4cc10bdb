/**
 * `deno task bench:compare`: runs byel's benchmark (`bench/byel_bench.ts`), then the PyTorch
 * reference (`bench/reference_torch.py`) with the quick preset's spec that byel's run reported
 * (`--quick-json`), one after the other so they never share the cores, and prints:
 *
 * - a header: PyTorch's version, the BLAS it called, its memory format and threads; byel's
 *   Deno and tfjs versions and the quick preset it timed;
 * - a table: per row, byel's images/s, PyTorch's, the ratio, byel's FLOP/s and percent of the
 *   measured WASM SIMD peak. Step rows (`kind/quick`, `kind/r18-w<width>/<size>`) compare byel
 *   with PyTorch: `ratio` = byel / PyTorch, left out (with a note) when the two sides timed
 *   different specs. Loop rows (`loop/pretrain`, `loop/finetune`) compare byel's real training
 *   loop with its own bare step: `ratio` = loop / step images/s, `step_img_s` the step's;
 * - as its last line, one JSON object
 *   `{"torch_version", "blas", "memory_format", "threads", "quick", "rows": [{"name",
 *   "backend", "byel_img_s", "torch_img_s", "ratio", "step_img_s"?, "note"?}, ...]}`.
 *
 *   deno task bench:compare [--rows r18,quick,loop] [--kinds supervised,byel,inference]
 *        [--sizes 64,112] [--widths 1,0.5] [--batch 32] [--steps 3] [--threads <cores>]
 *        [--backends wasm,webgpu] [--set path=value ...] [--loop-batches 8]
 *        [--memory-format channels_last] [--python /usr/bin/python3]
 *
 * `--rows`, `--kinds`, `--sizes`, `--widths`, `--batch`, `--steps` and `--threads` go to both
 * sides; `--set` changes a field of the quick preset for both (through the spec).
 * Without PyTorch it says how to install it and still prints byel's rows (torch fields null).
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { BenchRow } from "./byel_bench.ts";
import { type BenchSpec, canonicalJson } from "./spec.ts";

/** One line of the comparison. */
export interface CompareRow {
  name: string;
  backend: string;
  /** byel's images/s (for a loop row, the whole stage's). */
  byel_img_s: number | null;
  /** PyTorch's images/s for the same row; null for loop rows or when it did not run. */
  torch_img_s: number | null;
  /**
   * Step rows: byel / PyTorch images/s. Loop rows: loop / bare step images/s. Null when either
   * is missing or the two sides timed different specs.
   */
  ratio: number | null;
  /** Loop rows: the bare step's images/s for the same config. */
  step_img_s?: number;
  /** Why `ratio` is missing though both numbers are there. */
  note?: string;
}

/** byel's benchmark output (the parts the table reads). */
export interface ByelReport {
  rows: BenchRow[];
  deno?: string;
  tfjs?: string;
  quick_spec?: BenchSpec;
  quick_overrides?: string[];
  simd_peak_gflops_per_thread?: { mul_add: number | null; fma: number | null };
  memory?: Record<string, unknown>;
}

/** The reference's output. */
export interface TorchReport {
  rows: { name: string; img_s?: number; spec?: BenchSpec; error?: string }[];
  torch_version?: string;
  /** Which BLAS PyTorch called: `openblas`, `mkl`, `blis`, `reference` or `unknown`. */
  blas?: string;
  blas_detail?: { config?: string; threads?: number; note?: string; preloaded?: string };
  memory_format?: string;
  threads?: number;
}

/** The loop rows' name prefix. */
const _LOOP = "loop/";

/**
 * Joins byel's rows with PyTorch's by name (step rows) and passes the loop rows through.
 *
 * @param byel byel's report @param torch the reference's report, or null when it did not run
 * @returns one row per byel row that has a number
 * @example
 * ```ts
 * compareRows({ rows: [{ name: "byel/quick", backend: "wasm", img_s: 10 }] },
 *   { rows: [{ name: "byel/quick", img_s: 40 }] }); // ratio 0.25
 * ```
 */
export function compareRows(byel: ByelReport, torch: TorchReport | null): CompareRow[] {
  const ref = new Map((torch?.rows ?? []).filter((r) => r.img_s != null).map((r) => [r.name, r]));
  return byel.rows.filter((r) => r.img_s !== undefined).map((r) => {
    if (r.name.startsWith(_LOOP)) {
      return {
        name: r.name,
        backend: r.backend,
        byel_img_s: r.img_s!,
        torch_img_s: null,
        ratio: r.ratio ?? (r.step_img_s ? _round(r.img_s! / r.step_img_s, 3) : null),
        step_img_s: r.step_img_s,
      };
    }
    const t = ref.get(r.name);
    const row: CompareRow = {
      name: r.name,
      backend: r.backend,
      byel_img_s: r.img_s!,
      torch_img_s: t?.img_s ?? null,
      ratio: t?.img_s ? _round(r.img_s! / t.img_s, 3) : null,
    };
    if (t && r.spec && t.spec && canonicalJson(r.spec) !== canonicalJson(t.spec)) {
      row.ratio = null;
      row.note = "spec differs: the two sides timed different configs";
    }
    return row;
  });
}

const _round = (v: number, d: number) => Number(v.toFixed(d));
const _fmt = (v: number | null | undefined, d = 1) => v == null ? "-" : v.toFixed(d);

/**
 * A spec in a few words: `vgg-w0.25/48 ibn, batch 128/128, adam/adam`.
 *
 * @param spec the quick rows' spec
 * @returns network, batches and optimizers of pretraining / fine-tuning
 */
export function describeSpec(spec: BenchSpec): string {
  const a = spec.arch;
  const net = `${a.family === "vgg" ? "vgg" : `r${a.depth}`}-w${a.width}/${a.inputSize}`;
  const norm = a.family === "vgg" && a.norm !== "batch" ? ` ${a.norm}` : "";
  return `${net}${norm} ${a.inputNorm}, batch ${spec.pretrain.batch}/${spec.finetune.batch}, ` +
    `${spec.pretrain.optimizer}/${spec.finetune.optimizer}`;
}

/**
 * The header lines: the reference's setup and byel's.
 *
 * @param byel byel's report @param torch the reference's report, or null
 * @returns lines to print
 */
export function formatHeader(byel: ByelReport, torch: TorchReport | null): string[] {
  const out: string[] = [];
  if (torch) {
    const d = torch.blas_detail ?? {};
    const blas = [d.config, d.threads != null ? `${d.threads} BLAS thread(s)` : undefined]
      .filter((v) => v).join(", ");
    out.push(
      `PyTorch ${torch.torch_version ?? "?"} | BLAS ${torch.blas ?? "?"}${
        blas ? ` (${blas})` : ""
      } | memory format ${torch.memory_format ?? "?"} | ${torch.threads ?? "?"} threads`,
    );
    if (d.note) out.push(`PyTorch BLAS: ${d.note}`);
  } else out.push("PyTorch: not run (torch fields are null)");
  const quick = byel.quick_spec ? describeSpec(byel.quick_spec) : "?";
  const sets = byel.quick_overrides?.length ? ` with ${byel.quick_overrides.join(" ")}` : "";
  out.push(
    `byel: Deno ${byel.deno ?? "?"}, tfjs ${byel.tfjs ?? "?"} | quick preset ${quick}${sets}`,
  );
  return out;
}

/**
 * The printed report: the header, one table line per row, notes, and the JSON line last.
 *
 * @param byel byel's report @param torch the reference's report, or null
 * @returns lines to print
 */
export function formatTable(byel: ByelReport, torch: TorchReport | null): string[] {
  const rows = compareRows(byel, torch);
  const byName = new Map(byel.rows.map((r) => [`${r.backend} ${r.name}`, r]));
  const head = [
    "row",
    "backend",
    "byel img/s",
    "torch img/s",
    "step img/s",
    "ratio",
    "GFLOP/s",
    "% peak",
  ];
  const body = rows.map((r) => {
    const b = byName.get(`${r.backend} ${r.name}`)!;
    return [
      r.name,
      `${r.backend}${b.threads ? `x${b.threads}` : ""}`,
      _fmt(r.byel_img_s),
      _fmt(r.torch_img_s),
      _fmt(r.step_img_s),
      _fmt(r.ratio, 3),
      _fmt(b.gflop_s),
      _fmt(b.pct_peak),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((l) => l[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join("  ");
  const peak = byel.simd_peak_gflops_per_thread;
  const out = [...formatHeader(byel, torch), line(head), ...body.map(line)];
  out.push(
    "ratio: byel / PyTorch for step rows; loop / bare step for loop/* rows (the whole stage of " +
      "train(), rendering, validation and checkpoints included, over the step alone)",
  );
  if (peak) {
    out.push(
      `WASM SIMD peak per thread (measured): ${_fmt(peak.mul_add)} GFLOP/s mul+add, ` +
        `${_fmt(peak.fma)} GFLOP/s relaxed fma; % peak = GFLOP/s / (mul+add peak x threads); ` +
        "GFLOP/s counts a direct convolution's work, so Winograd rows can pass 100%",
    );
  }
  for (const r of rows.filter((r) => r.note)) out.push(`${r.name} ${r.backend}: ${r.note}`);
  for (const r of byel.rows.filter((r) => r.error)) out.push(`${r.backend} ${r.name}: ${r.error}`);
  for (const r of torch?.rows.filter((r) => r.error) ?? []) out.push(`torch ${r.name}: ${r.error}`);
  if (byel.memory) out.push(`memory: ${JSON.stringify(byel.memory)}`);
  out.push(JSON.stringify({
    torch_version: torch?.torch_version ?? null,
    blas: torch?.blas ?? null,
    memory_format: torch?.memory_format ?? null,
    threads: torch?.threads ?? null,
    quick: byel.quick_spec ? describeSpec(byel.quick_spec) : null,
    rows,
  }));
  return out;
}

/** @returns the last line of `text` parsed as JSON @param text a process's stdout @param what its name, for errors */
function _lastJson<T>(text: string, what: string): T {
  const last = text.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(
      `${what} printed no JSON last line (got ${JSON.stringify(last.slice(0, 200))})`,
    );
  }
}

async function _run(cmd: string, args: string[]): Promise<{ ok: boolean; stdout: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "inherit" }).output();
  return { ok: out.success, stdout: new TextDecoder().decode(out.stdout) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    // `deno task bench:compare -- --steps 1` passes the "--" on.
    args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
    options: {
      backends: { type: "string", default: "wasm,webgpu" },
      rows: { type: "string", default: "r18,quick,loop" },
      sizes: { type: "string", default: "64,112" },
      widths: { type: "string", default: "1,0.5" },
      kinds: { type: "string", default: "supervised,byel,inference" },
      batch: { type: "string", default: "32" },
      steps: { type: "string", default: "3" },
      threads: { type: "string", default: String(navigator.hardwareConcurrency) },
      set: { type: "string", multiple: true, default: [] },
      "loop-batches": { type: "string", default: "8" },
      "memory-format": { type: "string", default: "channels_last" },
      python: { type: "string", default: "/usr/bin/python3" },
    },
  });
  const shared = ["kinds", "sizes", "widths", "batch", "steps", "threads"]
    .flatMap((k) => [`--${k}`, values[k as "kinds"]]);
  const here = new URL(".", import.meta.url);
  const ours = await _run(Deno.execPath(), [
    "run",
    "-A",
    new URL("byel_bench.ts", here).pathname,
    "--backends",
    values.backends,
    "--rows",
    values.rows,
    "--loop-batches",
    values["loop-batches"],
    ...values.set.flatMap((s) => ["--set", s]),
    ...shared,
  ]);
  if (!ours.ok) throw new Error("bench/byel_bench.ts failed (see its output above)");
  const byel = _lastJson<ByelReport>(ours.stdout, "bench/byel_bench.ts");

  let torch: TorchReport | null = null;
  const probe = await _run(values.python, ["-c", "import torch"]).catch(() => ({ ok: false }));
  if (!probe.ok) {
    console.error(
      `PyTorch not found for ${values.python}: install it with ` +
        "`apt-get install -y python3-torch libopenblas0-pthread` (Debian); torch fields are null.",
    );
  } else {
    const ref = await _run(values.python, [
      new URL("reference_torch.py", here).pathname,
      // byel's own spec of the quick rows, so both sides time the same config.
      "--quick-json",
      JSON.stringify(byel.quick_spec),
      "--rows",
      values.rows.split(",").filter((g) => g === "r18" || g === "quick").join(","),
      "--memory-format",
      values["memory-format"],
      ...shared,
    ]);
    if (ref.ok) torch = _lastJson<TorchReport>(ref.stdout, "bench/reference_torch.py");
    else console.error("bench/reference_torch.py failed (see its output above)");
  }
  for (const l of formatTable(byel, torch)) console.log(l);
}

if (import.meta.main) await main();
