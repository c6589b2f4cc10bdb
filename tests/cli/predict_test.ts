import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { SHIPPED_MODEL } from "../../src/model/io.ts";

const CLI = fileURLToPath(new URL("../../cli.ts", import.meta.url));
const SAMPLE = fileURLToPath(new URL("../../web/sample.png", import.meta.url));

async function predict(...args: string[]): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "predict", "--backend", "cpu", "--json", ...args, SAMPLE],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("predict without --model reads with the shipped model", async () => {
  const plain = await predict();
  const named = await predict("--model", SHIPPED_MODEL);
  assert.deepEqual(plain, named);
  const [file] = plain as { faces: { class: string }[] }[];
  assert.equal(file.faces.length, 1);
});

Deno.test("predict over more files than a face batch keeps each file's faces with its name, bad files between", async () => {
  const dir = await Deno.makeTempDir({ prefix: "byel-predict-" });
  try {
    const a = await Deno.readFile(SAMPLE);
    const { encodePng } = await import("../../src/data/synth/sheet.ts");
    const { frontalFace } = await import("../_helpers/faces.ts");
    const b = encodePng(frontalFace(3, 96).img.data, 96);
    const files: string[] = [];
    for (let k = 0; k < 19; k++) {
      const f = `${dir}/p${String(k).padStart(2, "0")}.png`;
      await Deno.writeFile(f, k === 9 ? new Uint8Array([1, 2, 3]) : k % 2 ? b : a);
      files.push(f);
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "predict", "--backend", "cpu", "--json", "--skip-bad", ...files],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const rows = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      file: string;
      error?: string;
      faces?: { box: number[]; probabilities: Record<string, number> }[];
    }[];
    assert.deepEqual(rows.map((r) => r.file), files);
    assert.ok(rows[9].error, JSON.stringify(rows[9]));
    const first = { a: JSON.stringify(rows[0].faces), b: JSON.stringify(rows[1].faces) };
    assert.notEqual(first.a, first.b);
    rows.forEach((r, k) => {
      if (k !== 9) assert.equal(JSON.stringify(r.faces), k % 2 ? first.b : first.a, r.file);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
