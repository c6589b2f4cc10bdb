import assert from "node:assert/strict";
import { png } from "../../src/deps.ts";
import { EMOTIONS } from "../../src/emotions.ts";
import { SyntheticFaces } from "../../src/data/synth/dataset.ts";
import { encodePng } from "../../src/data/synth/sheet.ts";
import { frontalFace, place, similarity } from "../_helpers/faces.ts";
import { probeAdapter } from "../../src/backend/webgpu.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

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
/** Starts `deno <args>` and reads its stdout until `until` matches (or it ends). */
async function spawnUntil(args: string[], until: RegExp) {
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
    .spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let head = "";
  while (!until.test(head)) {
    const { value, done } = await reader.read();
    if (done) break;
    head += value;
  }
  return { child, reader, head };
}

/** The rest of a reader's text, to its end. */
async function readRest(reader: ReadableStreamDefaultReader<string>): Promise<string> {
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += value;
  }
}

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
  for (const r of rows) assert.equal(r.faces[0].box.length, 4);

  // A photo with two faces: one result per face, each with its box; a bad file gets one
  // warning line, the others their results, and exit code 1 (0 with --skip-bad).
  const a = frontalFace(4).img, b = frontalFace(5).img;
  const two = new Float32Array(320 * 160 * 3);
  const left = place(a, similarity(a, { deg: 0, k: 1, cx: 80, cy: 80 }), 160, 160);
  const right = place(b, similarity(b, { deg: 0, k: 1, cx: 80, cy: 80 }), 160, 160);
  for (let y = 0; y < 160; y++) {
    two.set(left.data.subarray(y * 480, (y + 1) * 480), y * 960);
    two.set(right.data.subarray(y * 480, (y + 1) * 480), y * 960 + 480);
  }
  await Deno.writeFile(`${root}/two.png`, encodePng(two, 320, 160));
  await Deno.writeTextFile(`${root}/bad.png`, "not an image");
  const args = ["predict", "--model", `${root}/run/model`, "--backend", "cpu"];
  const q = await cli(...args, "--json", `${root}/two.png`, `${root}/bad.png`, files[2]);
  assert.equal(q.code, 1, q.stderr);
  const got = JSON.parse(q.stdout.trim().split("\n").pop()!);
  assert.equal(got.length, 3);
  assert.equal(got[0].faces.length, 2);
  for (const f of got[0].faces) {
    assert.equal(f.source, "detector");
    assert.equal(f.box.length, 4);
    assert.ok(f.landmarks.leftEye.length === 2 && EMOTIONS.includes(f.class));
  }
  assert.match(got[1].error, /bad\.png: .*PNG or JPEG/);
  assert.ok(EMOTIONS.includes(got[2].class));
  const warnings = q.stderr.split("\n").filter((l) => l.startsWith("warning:"));
  assert.equal(warnings.length, 1, q.stderr);
  assert.doesNotMatch(q.stderr, /\n\s+at /); // no stack trace
  const skip = await cli(...args, "--skip-bad", `${root}/bad.png`, files[2]);
  assert.equal(skip.code, 0, skip.stderr);
  assert.match(skip.stdout, /: (face 1 at \[|no face found)/);

  // An LSD challenge submission: a test folder and a list in an order of its own.
  await Deno.mkdir(`${root}/lsd_test`);
  const names = files.map((_, i) => `${String(i).padStart(5, "0")}.png`);
  for (const [i, f] of files.entries()) await Deno.copyFile(f, `${root}/lsd_test/${names[i]}`);
  const listed = [names[7], names[0], names[11], names[1], ...names.slice(2, 7)];
  await Deno.writeTextFile(`${root}/list.txt`, listed.join("\n") + "\n");
  const sub = [
    "predict",
    "--model",
    `${root}/run/model`,
    "--backend",
    "cpu",
    "--lsd-test",
    `${root}/lsd_test`,
  ];
  const s = await cli(
    ...sub,
    "--list",
    `${root}/list.txt`,
    "--batch",
    "4",
    "--out",
    `${root}/submission.csv`,
  );
  assert.equal(s.code, 0, s.stderr);
  const csv = (await Deno.readTextFile(`${root}/submission.csv`)).trimEnd().split("\n");
  assert.equal(csv[0], "image,expression");
  assert.deepEqual(csv.slice(1).map((l) => l.split(",")[0]), listed);
  for (const l of csv.slice(1)) assert.match(l, /^\d{5}\.png,[0-5]$/);
  // The same classes as predict gives for the same files.
  assert.equal(csv[2], `${names[0]},${EMOTIONS.indexOf(rows[0].class)}`);
  assert.equal(csv[4], `${names[1]},${EMOTIONS.indexOf(rows[1].class)}`);
  // A listed image that is missing: refused, nothing written.
  await Deno.writeTextFile(`${root}/list2.txt`, `image,expression\n${names[0]}\nmissing.png\n`);
  const partial = await cli(
    ...sub,
    "--list",
    `${root}/list2.txt`,
    "--out",
    `${root}/p.csv`,
  );
  assert.equal(partial.code, 1);
  assert.match(partial.stderr, /missing\.png/);
  await assert.rejects(Deno.stat(`${root}/p.csv`), Deno.errors.NotFound);

  // --strict: a corrupt file stops eval and train, naming it (skipped without --strict).
  await Deno.writeFile(`${root}/imgs/sad/broken.png`, new Uint8Array([137, 80, 78, 71, 1, 2]));
  const lenient = await cli(
    "eval",
    "--model",
    `${root}/run/model`,
    "--data",
    `${root}/imgs`,
    "--json",
    "--backend",
    "cpu",
  );
  assert.equal(lenient.code, 0, lenient.stderr);
  assert.equal(JSON.parse(lenient.stdout.trim().split("\n").pop()!).n, 12);
  for (
    const args of [
      ["eval", "--model", `${root}/run/model`, "--data", `${root}/imgs`, "--strict"],
      ["train", "--preset", "smoke", "--data", `${root}/imgs`, "--strict", "--out", `${root}/y`],
    ]
  ) {
    const r = await cli(...args, "--backend", "cpu");
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /broken\.png/);
  }

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
    const { child, reader, head } = await spawnUntil(args, /pretrain step +2\//);
    let text = head;
    child.kill("SIGINT");
    text += await readRest(reader);
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

Deno.test({
  name: "cli train: a second Ctrl-C ends the run at once, the last finished step's checkpoint kept",
  ignore: Deno.build.os === "windows",
  async fn() {
    const root = await Deno.makeTempDir();
    // Steps at 64 px take seconds on the CPU backend: long enough that only the second Ctrl-C,
    // not the end of the step, can stop the run within the time allowed below.
    const args = [
      "run",
      "-A",
      CLI,
      "train",
      "--preset",
      "smoke",
      "--arch.inputSize",
      "64",
      "--pretrain.epochs",
      "3",
      "--out",
      `${root}/run`,
    ];
    const { child, reader, head } = await spawnUntil(args, /pretrain step +2\//);
    let text = head;
    child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    child.kill("SIGINT");
    text += await readRest(reader);
    const status = await child.status;
    const waited = performance.now() - t0;
    await child.stderr.cancel();
    assert.equal(status.code, 130, text);
    assert.ok(waited < 1500, `the second Ctrl-C took ${waited.toFixed(0)} ms to end the run`);
    assert.doesNotMatch(text, /stopped at pretrain step/); // it did not wait for the step
    const ckpt = JSON.parse(await Deno.readTextFile(`${root}/run/checkpoint/model.json`));
    assert.ok(ckpt.userDefinedMetadata.step >= 1);
    await Deno.remove(root, { recursive: true });
  },
});

const hasAdapter = typeof (await probeAdapter()) !== "string";

Deno.test({
  name: "cli train --preset smoke --backend webgpu runs end to end (where a WebGPU adapter exists)",
  ignore: !hasAdapter,
  async fn() {
    const root = await Deno.makeTempDir();
    const r = await cli(
      "train",
      "--preset",
      "smoke",
      "--backend",
      "webgpu",
      "--out",
      `${root}/run`,
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^backend webgpu/m);
    assert.match(r.stdout, /finetune step +\d+\/\d+ .*\| webgpu$/m);
    await Deno.stat(`${root}/run/model/model.json`);
    await Deno.remove(root, { recursive: true });
  },
});
