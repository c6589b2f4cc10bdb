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
