import assert from "node:assert/strict";
import { EMOTIONS } from "../../../src/emotions.ts";
import { SyntheticFaces } from "../../../src/data/synth/dataset.ts";

function _stats(img: Float32Array): { min: number; max: number; sd: number } {
  let min = Infinity, max = -Infinity, s = 0, s2 = 0;
  for (const v of img) {
    if (v < min) min = v;
    if (v > max) max = v;
    s += v, s2 += v * v;
  }
  const m = s / img.length;
  return { min, max, sd: Math.sqrt(s2 / img.length - m * m) };
}

for (const domain of ["synthetic", "real"] as const) {
  Deno.test(`SyntheticFaces.batch() renders every class at every size (${domain})`, async () => {
    for (const size of [32, 48, 64, 128, 224]) {
      const ds = new SyntheticFaces({ domain, seed: 3, size, length: 60 });
      // One person (identity 0) under the six expressions, and six more images.
      const b = await ds.batch([0, 1, 2, 3, 4, 5, 6, 13, 20, 27, 34, 41]);
      assert.equal(b.n, 12);
      assert.equal(b.size, size);
      assert.equal(b.images.length, 12 * size * size * 3);
      assert.deepEqual([...b.labels], [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
      const px = size * size * 3;
      const imgs = Array.from({ length: 12 }, (_, k) => b.images.subarray(k * px, (k + 1) * px));
      for (const [k, img] of imgs.entries()) {
        const st = _stats(img);
        assert.ok(st.min >= 0 && st.max <= 1, `${size}px image ${k}: values outside [0, 1]`);
        assert.ok(
          Number.isFinite(st.sd) && st.sd > 0.03,
          `${size}px image ${k} (${EMOTIONS[k % 6]}) is blank`,
        );
      }
      // The six expressions of one person differ from one another.
      for (let a = 0; a < 6; a++) {
        for (let c = a + 1; c < 6; c++) {
          let d = 0;
          for (let i = 0; i < px; i++) d += Math.abs(imgs[a][i] - imgs[c][i]);
          assert.ok(d / px > 0.005, `${size}px: ${EMOTIONS[a]} and ${EMOTIONS[c]} look the same`);
        }
      }
    }
  });
}

Deno.test("SyntheticFaces.batch() gives the same pixels for the same index, in any order, as renderInto()", async () => {
  const ds = new SyntheticFaces({ seed: 11, size: 48, length: 100 });
  const a = await ds.batch([7, 8, 9]);
  await ds.batch([50, 3, 99]); // unrelated work in between must not change anything
  const b = await ds.batch([9, 8, 7]);
  const px = 48 * 48 * 3;
  assert.deepEqual(a.images.subarray(0, px), b.images.subarray(2 * px, 3 * px));
  assert.deepEqual(a.images.subarray(2 * px), b.images.subarray(0, px));
  const one = new Float32Array(2 * px);
  ds.renderInto(8, one, px); // at an offset, leaving the rest alone
  assert.deepEqual(one.subarray(px), a.images.subarray(px, 2 * px));
  assert.ok(one.subarray(0, px).every((v) => v === 0));
  const other = await new SyntheticFaces({ seed: 12, size: 48, length: 100 }).batch([7]);
  assert.notDeepEqual(a.images.subarray(0, px), other.images);
});

Deno.test("SyntheticFaces gives identical pixels in two separate processes", async () => {
  const script = `
    import { SyntheticFaces } from "${
    new URL("../../../src/data/synth/dataset.ts", import.meta.url).href
  }";
    const ds = new SyntheticFaces({ domain: Deno.args[0], seed: 5, size: 64, length: 1000 });
    const b = await ds.batch([0, 17, 999]);
    const bytes = new Uint8Array(b.images.buffer);
    const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    console.log([...d].map((x) => x.toString(16).padStart(2, "0")).join(""));
  `;
  for (const domain of ["synthetic", "real"]) {
    const hashes: string[] = [];
    for (let k = 0; k < 2; k++) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--ext=ts", script, domain],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      hashes.push(new TextDecoder().decode(out.stdout).trim());
    }
    assert.match(hashes[0], /^[0-9a-f]{64}$/);
    assert.equal(hashes[0], hashes[1]);
    // …and the same as this process.
    const b = await new SyntheticFaces({
      domain: domain as "synthetic",
      seed: 5,
      size: 64,
      length: 1000,
    })
      .batch([0, 17, 999]);
    const d = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new Uint8Array(b.images.buffer as ArrayBuffer)),
    );
    assert.equal([...d].map((x) => x.toString(16).padStart(2, "0")).join(""), hashes[0]);
  }
});
