import assert from "node:assert/strict";
import { type ComparisonRow, formatComparison, meanSd } from "../../src/train/compare.ts";

Deno.test("meanSd() is the mean and the sample standard deviation", () => {
  const { mean, sd } = meanSd([0.2, 0.3, 0.4]);
  assert.ok(Math.abs(mean - 0.3) < 1e-12 && Math.abs(sd - 0.1) < 1e-12);
  assert.deepEqual(meanSd([0.5]), { mean: 0.5, sd: 0 });
});

Deno.test("formatComparison() lists every run and mean ± sd (min–max) per method and set", () => {
  const row = (method: "baseline" | "byel", seed: number, tcce: number): ComparisonRow => ({
    method,
    seed,
    realF1: 0.5,
    dev: { tcce },
    valF1: 0.6,
    seconds: 10,
  });
  const t = formatComparison([
    row("baseline", 0, 0.2),
    row("byel", 0, 0.3),
    row("baseline", 1, 0.4),
  ], "T");
  const lines = t.split("\n");
  assert.equal(lines[0], "T");
  assert.ok(lines.includes("| baseline | 1 | 0.5000 | 0.4000 | 0.6000 | 10 |"));
  assert.ok(
    lines.includes("| baseline | 2 | 0.500 ± 0.000 (0.500–0.500) | 0.300 ± 0.141 (0.200–0.400) |"),
  );
  assert.ok(
    lines.includes("| byel | 1 | 0.500 ± 0.000 (0.500–0.500) | 0.300 ± 0.000 (0.300–0.300) |"),
  );
});
