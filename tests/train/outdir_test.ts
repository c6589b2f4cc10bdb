import assert from "node:assert/strict";
import { UserError } from "../../src/errors.ts";
import { claimOutDir, LOCK_FILE } from "../../src/train/outdir.ts";

Deno.test("claimOutDir() locks the folder: a second run fails at once naming the first; release frees it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "byel_lock_" });
  const a = await claimOutDir(`${dir}/run`, { log: () => {} });
  await assert.rejects(
    () => claimOutDir(`${dir}/run`, { log: () => {} }),
    (e: Error) =>
      e instanceof UserError &&
      new RegExp(`in use by another run \\(process ${Deno.pid} on .*started \\d{4}-`).test(
        e.message,
      ),
  );
  await a.release();
  const b = await claimOutDir(`${dir}/run`, { log: () => {} });
  await b.release();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("claimOutDir() takes over the lock file of a run whose process is gone, with a notice", async () => {
  const dir = await Deno.makeTempDir({ prefix: "byel_lock_" });
  // What a killed run leaves: its lock file, no longer locked by anyone.
  await Deno.writeTextFile(
    `${dir}/${LOCK_FILE}`,
    JSON.stringify({ pid: 999999, host: "", started: "2026-01-01T00:00:00.000Z" }),
  );
  const lines: string[] = [];
  const c = await claimOutDir(dir, { log: (l) => lines.push(l) });
  assert.deepEqual(lines, [`notice: ${dir}: took over the lock of process 999999, which is gone`]);
  assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/${LOCK_FILE}`)).pid, Deno.pid);
  await c.release();
  await assert.rejects(() => Deno.stat(`${dir}/${LOCK_FILE}`), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("claimOutDir() refuses an --out that is a file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "byel_lock_" });
  await Deno.writeTextFile(`${dir}/f`, "x");
  await assert.rejects(
    () => claimOutDir(`${dir}/f`),
    /--out .*\/f is a file, not a folder; choose another --out/,
  );
  await Deno.remove(dir, { recursive: true });
});
