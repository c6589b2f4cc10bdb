import assert from "node:assert/strict";
import { NUM_CLASSES } from "../../../src/emotions.ts";
import { UserError } from "../../../src/errors.ts";
import { SyntheticFaces } from "../../../src/data/synth/dataset.ts";
import { DOMAIN_SPECS, globalIdentity } from "../../../src/data/synth/domains.ts";
import { makeIdentity } from "../../../src/data/synth/identity.ts";

Deno.test("SyntheticFaces.label() is class-balanced on every prefix of six", () => {
  for (const length of [6, 600, 6001]) {
    const ds = new SyntheticFaces({ length });
    const counts = new Array(NUM_CLASSES).fill(0);
    for (let i = 0; i < length; i++) counts[ds.label(i)]++;
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `unbalanced: ${counts}`);
  }
});

Deno.test("SyntheticFaces.identity() is one person across the six expressions", () => {
  const ds = new SyntheticFaces({ length: 120, identities: 7 });
  for (let k = 0; k < 20; k++) {
    const ids = new Set([0, 1, 2, 3, 4, 5].map((c) => ds.identity(6 * k + c)));
    assert.equal(ids.size, 1);
    assert.equal([...ids][0], globalIdentity("synthetic", k % 7));
  }
});

Deno.test("SyntheticFaces identities never overlap between the synthetic and real domains", () => {
  const syn = new SyntheticFaces({ domain: "synthetic", length: 60000 });
  const real = new SyntheticFaces({ domain: "real", length: 60000 });
  const a = new Set<number>(), b = new Set<number>();
  for (let i = 0; i < 60000; i += 6) a.add(syn.identity(i)), b.add(real.identity(i));
  assert.equal(a.size, 10000);
  for (const id of b) assert.ok(!a.has(id), `identity ${id} is in both domains`);
  const s = DOMAIN_SPECS.synthetic, r = DOMAIN_SPECS.real;
  assert.ok(s.identityBase + s.identityCount <= r.identityBase, "identity ranges overlap");
  // Different identity numbers are different people.
  assert.notDeepEqual(makeIdentity(0, 0).skin, makeIdentity(0, 2 ** 30).skin);
});

Deno.test("SyntheticFaces rejects bad options with a UserError", () => {
  assert.throws(() => new SyntheticFaces({ size: 16 }), UserError);
  assert.throws(() => new SyntheticFaces({ size: 300 }), UserError);
  assert.throws(() => new SyntheticFaces({ length: 0 }), UserError);
  assert.throws(() => new SyntheticFaces({ domain: "cartoon" as "real" }), UserError);
  assert.throws(
    () => new SyntheticFaces({ length: 6 }).renderInto(6, new Float32Array(64 * 64 * 3)),
    RangeError,
  );
});
