import assert from "node:assert/strict";
import { png } from "../../src/deps.ts";
import { EMOTIONS } from "../../src/emotions.ts";
import { SyntheticFaces } from "../../src/data/synth/dataset.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

Deno.test("cli compare: two methods, one seed, scored on a dev-set folder; a second call reuses the runs", async () => {
  const root = await Deno.makeTempDir({ prefix: "byel_compare_" });
  // A stand-in dev set of rendered faces (tests never read the real dev sets).
  const faces = new SyntheticFaces({ domain: "real", seed: 9, size: 32, length: 12 });
  const b = await faces.batch([...Array(12).keys()]);
  for (let i = 0; i < 12; i++) {
    const dir = `${root}/dev/mini/${EMOTIONS[b.labels[i]]}`;
    await Deno.mkdir(dir, { recursive: true });
    const data = Uint8Array.from(
      b.images.subarray(i * 3072, (i + 1) * 3072),
      (v) => Math.round(v * 255),
    );
    await Deno.writeFile(
      `${dir}/${i}.png`,
      png.encode({ width: 32, height: 32, data, channels: 3 }),
    );
  }
  const args = [
    "run",
    "-A",
    CLI,
    "compare",
    "--preset",
    "smoke",
    "--seeds",
    "0",
    "--methods",
    "baseline,byel",
    "--out",
    `${root}/cmp`,
    "--devsets",
    `${root}/dev`,
    "--dev-face",
    "none",
  ];
  const run = async () => {
    const o = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
      .output();
    return {
      code: o.code,
      out: new TextDecoder().decode(o.stdout),
      err: new TextDecoder().decode(o.stderr),
    };
  };
  const first = await run();
  assert.equal(first.code, 0, first.err + first.out);
  const json = JSON.parse(await Deno.readTextFile(`${root}/cmp/compare.json`));
  assert.deepEqual(json.rows.map((r: { method: string }) => r.method), ["baseline", "byel"]);
  for (const r of json.rows) assert.ok(r.dev.mini >= 0 && r.dev.mini <= 1 && r.realF1 >= 0);
  const md = await Deno.readTextFile(`${root}/cmp/compare.md`);
  assert.match(
    md,
    /\| method \| runs \| real \(synthetic\): mean ± sd \(min–max\) \| mini: mean ± sd/,
  );
  const second = await run();
  assert.equal(second.code, 0, second.err);
  assert.equal((second.out.match(/reusing the finished run/g) ?? []).length, 2);
  await Deno.remove(root, { recursive: true });
});
