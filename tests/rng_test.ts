/** The one family of seeded generators: keyed, deterministic, spread, and the hash chain. */
import assert from "node:assert/strict";
import { hash32, hashStep, mix32, Rng, STREAM } from "../src/rng.ts";

Deno.test("hash32() is deterministic, order-sensitive and mixes the high bits of large indices", () => {
  assert.equal(hash32(1, 2, 3), hash32(1, 2, 3));
  assert.notEqual(hash32(1, 2, 3), hash32(1, 2, 4));
  assert.notEqual(hash32(1, 2, 3), hash32(3, 2, 1));
  assert.notEqual(hash32(0, 2 ** 40), hash32(0, 0));
  // mix32 by hand for one word: the finaliser of murmur3 after a multiply.
  let h = Math.imul(0 ^ 5, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae3d);
  h ^= h >>> 16;
  assert.equal(mix32(0, 5), h >>> 0);
});

Deno.test("Rng(...keys) gives equal sequences for equal keys and unrelated ones otherwise", () => {
  const a = new Rng(7, STREAM.augment, 3), b = new Rng(7, STREAM.augment, 3);
  const c = new Rng(7, STREAM.augment, 4);
  const xa = Array.from({ length: 8 }, () => a.u32());
  assert.deepEqual(xa, Array.from({ length: 8 }, () => b.u32()));
  const xc = Array.from({ length: 8 }, () => c.u32());
  assert.equal(xa.filter((x, i) => x === xc[i]).length, 0);
});

Deno.test("Rng draws have the right moments and ranges", () => {
  const r = new Rng(42);
  const n = 20000;
  let s = 0, s2 = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const u = r.uniform(2, 5);
    lo = Math.min(lo, u), hi = Math.max(hi, u);
    s += u;
  }
  assert.ok(lo >= 2 && hi < 5);
  assert.ok(Math.abs(s / n - 3.5) < 0.03);
  s = 0;
  for (let i = 0; i < n; i++) {
    const z = r.normal(1, 2);
    s += z, s2 += z * z;
  }
  const mean = s / n, sd = Math.sqrt(s2 / n - mean * mean);
  assert.ok(Math.abs(mean - 1) < 0.05, `mean ${mean}`);
  assert.ok(Math.abs(sd - 2) < 0.05, `sd ${sd}`);
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) counts[r.int(3)]++;
  for (const k of counts) assert.ok(k > 900 && k < 1100, `${counts}`);
  let yes = 0;
  for (let i = 0; i < 10000; i++) yes += r.chance(0.25) ? 1 : 0;
  assert.ok(Math.abs(yes / 10000 - 0.25) < 0.02);
});

Deno.test("Rng.shuffle() permutes arrays and typed arrays in place, seeded", () => {
  const a = new Rng(1).shuffle(Array.from({ length: 50 }, (_, i) => i));
  const t = new Rng(1).shuffle(Int32Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(Array.from(t), a);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual(a, Array.from({ length: 50 }, (_, i) => i));
});

Deno.test("hashStep() is the documented integer step", () => {
  const h = 123456789;
  assert.equal(hashStep(h), (Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + 0x297a2d39) | 0);
  const seen = new Set<number>();
  let x = 1;
  for (let i = 0; i < 1000; i++) seen.add(x = hashStep(x));
  assert.equal(seen.size, 1000);
});
