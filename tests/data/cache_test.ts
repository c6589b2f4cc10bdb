import assert from "node:assert/strict";
import { openCache, prepareCache } from "../../src/data/cache.ts";
import { readLsd } from "../../src/data/folders.ts";
import { openImages } from "../../src/data/open.ts";
import { UserError } from "../../src/errors.ts";
import { flat, makeLsdTree, pngBytes, writeTree } from "../_helpers/fixtures.ts";

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "byel_cache_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const quiet = () => {};

Deno.test("prepareCache() round-trips: same labels, names and pixels as decoding directly", async () => {
  await withTemp(async (dir) => {
    await makeLsdTree(`${dir}/lsd`);
    const lines: string[] = [];
    const progress: number[] = [];
    const r = await prepareCache(`${dir}/lsd`, `${dir}/train.cache`, {
      size: 8,
      log: (l) => lines.push(l),
      onProgress: (d) => progress.push(d),
    });
    assert.equal(r.index.count, 11);
    assert.equal(r.index.skipped.length, 2);
    assert.equal(progress.at(-1), 12); // source files processed, the corrupt one included
    assert.ok(lines.some((l) => /skipped 2 of 13 files/.test(l)));
    const cache = await openCache(`${dir}/train.cache`, { log: quiet });
    const fromDisk = await openCache(`${dir}/train.cache`, { log: quiet, memoryBytes: 0 });
    const direct = await readLsd(`${dir}/lsd`, "train", { size: 8, log: quiet });
    assert.equal(cache.length, direct.length);
    assert.deepEqual(cache.index.names, direct.files.map((f) => f.name));
    const idx = [10, 0, 3, 3, 7];
    const a = await cache.batch(idx), b = await direct.batch(idx);
    assert.deepEqual([...a.labels], [...b.labels]);
    assert.deepEqual(a.images, b.images);
    assert.deepEqual((await fromDisk.batch(idx)).images, b.images); // read image by image
    fromDisk.close();
    assert.deepEqual(cache.classCounts(), direct.classCounts());
    // openImages() recognises the cache file and resizes on read when asked for another size.
    const small = await openImages(`${dir}/train.cache`, { size: 4, log: quiet });
    assert.equal((await small.batch([0])).images.length, 4 * 4 * 3);
    cache.close();
  });
});

Deno.test("openCache() refuses a cache whose sources changed, naming what changed", async () => {
  await withTemp(async (dir) => {
    const img = pngBytes(4, 4, flat(4, 4, 50, 60, 70));
    await writeTree(`${dir}/src`, { "happy/a.png": img, "sad/b.png": img });
    await prepareCache(`${dir}/src`, `${dir}/c.cache`, { size: 4, log: quiet });
    (await openCache(`${dir}/c.cache`, { log: quiet })).close();
    await writeTree(`${dir}/src`, { "sad/new.png": img });
    await assert.rejects(
      () => openCache(`${dir}/c.cache`, { log: quiet }),
      (e) =>
        e instanceof UserError &&
        /no longer matches its sources .*1 added e\.g\. sad\/new\.png.*run prepare/.test(e.message),
    );
    await Deno.remove(`${dir}/src/sad/new.png`);
    await Deno.writeFile(`${dir}/src/happy/a.png`, pngBytes(4, 4, flat(4, 4, 1, 1, 1)));
    await Deno.utime(`${dir}/src/happy/a.png`, 1, 1_000_000);
    await assert.rejects(
      () => openCache(`${dir}/c.cache`, { log: quiet }),
      /1 changed e\.g\. happy\/a\.png/,
    );
  });
});

Deno.test("prepareCache({strict}) keeps finished work; the rerun resumes and an old cache survives", async () => {
  await withTemp(async (dir) => {
    const img = pngBytes(4, 4, flat(4, 4, 50, 60, 70));
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 4100; i++) files[`happy/${String(i).padStart(5, "0")}.png`] = img;
    files["sad/a.png"] = img;
    files["sad/b.png"] = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0]); // PNG signature, no chunks
    await writeTree(`${dir}/src`, files);
    await assert.rejects(
      () => prepareCache(`${dir}/src`, `${dir}/c.cache`, { size: 4, strict: true, log: quiet }),
      (e) =>
        e instanceof UserError &&
        /sad\/b\.png: bad PNG.*4096 images so far are kept/.test(e.message),
    );
    assert.ok(await Deno.stat(`${dir}/c.cache.partial`));
    await Deno.remove(`${dir}/src/sad/b.png`);
    const lines: string[] = [];
    const r = await prepareCache(`${dir}/src`, `${dir}/c.cache`, {
      size: 4,
      log: (l) => lines.push(l),
    });
    assert.equal(r.resumed, 4096);
    assert.equal(r.decoded, 5);
    assert.equal(r.index.count, 4101);
    assert.equal(r.index.shards.length, 2);
    assert.ok(lines.some((l) => /resuming/.test(l)));
    const c = await openCache(`${dir}/c.cache`, { log: quiet });
    assert.equal(c.label(4100), 4);
    assert.equal(Math.round((await c.batch([4100])).images[2] * 255), 70);
    c.close();
    // Preparing again at the same path replaces the old shards only once the new index is in place.
    await prepareCache(`${dir}/src`, `${dir}/c.cache`, { size: 2, log: quiet });
    const bins = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".bin"));
    assert.equal(bins.length, 2);
    assert.equal((await openCache(`${dir}/c.cache`, { log: quiet })).size, 2);
  });
});
