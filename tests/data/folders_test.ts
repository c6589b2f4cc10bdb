import assert from "node:assert/strict";
import { readImageFolder, readLsd } from "../../src/data/folders.ts";
import { UserError } from "../../src/errors.ts";
import { flat, jpegBytes, makeLsdTree, pngBytes, writeTree } from "../_helpers/fixtures.ts";

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "byel_folders_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("readLsd() reads the LSD train split: ANGRER, labels, counts, neutral notice, bad files", async () => {
  await withTemp(async (dir) => {
    const made = await makeLsdTree(dir);
    const lines: string[] = [];
    const ds = await readLsd(dir, "train", { size: 8, log: (l) => lines.push(l) });
    assert.equal(ds.length, 11);
    assert.deepEqual(ds.classCounts(), made.train);
    assert.equal(ds.label(0), 0); // ANGRER sorts first
    assert.equal(ds.label(ds.length - 1), 4); // SADNESS last
    assert.equal(lines.length, 2);
    assert.match(
      lines[0],
      /^notice: .*skipped folders that are none of the six classes: neutral \(2 images\)$/,
    );
    assert.match(
      lines[1],
      /^warning: .*skipped 2 of 13 files \(1 empty, 1 corrupt\): HAPPINESS\/zz_empty\.png \(empty file\), SADNESS\/zz_corrupt\.jpg \(truncated JPEG/,
    );
    assert.deepEqual(ds.skipped.map((b) => b.name).sort(), [
      "HAPPINESS/zz_empty.png",
      "SADNESS/zz_corrupt.jpg",
    ]);
    // Pixel values: ANGRER/a3.png is 5x7 gray 90 -> centre-cropped 5x5 -> area-resized 8x8 (enlarge, flat) = 90.
    const idx = ds.files.findIndex((f) => f.name === "ANGRER/a3.png");
    const b = await ds.batch([idx, 0]);
    assert.equal(b.n, 2);
    assert.equal(b.size, 8);
    assert.deepEqual([...b.labels], [0, 0]);
    for (let i = 0; i < 192; i++) assert.equal(b.images[i], Math.fround(90 / 255));
    // HAPPINESS PNG is exact (10, 220, 10)
    const h = await ds.batch([ds.files.findIndex((f) => f.label === 3)]);
    assert.deepEqual([...h.images.slice(0, 3)].map((v) => Math.round(v * 255)), [10, 220, 10]);
    // JPEG red within codec error
    assert.ok(Math.abs(b.images[192] * 255 - 200) <= 3);
  });
});

Deno.test("readLsd() reads the real validation split; readImageFolder on the split folder agrees", async () => {
  await withTemp(async (dir) => {
    const made = await makeLsdTree(dir);
    const val = await readLsd(dir, "val", { size: 4, log: () => {} });
    assert.deepEqual(val.classCounts(), made.val);
    const direct = await readImageFolder(`${dir}/validation_set_real_images`, {
      size: 4,
      log: () => {},
    });
    assert.deepEqual(direct.files.map((f) => f.name), val.files.map((f) => f.name));
    const viaRoot = await readImageFolder(dir, { size: 4, split: "val", log: () => {} });
    assert.equal(viaRoot.length, 3);
  });
});

Deno.test("readImageFolder() matches class aliases case-insensitively and errors below two classes", async () => {
  await withTemp(async (dir) => {
    const img = pngBytes(3, 3, flat(3, 3, 1, 2, 3));
    await writeTree(`${dir}/ok`, {
      "Happy/1.png": img,
      "surprised/2.PNG": img,
      "Angry/x/3.png": img, // nested folders are read too
      "contempt/4.png": img,
      ".hidden/5.png": img,
    });
    // 16-bit RGB and palette PNGs inside a tree decode to their exact 8-bit values.
    await writeTree(`${dir}/ok`, {
      "disgusted/16bit.png": pngBytes(3, 2, new Uint16Array(18).fill(25700), { depth: 16 }),
      "disgusted/palette.png": pngBytes(2, 2, new Uint8Array([1, 1, 1, 1]), {
        channels: 1,
        palette: [[0, 0, 0], [12, 34, 56]],
      }),
    });
    const ds = await readImageFolder(`${dir}/ok`, { size: 8, log: () => {} });
    assert.deepEqual(ds.classCounts(), [1, 2, 0, 1, 0, 1]);
    const at = (name: string) => ds.files.findIndex((f) => f.name === name);
    const d = await ds.batch([at("disgusted/16bit.png"), at("disgusted/palette.png")]);
    assert.deepEqual([...d.labels], [1, 1]);
    assert.deepEqual([...d.images.slice(0, 3)].map((v) => Math.round(v * 255)), [100, 100, 100]);
    assert.deepEqual([...d.images.slice(192, 195)].map((v) => Math.round(v * 255)), [12, 34, 56]);
    await writeTree(`${dir}/one`, { "sad/1.png": img, "neutral/2.png": img, "neutral/3.png": img });
    await assert.rejects(
      () => readImageFolder(`${dir}/one`, { size: 8, log: () => {} }),
      (e) =>
        e instanceof UserError &&
        /fewer than two of the six classes \(found: sadness 1, neutral 2 \(not a class\)\)/.test(
          e.message,
        ),
    );
    await assert.rejects(
      () => readImageFolder(`${dir}/missing`, { size: 8 }),
      (e) => e instanceof UserError && /no such folder/.test(e.message),
    );
  });
});

Deno.test("readImageFolder({strict}) stops at the first bad file, naming it", async () => {
  await withTemp(async (dir) => {
    await makeLsdTree(dir);
    await assert.rejects(
      () => readLsd(dir, "train", { size: 8, strict: true, log: () => {} }),
      (e) => e instanceof UserError && /zz_(empty\.png|corrupt\.jpg): .*--strict/.test(e.message),
    );
  });
});

Deno.test("readImageFolder({verify: false}) replaces a corrupt file met in a batch by another of its class", async () => {
  await withTemp(async (dir) => {
    const j = jpegBytes(8, 8, flat(8, 8, 10, 10, 10));
    await writeTree(dir, {
      "fear/a.jpg": j,
      "fear/b.jpg": j.slice(0, 100),
      "fear/c.png": pngBytes(2, 2, flat(2, 2, 60, 60, 60)),
      "sad/d.jpg": j,
      "odd/e.gif": new Uint8Array([71, 73, 70]),
    });
    const lines: string[] = [];
    const ds = await readImageFolder(dir, { size: 2, verify: false, log: (l) => lines.push(l) });
    assert.equal(ds.length, 4);
    const b = await ds.batch([1, 1, 3]);
    assert.deepEqual([...b.labels], [2, 2, 4]);
    // b.jpg (index 1) is replaced by c.png (index 2): exact gray 60
    assert.equal(Math.round(b.images[0] * 255), 60);
    assert.equal(Math.round(b.images[12] * 255), 60);
    assert.equal(ds.skipped.length, 1);
    assert.ok(lines.some((l) => /b\.jpg: truncated JPEG.*using another fear image/.test(l)));
  });
});

Deno.test("readImageFolder() follows each symbolic link once: loops and repeats add nothing, broken links are skipped and counted", async () => {
  await withTemp(async (dir) => {
    await writeTree(`${dir}/f`, {
      "happy/a.png": pngBytes(4, 4, flat(4, 4, 200, 180, 160)),
      "happy/b.png": pngBytes(4, 4, flat(4, 4, 190, 170, 150)),
      "sad/c.png": pngBytes(4, 4, flat(4, 4, 60, 60, 90)),
    });
    // (ln, because Deno.symlink needs unscoped permissions)
    const ln = (to: string, at: string) =>
      new Deno.Command("ln", { args: ["-s", to, at] }).output();
    await ln(`${dir}/f/happy`, `${dir}/f/happy/loop`); // a folder linking to itself
    await ln(`${dir}/f/sad`, `${dir}/f/happy/to_sad`); // into another class
    await ln(`${dir}/f/sad/c.png`, `${dir}/f/sad/again.png`); // the same file twice
    await ln(`${dir}/f/nowhere.png`, `${dir}/f/sad/broken.png`);
    const lines: string[] = [];
    const ds = await readImageFolder(`${dir}/f`, { size: 4, log: (l) => lines.push(l) });
    assert.deepEqual(ds.classCounts(), [0, 0, 0, 2, 1, 0]); // nothing duplicated, nothing mislabelled
    const why = Object.fromEntries(ds.skipped.map((b) => [b.name, b.message]));
    assert.equal(why["sad/broken.png"], "a broken symbolic link");
    assert.match(
      why["sad/again.png"],
      /the same file as .*sad\/c\.png \(a repeat through a symbolic link\)/,
    );
    assert.equal(ds.skipped.length, 2);
  });
});
