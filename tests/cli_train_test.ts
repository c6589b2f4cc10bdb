import assert from "node:assert/strict";
import { png } from "../src/deps.ts";
import { EMOTIONS } from "../src/emotions.ts";
import { SyntheticFaces } from "../src/data/synth/dataset.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** An ImageFolder of 40 px PNGs (resized by the readers), two per class, with folder aliases. */
async function writeFolder(root: string): Promise<string[]> {
  const faces = new SyntheticFaces({ domain: "real", seed: 5, size: 40, length: 12 });
  const b = await faces.batch([...Array(12).keys()]);
  const files: string[] = [];
  const names = ["ANGRER", "disgust", "Fearful", "happy", "sad", "surprised"];
  for (let i = 0; i < 12; i++) {
    const dir = `${root}/${names[b.labels[i]]}`;
    await Deno.mkdir(dir, { recursive: true });
    const px = b.images.subarray(i * 40 * 40 * 3, (i + 1) * 40 * 40 * 3);
    const data = Uint8Array.from(px, (v) => Math.round(v * 255));
    const file = `${dir}/${i}.png`;
    await Deno.writeFile(file, png.encode({ width: 40, height: 40, data, channels: 3 }));
    files.push(file);
  }
  return files;
}

Deno.test("cli train --preset smoke, then eval and predict on its model", async () => {
  const root = await Deno.makeTempDir();
  const t = await cli("train", "--preset", "smoke", "--out", `${root}/run`);
  assert.equal(t.code, 0, t.stderr + t.stdout);
  assert.match(t.stdout, /^backend cpu/m);
  assert.match(
    t.stdout,
    /pretrain step +1\/\d+ \| loss [\d.]+ \(byol [\d.]+ cls [\d.]+ orth [\d.]+\) \| lr [\d.]+ \| [\d.]+ img\/s \| ETA \S+ \| cpu/,
  );
  for (
    const f of [
      "model/model.json",
      "model/weights.bin",
      "report.html",
      "metrics.json",
      "checkpoint/model.json",
    ]
  ) {
    await Deno.stat(`${root}/run/${f}`);
  }
  const meta =
    JSON.parse(await Deno.readTextFile(`${root}/run/model/model.json`)).userDefinedMetadata;
  assert.equal(meta.method, "byel");
  assert.equal(meta.backend, "cpu");
  assert.equal(meta.config.arch.inputSize, 32);

  const files = await writeFolder(`${root}/imgs`);
  const e = await cli(
    "eval",
    "--model",
    `${root}/run/model`,
    "--data",
    `${root}/imgs`,
    "--json",
    "--backend",
    "cpu",
  );
  assert.equal(e.code, 0, e.stderr);
  const m = JSON.parse(e.stdout.trim().split("\n").pop()!);
  assert.deepEqual(Object.keys(m).slice(0, 6), [
    "macroF1",
    "accuracy",
    "perClass",
    "confusion",
    "n",
    "backend",
  ]);
  assert.equal(m.n, 12);
  assert.equal(m.backend, "cpu");
  assert.deepEqual(Object.keys(m.perClass), [...EMOTIONS]);

  const p = await cli(
    "predict",
    "--model",
    `${root}/run/model`,
    "--json",
    "--backend",
    "cpu",
    files[0],
    files[1],
  );
  assert.equal(p.code, 0, p.stderr);
  const rows = JSON.parse(p.stdout.trim().split("\n").pop()!);
  assert.equal(rows.length, 2);
  assert.ok(EMOTIONS.includes(rows[0].class));
  const sum = Object.values(rows[0].probabilities as Record<string, number>).reduce(
    (a, b) => a + b,
    0,
  );
  assert.ok(Math.abs(sum - 1) < 1e-3);

  const bad = await cli("train", "--preset", "smoke", "--pretrain.lr=-1", "--out", `${root}/x`);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /pretrain.lr = -1 is out of range/);
  await Deno.remove(root, { recursive: true });
});

Deno.test({
  name: "cli train: Ctrl-C (SIGINT) saves a checkpoint that --resume completes",
  ignore: Deno.build.os === "windows",
  async fn() {
    const root = await Deno.makeTempDir();
    const args = [
      "run",
      "-A",
      CLI,
      "train",
      "--preset",
      "smoke",
      "--pretrain.epochs",
      "3",
      "--out",
      `${root}/run`,
    ];
    const child = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
      .spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/pretrain step +2\//.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    child.kill("SIGINT");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.code, 130, text);
    assert.match(text, /Ctrl-C: finishing this step/);
    assert.match(text, /stopped at pretrain step \d+\/12; checkpoint in/);
    const r = await cli(
      "train",
      "--preset",
      "smoke",
      "--pretrain.epochs",
      "3",
      "--out",
      `${root}/run`,
      "--resume",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /resumed from .*checkpoint: pretrain step \d+/);
    await Deno.stat(`${root}/run/model/model.json`);
    await Deno.remove(root, { recursive: true });
  },
});
