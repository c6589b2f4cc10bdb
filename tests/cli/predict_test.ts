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
