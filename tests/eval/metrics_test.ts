import assert from "node:assert/strict";
import { computeMetrics, confusionMatrix, metricsFromConfusion } from "../../src/eval/metrics.ts";

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

Deno.test("confusionMatrix() counts [true][predicted] and skips unknown labels", () => {
  const m = confusionMatrix([0, 0, 1, -1], [0, 1, 1, 2], 3);
  assert.deepEqual(m, [[1, 1, 0], [0, 1, 0], [0, 0, 0]]);
});

Deno.test("computeMetrics() on a worked example with a class of no support", () => {
  // Class 4 (sadness) never occurs nor is predicted: left out. Class 5 (surprise) has no
  // support but is predicted once: counts with F1 = 0.
  const labels = [0, 0, 1, 1, 2, 3, 3];
  const preds = [0, 1, 1, 1, 0, 3, 5];
  const m = computeMetrics(labels, preds);
  assert.deepEqual(m.confusion[0], [1, 1, 0, 0, 0, 0]);
  assert.deepEqual(m.confusion[3], [0, 0, 0, 1, 0, 1]);
  close(m.perClass.anger.precision, 0.5);
  close(m.perClass.anger.f1, 0.5);
  close(m.perClass.disgust.precision, 2 / 3);
  close(m.perClass.disgust.recall, 1);
  close(m.perClass.disgust.f1, 0.8);
  close(m.perClass.fear.f1, 0);
  close(m.perClass.happiness.f1, 2 / 3);
  assert.equal(m.perClass.sadness.support, 0);
  close(m.perClass.surprise.precision, 0);
  assert.equal(m.perClass.surprise.support, 0);
  close(m.macroF1, (0.5 + 0.8 + 0 + 2 / 3 + 0) / 5);
  close(m.accuracy, 4 / 7);
  assert.equal(m.n, 7);
});

Deno.test("metricsFromConfusion() of a perfect classifier is 1", () => {
  const m = metricsFromConfusion([[3, 0], [0, 2]], ["a", "b"]);
  close(m.macroF1, 1);
  close(m.accuracy, 1);
});

Deno.test("metricsFromConfusion() on a 2-class example", () => {
  // a: P 1, R 1/2, F1 2/3; b: P 2/3, R 1, F1 4/5
  const m = metricsFromConfusion([[1, 1], [0, 2]], ["a", "b"]);
  close(m.macroF1, (2 / 3 + 4 / 5) / 2);
});
