import assert from "node:assert/strict";
import { png } from "../../src/deps.ts";
import { EMOTIONS } from "../../src/emotions.ts";
import { SyntheticFaces } from "../../src/data/synth/dataset.ts";
import { readImageFolder } from "../../src/data/folders.ts";

const _CLI = new URL("../../cli.ts", import.meta.url).pathname;

async function _synth(args: string[]): Promise<{ ok: boolean; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", _CLI, "synth", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { ok: out.success, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("synth writes an ImageFolder of PNGs that round-trips labels and pixels", async () => {
  const dir = await Deno.makeTempDir({ prefix: "byel_synth_" });
  try {
    const r = await _synth([
      "--out",
      dir,
      "--count",
      "30",
      "--size",
      "48",
      "--domain",
      "real",
      "--seed",
      "4",
      "--sheet",
      `${dir}/sheet.png`,
    ]);
    assert.ok(r.ok, r.stderr);
    const ds = new SyntheticFaces({ domain: "real", seed: 4, size: 48, length: 30 });
    const want = new Float32Array(48 * 48 * 3);
    let files = 0;
    for (const [label, e] of EMOTIONS.entries()) {
      for (const entry of Deno.readDirSync(`${dir}/${e}`)) {
        const i = Number(entry.name.replace(".png", ""));
        assert.equal(ds.label(i), label, `${e}/${entry.name} is in the wrong folder`);
        const img = png.decode(await Deno.readFile(`${dir}/${e}/${entry.name}`));
        assert.equal(img.width, 48);
        assert.equal(img.channels, 3);
        ds.renderInto(i, want);
        for (let k = 0; k < want.length; k++) {
          assert.ok(
            Math.abs(img.data[k] / 255 - want[k]) <= 0.5 / 255 + 1e-6,
            `${e}/${entry.name} pixel ${k}`,
          );
        }
        files++;
      }
    }
    assert.equal(files, 30);
    const sheet = png.decode(await Deno.readFile(`${dir}/sheet.png`));
    assert.equal(sheet.width, 8 * 48 + 9 * 2);
    assert.equal(sheet.height, 6 * 48 + 7 * 2);

    // The project's own ImageFolder reader sees the same labels and pixels.
    const back = await readImageFolder(dir, { size: 48, log: () => {} });
    assert.equal(back.length, 30);
    const all = await back.batch(Array.from({ length: 30 }, (_, k) => k));
    const px = 48 * 48 * 3;
    for (let k = 0; k < 30; k++) {
      const name = back.files[k].name;
      const i = Number(name.split("/").pop()!.replace(".png", ""));
      assert.equal(all.labels[k], ds.label(i), name);
      ds.renderInto(i, want);
      let err = 0;
      for (let q = 0; q < px; q++) err = Math.max(err, Math.abs(all.images[k * px + q] - want[q]));
      assert.ok(err <= 0.5 / 255 + 1e-6, `${name}: max pixel error ${err}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("synth rejects bad flags with a one-line error", async () => {
  for (
    const args of [
      ["--out", "/tmp/x", "--size", "20"],
      ["--out", "/tmp/x", "--domain", "cartoon"],
      [],
    ]
  ) {
    const r = await _synth(args);
    assert.ok(!r.ok);
    assert.match(r.stderr, /^error: [^\n]+\n$/);
  }
});
