/**
 * `deno task bench:compare`: runs byel's benchmark (`bench/byel_bench.ts`), then the PyTorch
 * reference (`bench/reference_torch.py`), one after the other so they never share the cores,
 * and prints a table: images/s of each, the ratio byel/PyTorch, byel's FLOP/s and percent of
 * the measured WASM SIMD peak. The last line is one JSON object
 * `{"rows": [{"name", "backend", "byel_img_s", "torch_img_s", "ratio"}, ...]}`.
 *
 *   deno task bench:compare [flags passed to both: --sizes 64 --widths 1 --kinds byel
 *                            --batch 32 --steps 3 --threads 2] [--backends wasm]
 *
 * Without PyTorch it says how to install it and still prints byel's rows (torch fields null).
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { BenchRow } from "./byel_bench.ts";

/** One line of the comparison. */
export interface CompareRow {
  name: string;
  backend: string;
  byel_img_s: number | null;
  torch_img_s: number | null;
  /** byel / PyTorch images/s; null when either is missing. */
  ratio: number | null;
}

/** byel's benchmark output (the parts the table reads). */
export interface ByelReport {
  rows: BenchRow[];
  simd_peak_gflops_per_thread?: { mul_add: number | null; fma: number | null };
  memory?: Record<string, unknown>;
}

/** The reference's output. */
export interface TorchReport {
  rows: { name: string; img_s: number }[];
}

/**
 * Joins byel's rows with PyTorch's by name.
 *
 * @param byel byel's report @param torch the reference's report, or null when it did not run
 * @returns one row per byel row that has a number
 */
export function compareRows(byel: ByelReport, torch: TorchReport | null): CompareRow[] {
  const ref = new Map((torch?.rows ?? []).map((r) => [r.name, r.img_s]));
  return byel.rows.filter((r) => r.img_s !== undefined).map((r) => {
    const t = ref.get(r.name) ?? null;
    return {
      name: r.name,
      backend: r.backend,
      byel_img_s: r.img_s!,
      torch_img_s: t,
      ratio: t ? Number((r.img_s! / t).toFixed(3)) : null,
    };
  });
}

const _fmt = (v: number | null | undefined, d = 1) => v == null ? "-" : v.toFixed(d);

/**
 * The printed report: a header, one table line per row, notes, and the JSON line last.
 *
 * @param byel byel's report @param torch the reference's report, or null
 * @returns lines to print
 */
export function formatTable(byel: ByelReport, torch: TorchReport | null): string[] {
  const rows = compareRows(byel, torch);
  const byName = new Map(byel.rows.map((r) => [`${r.backend} ${r.name}`, r]));
  const head = ["row", "backend", "byel img/s", "torch img/s", "ratio", "GFLOP/s", "% peak"];
  const body = rows.map((r) => {
    const b = byName.get(`${r.backend} ${r.name}`)!;
    return [
      r.name,
      `${r.backend}${b.threads ? `x${b.threads}` : ""}`,
      _fmt(r.byel_img_s),
      _fmt(r.torch_img_s),
      _fmt(r.ratio, 3),
      _fmt(b.gflop_s),
      _fmt(b.pct_peak),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((l) => l[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join("  ");
  const peak = byel.simd_peak_gflops_per_thread;
  const out = [line(head), ...body.map(line)];
  if (peak) {
    out.push(
      `WASM SIMD peak per thread (measured): ${_fmt(peak.mul_add)} GFLOP/s mul+add, ` +
        `${_fmt(peak.fma)} GFLOP/s relaxed fma; % peak = GFLOP/s / (mul+add peak x threads); ` +
        "GFLOP/s counts a direct convolution's work, so Winograd rows can pass 100%",
    );
  }
  for (const r of byel.rows.filter((r) => r.error)) out.push(`${r.backend}: ${r.error}`);
  if (byel.memory) out.push(`memory: ${JSON.stringify(byel.memory)}`);
  out.push(JSON.stringify({ rows }));
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
    args: Deno.args,
    options: {
      backends: { type: "string", default: "wasm,webgpu" },
      sizes: { type: "string", default: "64,112" },
      widths: { type: "string", default: "1,0.5" },
      kinds: { type: "string", default: "supervised,byel,inference" },
      batch: { type: "string", default: "32" },
      steps: { type: "string", default: "3" },
      threads: { type: "string", default: "2" },
      python: { type: "string", default: "/usr/bin/python3" },
    },
  });
  const shared = ["sizes", "widths", "kinds", "batch", "steps", "threads"]
    .flatMap((k) => [`--${k}`, values[k as keyof typeof values]!]);
  const here = new URL(".", import.meta.url);
  const ours = await _run(Deno.execPath(), [
    "run",
    "-A",
    new URL("byel_bench.ts", here).pathname,
    "--backends",
    values.backends,
    ...shared,
  ]);
  if (!ours.ok) throw new Error("bench/byel_bench.ts failed (see its output above)");
  const byel = _lastJson<ByelReport>(ours.stdout, "bench/byel_bench.ts");

  let torch: TorchReport | null = null;
  const probe = await _run(values.python, ["-c", "import torch"]).catch(() => ({ ok: false }));
  if (!probe.ok) {
    console.error(
      `PyTorch not found for ${values.python}: install it with ` +
        "`apt-get install -y python3-torch` (Debian); torch fields are null.",
    );
  } else {
    const ref = await _run(values.python, [
      new URL("reference_torch.py", here).pathname,
      ...shared,
    ]);
    if (ref.ok) torch = _lastJson<TorchReport>(ref.stdout, "bench/reference_torch.py");
    else console.error("bench/reference_torch.py failed (see its output above)");
  }
  for (const l of formatTable(byel, torch)) console.log(l);
}

if (import.meta.main) await main();
