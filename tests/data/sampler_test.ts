import assert from "node:assert/strict";
import {
  balancedOrder,
  batchIndices,
  classCounts,
  classWeights,
  epochOrder,
  epochOrders,
  formatClassDistribution,
  parseBalance,
  shuffledOrder,
} from "../../src/data/sampler.ts";
import { UserError } from "../../src/errors.ts";

/** LSD-like imbalance in miniature: 52% sadness, a few fear. */
function labelled(counts: number[]) {
  const labels = counts.flatMap((n, c) => new Array(n).fill(c));
  return { length: labels.length, label: (i: number) => labels[i] };
}

Deno.test("classWeights() is inverse frequency with mean weight 1 over the images", () => {
  const w = classWeights([1, 0, 0, 0, 3, 0]);
  assert.deepEqual([...w].map((x) => +x.toFixed(4)), [2, 0, 0, 0, 0.6667, 0]);
  const counts = [18286, 15150, 10923, 73285, 144631, 14976];
  const lsd = classWeights(counts);
  const total = counts.reduce((a, b) => a + b);
  assert.ok(Math.abs(counts.reduce((s, n, c) => s + n * lsd[c], 0) / total - 1) < 1e-6);
  assert.ok(lsd[2] > lsd[0] && lsd[0] > lsd[4]); // fear (rarest) highest, sadness lowest
});

Deno.test("balancedOrder() gives every class an equal share, deterministically per seed and epoch", () => {
  const data = labelled([30, 10, 4, 80, 260, 16]); // 400 images
  const a = balancedOrder(data, { seed: 7, epoch: 0 });
  assert.equal(a.length, 400);
  const counts = classCounts({ length: a.length, label: (i) => data.label(a[i]) });
  for (const n of counts) assert.ok(n === 66 || n === 67, `share ${n}`);
  assert.deepEqual(balancedOrder(data, { seed: 7, epoch: 0 }), a);
  assert.notDeepEqual(balancedOrder(data, { seed: 7, epoch: 1 }), a);
  assert.notDeepEqual(balancedOrder(data, { seed: 8, epoch: 0 }), a);
  // The 4 fear images are each drawn 16 or 17 times (cycling without replacement).
  const fear = new Map<number, number>();
  for (const i of a) if (data.label(i) === 2) fear.set(i, (fear.get(i) ?? 0) + 1);
  assert.equal(fear.size, 4);
  for (const n of fear.values()) assert.ok(n >= 16 && n <= 17);
  // Absent classes are never drawn; unlabelled (-1) images neither.
  const two = { length: 5, label: (i: number) => [0, 0, 0, 3, -1][i] };
  const b = balancedOrder(two, { seed: 1, epoch: 0, length: 10 });
  assert.deepEqual(classCounts({ length: 10, label: (i) => two.label(b[i]) }), [5, 0, 0, 5, 0, 0]);
});

Deno.test("shuffledOrder()/epochOrder() are seeded permutations; parseBalance() checks values", () => {
  const p = shuffledOrder(50, { seed: 3, epoch: 2 });
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(shuffledOrder(50, { seed: 3, epoch: 2 }), p);
  const data = labelled([5, 5, 5, 5, 5, 5]);
  assert.deepEqual(
    epochOrder(data, { balance: "loss", seed: 1, epoch: 0 }),
    shuffledOrder(30, { seed: 1, epoch: 0 }),
  );
  assert.equal(parseBalance("sampler"), "sampler");
  assert.throws(
    () => parseBalance("oversample"),
    (e) => e instanceof UserError && /none, sampler, loss/.test(e.message),
  );
});

Deno.test("formatClassDistribution() prints counts, percentages and optional weights", () => {
  const text = formatClassDistribution([1, 0, 0, 0, 3, 0], {
    title: "train",
    weights: classWeights([1, 0, 0, 0, 3, 0]),
  });
  const lines = text.split("\n");
  assert.equal(lines[0], "class distribution of train (4 images):");
  assert.equal(lines.length, 7);
  assert.match(lines[1], /^ {2}anger +1 +25\.0% +weight +2\.000 +#{7}$/);
  assert.match(lines[5], /^ {2}sadness +3 +75\.0% +weight +0\.667 +#{20}$/);
});

Deno.test("batchIndices() lays the epoch orders end to end", () => {
  const order = (e: number) => (e === 0 ? [3, 2, 1, 0] : [0, 1, 2, 3]);
  assert.deepEqual(batchIndices(4, 3, 0, order), [3, 2, 1]);
  assert.deepEqual(batchIndices(4, 3, 1, order), [0, 0, 1]);
  assert.deepEqual(batchIndices(4, 3, 2, order), [2, 3, 0]); // epoch 2 reuses order(2) = order(1)
});

Deno.test("epochOrders() is epochOrder() per epoch, with streams apart, for every balance mode", () => {
  const data = labelled([30, 10, 4, 80, 260, 16]);
  for (const balance of ["none", "sampler", "loss"] as const) {
    const o = epochOrders(data, { balance, seed: 5, stream: 1 });
    assert.deepEqual(o(3), epochOrder(data, { balance, seed: 5, stream: 1, epoch: 3 }));
    assert.equal(o(3), o(3)); // remembered, not recomputed
    assert.notDeepEqual(o(3), epochOrder(data, { balance, seed: 5, stream: 0, epoch: 3 }));
  }
});
