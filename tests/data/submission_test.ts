import assert from "node:assert/strict";
import type { Batch } from "../../src/data/dataset.ts";
import {
  predictLsdTest,
  readTestList,
  writeLsdSubmission,
  writeSubmission,
} from "../../src/data/submission.ts";
import { UserError } from "../../src/errors.ts";
import { flat, jpegBytes, pngBytes, writeTree } from "../_helpers/fixtures.ts";

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "byel_sub_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A fake model: class = red channel of the first pixel / 40 (so each test image says its class). */
const byRed = (b: Batch) =>
  Promise.resolve(
    Int32Array.from({ length: b.n }, (_, i) =>
      Math.round((b.images[i * b.size * b.size * 3] * 255) / 40)),
  );

async function makeTestSet(dir: string, count: number): Promise<void> {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < count; i++) {
    const c = (i * 7) % 6;
    files[`test/${i}.jpg`] = i % 2
      ? jpegBytes(9, 9, flat(9, 9, c * 40, 0, 0), 100)
      : pngBytes(5, 5, flat(5, 5, c * 40, 0, 0));
  }
  await writeTree(dir, files);
  // Rows deliberately not in numeric order: the CSV must follow the list.
  const rows = Array.from({ length: count }, (_, i) => `${(i * 5) % count}.jpg`);
  await Deno.writeTextFile(`${dir}/list.txt`, `image,expression\r\n${rows.join("\r\n")}\r\n`);
}

Deno.test("writeLsdSubmission() writes the header and one row per listed image, in list order", async () => {
  await withTemp(async (dir) => {
    await makeTestSet(dir, 13);
    const seen: number[] = [];
    const n = await writeLsdSubmission({
      testDir: `${dir}/test`,
      list: `${dir}/list.txt`,
      out: `${dir}/sub.csv`,
    }, {
      size: 4,
      batchSize: 5,
      classify: byRed,
      onProgress: (d) => seen.push(d),
    });
    assert.equal(n, 13);
    assert.deepEqual(seen, [5, 10, 13]);
    const lines = (await Deno.readTextFile(`${dir}/sub.csv`)).trimEnd().split("\n");
    assert.equal(lines[0], "image,expression");
    assert.equal(lines.length, 14);
    lines.slice(1).forEach((l, k) => {
      const i = (k * 5) % 13;
      assert.equal(l, `${i}.jpg,${(i * 7) % 6}`);
    });
  });
});

Deno.test("writeLsdSubmission() refuses a missing or unreadable image and writes nothing", async () => {
  await withTemp(async (dir) => {
    await makeTestSet(dir, 6);
    await Deno.remove(`${dir}/test/3.jpg`);
    await assert.rejects(
      () =>
        writeLsdSubmission({
          testDir: `${dir}/test`,
          list: `${dir}/list.txt`,
          out: `${dir}/sub.csv`,
        }, { size: 4, classify: byRed }),
      (e) =>
        e instanceof UserError &&
        /1 of 6 listed test images are missing \(3\.jpg\).*no submission written/.test(e.message),
    );
    await Deno.writeFile(`${dir}/test/3.jpg`, new Uint8Array(0));
    await assert.rejects(
      async () =>
        await predictLsdTest(`${dir}/test`, await readTestList(`${dir}/list.txt`), byRed, {
          size: 4,
        }),
      (e) => e instanceof UserError && /3\.jpg: empty file/.test(e.message),
    );
    assert.equal([...Deno.readDirSync(dir)].some((e) => e.name.startsWith("sub.csv")), false);
  });
});

Deno.test("writeSubmission() refuses partial rows; readTestList() reads names without header too", async () => {
  await withTemp(async (dir) => {
    await assert.rejects(
      () => writeSubmission(`${dir}/s.csv`, { names: ["0.jpg", "1.jpg"], predictions: [1] }),
      /one prediction per listed image/,
    );
    await assert.rejects(
      () => writeSubmission(`${dir}/s.csv`, { names: ["0.jpg"], predictions: [6] }),
      /not a class/,
    );
    await writeSubmission(`${dir}/s.csv`, {
      names: ["0.jpg", "1.jpg"],
      predictions: Int32Array.of(5, 0),
    });
    assert.equal(await Deno.readTextFile(`${dir}/s.csv`), "image,expression\n0.jpg,5\n1.jpg,0\n");
    await Deno.writeTextFile(`${dir}/l.txt`, "\uFEFF7.jpg\n8.jpg,\n");
    assert.deepEqual(await readTestList(`${dir}/l.txt`), ["7.jpg", "8.jpg"]);
    await assert.rejects(() => readTestList(`${dir}/nope.txt`), UserError);
  });
});
