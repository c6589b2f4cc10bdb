/**
 * The narrow permission set in deno.json (`deno run -P`) is enough for the CLI's own work, and
 * a write outside it fails with one line naming the flag to add, leaving nothing behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

async function cli(
  args: string[],
  perms = ["-P"],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...perms, "--no-prompt", "cli.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** stderr without Deno's own warning that config-file permissions are experimental. */
function ourLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.trim() && !/experimental feature/.test(l));
}

Deno.test("cli.ts under -P writes a dataset inside runs/ and reads it back", async () => {
  const rel = `runs/test-perm-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const r = await cli(["synth", "--out", rel, "--count", "12", "--size", "32"]);
    assert.equal(r.code, 0, r.stderr);
    let pngs = 0;
    for await (const cls of Deno.readDir(join(ROOT, rel))) {
      if (!cls.isDirectory) continue;
      for await (const f of Deno.readDir(join(ROOT, rel, cls.name))) {
        if (f.name.endsWith(".png")) pngs++;
      }
    }
    assert.equal(pngs, 12);
    const info = await cli(["info", "--json"]);
    assert.equal(info.code, 0, info.stderr);
    assert.ok(["webgpu", "wasm", "cpu"].includes(JSON.parse(info.stdout).backend), info.stdout);
  } finally {
    await Deno.remove(join(ROOT, rel), { recursive: true }).catch(() => {});
  }
});

Deno.test("cli.ts under -P refuses a write outside runs/ with one line naming --allow-write", async () => {
  const outside = join(await Deno.makeTempDir({ prefix: "byel-perm-" }), "out");
  const r = await cli(["synth", "--out", outside, "--count", "6", "--size", "32"]);
  assert.equal(r.code, 1);
  const lines = ourLines(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^error: permission denied: write access to .*--allow-write=/);
  assert.ok(!lines[0].includes(".tmp-"), lines[0]);
  await assert.rejects(Deno.stat(outside));
  await Deno.remove(join(outside, ".."), { recursive: true });
});

Deno.test("eval --data finds faces under -P (the face worker may load), and in this thread under a narrower --allow-read", async () => {
  const rel = `runs/test-perm-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const r = await cli(["synth", "--out", rel, "--count", "6", "--size", "96"]);
    assert.equal(r.code, 0, r.stderr);
    const wide = await cli(["eval", "--data", rel]);
    assert.equal(wide.code, 0, wide.stderr);
    assert.match(
      wide.stdout,
      /faces: \d+ of 6 images.*; face stage in worker \(wasm, \d threads?\)/,
    );
    // without ./src the worker's module may not be read: the stage runs here, no stray error
    const narrow = await cli(["eval", "--data", rel], [
      "--allow-read=./node_modules,./models,./runs",
      "--allow-write=./runs",
    ]);
    assert.equal(narrow.code, 0, narrow.stderr);
    assert.match(
      narrow.stdout,
      /face stage in this thread \(no read access to file:.*worker\.ts\)/,
    );
    assert.deepEqual(ourLines(narrow.stderr), [], narrow.stderr);
    const macro = (out: string) => out.match(/macro F1 ([\d.]+)/)?.[1];
    assert.ok(macro(wide.stdout) !== undefined, wide.stdout);
    assert.equal(macro(narrow.stdout), macro(wide.stdout)); // the same faces either way
  } finally {
    await Deno.remove(join(ROOT, rel), { recursive: true }).catch(() => {});
  }
});
