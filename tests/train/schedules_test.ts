import assert from "node:assert/strict";
import { learningRate } from "../../src/train/schedules.ts";

const close = (a: number, b: number, eps = 1e-6) =>
  assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

Deno.test("learningRate() warms up linearly, then holds or follows a cosine to 0", () => {
  const o = { base: 1, warmup: 10, schedule: "cosine" as const };
  close(learningRate(0, 110, o), 0.1);
  close(learningRate(9, 110, o), 1);
  close(learningRate(10, 110, o), 1);
  close(learningRate(60, 110, o), 0.5);
  close(learningRate(110, 110, o), 0);
  close(learningRate(60, 110, { ...o, schedule: "constant" }), 1);
});

Deno.test("learningRate() onecycle rises from base/25 to base over 30%, then falls to base/1e4", () => {
  const o = { base: 2e-3, warmup: 0, schedule: "onecycle" as const };
  close(learningRate(0, 101, o), 2e-3 / 25, 1e-12);
  close(learningRate(30, 101, o), 2e-3, 1e-12); // round(0.3 * 101) = 30 steps up
  close(learningRate(15, 101, o), (2e-3 / 25 + 2e-3) / 2, 1e-12); // halfway up the cosine
  close(learningRate(100, 101, o), 2e-3 / 1e4, 1e-12); // the last step
  close(learningRate(65, 101, o), (2e-3 + 2e-3 / 1e4) / 2, 1e-12); // halfway down
  close(learningRate(5, 101, { ...o, warmup: 10 }), (2e-3 / 25 + 2e-3) / 2, 1e-12);
});
