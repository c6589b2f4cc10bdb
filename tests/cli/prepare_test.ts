import assert from "node:assert/strict";
import { openImages } from "../../src/data/open.ts";
import { UserError } from "../../src/errors.ts";
import { makeLsdTree } from "../_helpers/fixtures.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("cli.ts prepare writes a cache that openImages() reads, and refuses it once stale", async () => {
  const dir = await Deno.makeTempDir({ prefix: "byel_prepare_cli_" });
  try {
    await makeLsdTree(`${dir}/lsd`);
    const r = await cli(
      "prepare",
      "--data",
      `${dir}/lsd`,
      "--size",
      "16",
      "--out",
      `${dir}/t.cache`,
      "--workers",
      "1",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /prepared .*t\.cache: 11 images @ 16px in 1 shard\(s\), 2 skipped, 11 decoded .* images\/s\)/,
    );
    assert.match(r.stdout, /sadness +5 +45\.5%/);
    assert.match(r.stderr, /notice: .*neutral \(2 images\)/);
    assert.match(r.stderr, /warning: .*skipped 2 of 13 files/);
    assert.match(r.stderr, /prepare 12\/12 files .* images\/s/);
    const ds = await openImages(`${dir}/t.cache`, { size: 16, log: () => {} });
    assert.equal(ds.length, 11);
    await Deno.writeFile(
      `${dir}/lsd/training_set_synthetic_images/SADNESS/new.png`,
      await Deno.readFile(`${dir}/lsd/training_set_synthetic_images/HAPPINESS/h0.png`),
    );
    await assert.rejects(
      () => openImages(`${dir}/t.cache`, { size: 16, log: () => {} }),
      (e) => e instanceof UserError && /SADNESS\/new\.png/.test(e.message),
    );
    const strict = await cli(
      "prepare",
      "--data",
      `${dir}/lsd`,
      "--size",
      "16",
      "--out",
      `${dir}/s.cache`,
      "--strict",
    );
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /^error: .*HAPPINESS\/zz_empty\.png: empty file \(--strict/m);
    const bad = await cli("prepare", "--data", `${dir}/lsd`, "--size", "0", "--out", `${dir}/x`);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--size 0 is not valid/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
