/**
 * A run's HTML report, self-contained (inline SVG): the loss curves, the validation macro F1
 * over time and the confusion matrix as a heat map.
 *
 * @module
 */
import { EMOTIONS } from "../emotions.ts";
import type { Metrics } from "./metrics.ts";

/** One logged training interval. */
export interface LossRow {
  /** The stage. */
  stage: "pretrain" | "finetune";
  /** Step within the stage (1-based, after the step). */
  step: number;
  /** Loss term -> mean over the interval. */
  losses: Record<string, number>;
  /** Learning rate at the interval's end. */
  lr: number;
  /** Training throughput over the interval. */
  imagesPerSecond: number;
}

/** One validation. */
export interface EvalRow {
  /** The stage. */
  stage: "pretrain" | "finetune";
  /** Step within the stage. */
  step: number;
  /** Macro F1 of the validation. */
  macroF1: number;
  /** Accuracy of the validation. */
  accuracy: number;
}

const _COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

function _esc(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

/**
 * A line chart as SVG.
 *
 * @param series name -> points [x, y]
 * @returns an `<svg>` element
 */
export function lineChart(
  series: Record<string, [number, number][]>,
  opts: { title: string; xLabel: string; width?: number; height?: number },
): string {
  const W = opts.width ?? 520, H = opts.height ?? 260, L = 50, R = 110, T = 24, B = 34;
  const pts = Object.values(series).flat().filter(([, y]) => Number.isFinite(y));
  if (pts.length === 0) return `<p>${_esc(opts.title)}: no data</p>`;
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(0, ...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) y1 = y0 + 1;
  const sx = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y: number) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${L}" y="14" font-weight="bold">${_esc(opts.title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#444"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#444"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">${_esc(opts.xLabel)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    parts.push(`<text x="${L - 4}" y="${sy(y) + 4}" text-anchor="end">${y.toPrecision(3)}</text>`);
    parts.push(`<line x1="${L}" y1="${sy(y)}" x2="${W - R}" y2="${sy(y)}" stroke="#eee"/>`);
  }
  parts.push(`<text x="${L}" y="${H - B + 14}" text-anchor="middle">${x0}</text>`);
  parts.push(`<text x="${W - R}" y="${H - B + 14}" text-anchor="middle">${x1}</text>`);
  Object.entries(series).forEach(([name, s], i) => {
    const c = _COLORS[i % _COLORS.length];
    const good = s.filter(([, y]) => Number.isFinite(y));
    if (good.length === 0) return;
    const d = good.map(([x, y], j) => `${j ? "L" : "M"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join("");
    parts.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="1.5"/>`);
    if (good.length === 1) {
      parts.push(`<circle cx="${sx(good[0][0])}" cy="${sy(good[0][1])}" r="3" fill="${c}"/>`);
    }
    parts.push(`<rect x="${W - R + 8}" y="${T + i * 16}" width="10" height="10" fill="${c}"/>`);
    parts.push(`<text x="${W - R + 22}" y="${T + i * 16 + 9}">${_esc(name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/**
 * The confusion matrix as an SVG heat map (rows true, columns predicted; shade = row fraction).
 *
 * @param confusion `confusion[true][predicted]`
 * @returns an `<svg>` element
 */
export function confusionSvg(confusion: number[][], names: readonly string[] = EMOTIONS): string {
  const cell = 54, L = 80, T = 70;
  const k = confusion.length;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${L + k * cell + 10}" height="${
      T + k * cell + 24
    }" font-family="sans-serif" font-size="11">`,
    `<text x="${L}" y="14" font-weight="bold">Confusion (rows: true, columns: predicted)</text>`,
  ];
  names.forEach((n, j) => {
    parts.push(
      `<text transform="translate(${L + j * cell + cell / 2},${T - 6}) rotate(-40)">${
        _esc(n)
      }</text>`,
    );
    parts.push(
      `<text x="${L - 6}" y="${T + j * cell + cell / 2 + 4}" text-anchor="end">${_esc(n)}</text>`,
    );
  });
  confusion.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((v, j) => {
      const f = v / total;
      const shade = Math.round(255 * (1 - f));
      parts.push(
        `<rect x="${L + j * cell}" y="${
          T + i * cell
        }" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#fff"/>`,
        `<text x="${L + j * cell + cell / 2}" y="${
          T + i * cell + cell / 2 + 4
        }" text-anchor="middle" fill="${f > 0.5 ? "#fff" : "#000"}">${v}</text>`,
      );
    });
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/**
 * The whole report page.
 *
 * @param title run name
 * @returns an HTML document
 */
export function renderReport(
  title: string,
  run: { losses: LossRow[]; evals: EvalRow[]; final?: Metrics; meta: Record<string, unknown> },
): string {
  const charts: string[] = [];
  for (const stage of ["pretrain", "finetune"] as const) {
    const rows = run.losses.filter((r) => r.stage === stage);
    if (!rows.length) continue;
    const series: Record<string, [number, number][]> = {};
    for (const r of rows) {
      for (const [k, v] of Object.entries(r.losses)) (series[k] ??= []).push([r.step, v]);
    }
    charts.push(lineChart(series, { title: `${stage} losses`, xLabel: "step" }));
  }
  for (const stage of ["pretrain", "finetune"] as const) {
    const ev = run.evals.filter((r) => r.stage === stage);
    if (!ev.length) continue;
    charts.push(lineChart({
      "macro F1": ev.map((r) => [r.step, r.macroF1]),
      accuracy: ev.map((r) => [r.step, r.accuracy]),
    }, { title: `validation during ${stage}`, xLabel: "step" }));
  }
  const final = run.final
    ? `<h2>Final validation: macro F1 ${run.final.macroF1.toFixed(4)}, accuracy ${
      run.final.accuracy.toFixed(4)
    }, n ${run.final.n}</h2>
${confusionSvg(run.final.confusion)}
<table border="1" cellspacing="0" cellpadding="3"><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>
${
      Object.entries(run.final.perClass).map(([n, s]) =>
        `<tr><td>${n}</td><td>${s.precision.toFixed(3)}</td><td>${s.recall.toFixed(3)}</td><td>${
          s.f1.toFixed(3)
        }</td><td>${s.support}</td></tr>`
      ).join("\n")
    }</table>`
    : "";
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${_esc(title)}</title>
<style>body{font-family:sans-serif;margin:20px;max-width:1100px} svg{margin:6px;border:1px solid #ddd}</style></head>
<body><h1>${_esc(title)}</h1>
<pre>${_esc(JSON.stringify(run.meta, null, 2))}</pre>
${charts.join("\n")}
${final}
</body></html>
`;
}
