/**
 * `RenderWorker` (`src/data/synth/workers.ts`): the generator's faces rendered in a worker are
 * the pixels `SyntheticFaces` renders, batch by batch, in any order and overlapping; bad
 * indices are refused; after `close` (or without read access to the worker's module) the faces
 * render in the calling thread and say so.
 */
import assert from "node:assert/strict";
import { SyntheticFaces } from "../../../src/data/synth/dataset.ts";
import { RenderWorker } from "../../../src/data/synth/workers.ts";

Deno.test("RenderWorker renders the generator's pixels and labels in a worker, batches overlapping", async () => {
  const faces = new SyntheticFaces({ seed: 3, size: 32, length: 40 });
  const w = new RenderWorker(faces);
  try {
    assert.equal(w.where, "worker");
    assert.deepEqual([w.name, w.length, w.size, w.label(7)], [faces.name, 40, 32, faces.label(7)]);
    const asks = [[0, 1, 2], [39, 5, 5, 17], [12]];
    const got = await Promise.all(asks.map((ix) => w.batch(ix))); // three in flight at once
    for (const [k, ix] of asks.entries()) {
      const want = await faces.batch(ix);
      assert.equal(got[k].n, ix.length);
      assert.deepEqual(got[k].labels, want.labels);
      assert.ok(got[k].images.every((v, i) => Object.is(v, want.images[i])), `batch ${k} pixels`);
    }
    await assert.rejects(w.batch([0, 40]), /index 40 is outside 0..39/);
  } finally {
    w.close();
  }
  // Closed: the calling thread renders, the same pixels.
  const after = await w.batch([3]);
  assert.deepEqual(after.images, (await faces.batch([3])).images);
});

Deno.test("RenderWorker without read access to its module renders in this thread and says why", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/s.ts`;
    const mod = new URL("../../../src/data/synth/workers.ts", import.meta.url).href;
    const ds = new URL("../../../src/data/synth/dataset.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { RenderWorker } from "${mod}";
      import { SyntheticFaces } from "${ds}";
      const faces = new SyntheticFaces({ size: 32, length: 6 });
      const w = new RenderWorker(faces);
      const b = await w.batch([0, 5]);
      console.log(JSON.stringify({ where: w.where, n: b.n, labels: [...b.labels] }));
      w.close();`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-prompt", script], // no --allow-read
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout).trim());
    assert.match(r.where, /^this thread \(no read access to file:.*render_worker\.ts\)$/);
    assert.deepEqual([r.n, r.labels], [2, [0, 5]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
