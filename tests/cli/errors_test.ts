/**
 * Bad input and failing I/O through the CLI: each case ends with one line naming the file or
 * URL and the fix, no stack trace, exit code 1, and nothing written before is lost.
 */
import assert from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import { SMOKE } from "../../src/config.ts";
import { initClassifier } from "../../src/model/networks.ts";
import { saveModel } from "../../src/model/io.ts";
import { flat, pngBytes, writeTree } from "../_helpers/fixtures.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; lines: string[] }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    lines: err.split("\n").filter((l) => l.trim() && !/experimental feature/.test(l)),
  };
}

/** Asserts the run failed with exactly one error line matching `want` and no stack trace. */
function oneLine(r: { code: number; lines: string[] }, want: RegExp): void {
  assert.equal(r.code, 1, r.lines.join("\n"));
  const errors = r.lines.filter((l) => l.startsWith("error: "));
  assert.equal(errors.length, 1, r.lines.join("\n"));
  assert.match(errors[0], want);
  assert.ok(!r.lines.some((l) => /^\s+at /.test(l)), r.lines.join("\n"));
}

await tf.setBackend("cpu");
const root = await Deno.makeTempDir({ prefix: "byel_cli_err_" });
/** Saves an untrained classifier of `cfg` (a baseline model) to `dir`. */
async function saveUntrained(dir: string, cfg: typeof SMOKE = SMOKE): Promise<void> {
  const p = initClassifier(cfg);
  await saveModel(dir, p, {
    arch: cfg.arch,
    metadata: { config: cfg, method: "baseline", backend: "cpu", seed: cfg.seed, version: "test" },
  });
  p.dispose();
}
const model = `${root}/model`;
await saveUntrained(model);

Deno.test("train and synth with --out naming a file: one line, the file untouched", async () => {
  await Deno.writeTextFile(`${root}/afile`, "keep me");
  for (const args of [["train", "--preset", "smoke"], ["synth", "--count", "6", "--size", "32"]]) {
    const r = await cli(...args, "--out", `${root}/afile`);
    oneLine(r, /--out .*afile is a file, not a folder; choose another --out or remove it/);
  }
  assert.equal(await Deno.readTextFile(`${root}/afile`), "keep me");
});

Deno.test("eval on a damaged model: {} as model.json, a truncated or padded weights.bin, NaN weights", async () => {
  const bad = `${root}/bad`;
  const reset = async () => {
    await Deno.mkdir(bad, { recursive: true });
    for (const f of ["model.json", "weights.bin"]) {
      await Deno.copyFile(`${model}/${f}`, `${bad}/${f}`);
    }
  };
  const weights = await Deno.readFile(`${model}/weights.bin`);
  await reset();
  await Deno.writeTextFile(`${bad}/model.json`, "{}");
  oneLine(
    await cli("eval", "--model", bad, "--backend", "cpu"),
    /bad\/model\.json is not a byel model\.json/,
  );
  await reset();
  await Deno.writeFile(`${bad}/weights.bin`, weights.subarray(0, 100));
  oneLine(
    await cli("eval", "--model", bad, "--backend", "cpu"),
    /bad\/weights\.bin: 100 bytes, but .*lists \d+ \(truncated\)/,
  );
  await reset();
  await Deno.writeFile(`${bad}/weights.bin`, new Uint8Array([...weights, ...new Uint8Array(1000)]));
  oneLine(
    await cli("eval", "--model", bad, "--backend", "cpu"),
    /\(extra bytes\); restore the model/,
  );
  await reset();
  const nan = weights.slice();
  new Float32Array(nan.buffer)[3] = NaN;
  await Deno.writeFile(`${bad}/weights.bin`, nan);
  oneLine(
    await cli("eval", "--model", bad, "--backend", "cpu"),
    /weights\.bin: encoder\.\S+ holds NaN \(a damaged model\)/,
  );
});

Deno.test("eval on a model URL whose host refuses: one line naming the URL", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  oneLine(
    await cli("eval", "--model", `http://127.0.0.1:${port}/m`, "--backend", "cpu"),
    new RegExp(
      `cannot reach http://127\\.0\\.0\\.1:${port}/m/model\\.json: the connection was refused`,
    ),
  );
});

Deno.test("train into an --out that holds a run: refused without --resume or --overwrite, replaced with --overwrite", async () => {
  const out = `${root}/run`;
  const first = await cli("train", "--preset", "smoke", "--out", out, "--stop-after", "1");
  assert.equal(first.code, 130, first.lines.join("\n"));
  oneLine(
    await cli("train", "--preset", "smoke", "--out", out),
    /already holds a run \(checkpoint, report\.html\); continue it with --resume, replace it with --overwrite/,
  );
  oneLine(
    await cli("train", "--preset", "smoke", "--out", out, "--resume", "--overwrite"),
    /pass one/,
  );
  const again = await cli("train", "--preset", "smoke", "--out", out, "--overwrite");
  assert.equal(again.code, 0, again.lines.join("\n"));
  assert.match(again.stdout, /--overwrite: removed the previous run/);
});

Deno.test("flags are checked alike in every command: --batch 0 and --tta flip for eval, predict and devscore", async () => {
  for (const args of [["eval"], ["predict", `${root}/x.png`], ["devscore", "--devsets", root]]) {
    oneLine(
      await cli(...args, "--model", model, "--batch", "0"),
      /--batch 0 is not allowed: expected an integer >= 1/,
    );
    oneLine(
      await cli(...args, "--model", model, "--tta", "flip"),
      /--tta flip is not allowed: expected one of scales, none/,
    );
  }
});

Deno.test("ensemble: joins two models that eval reads; bad input gets one line and writes nothing", async () => {
  const other = `${root}/model-s1`, wide = `${root}/wide`;
  await saveUntrained(other, { ...SMOKE, seed: 1 });
  await saveUntrained(wide, { ...SMOKE, arch: { ...SMOKE.arch, width: 1 / 8 } });
  const ens = `${root}/ens`;
  oneLine(await cli("ensemble", model, other), /ensemble needs --out DIR/);
  oneLine(
    await cli("ensemble", "--out", ens, model),
    /ensemble needs two or more model folders after its flags, got 1/,
  );
  oneLine(
    await cli("ensemble", "--out", ens, "--backend", "cpu", model, wide),
    /wide: its network \(resnet x0\.125 .*\) is not .*model's \(resnet x0\.0625 .*\); an ensemble needs one architecture/,
  );
  oneLine(
    await cli("ensemble", "--out", ens, "--backend", "cpu", model, `${root}/nothing`),
    /no model at .*nothing: expected a directory with model\.json and weights\.bin/,
  );
  await assert.rejects(() => Deno.stat(ens), Deno.errors.NotFound);
  const ok = await cli("ensemble", "--out", ens, "--float16", "--backend", "cpu", model, other);
  assert.equal(ok.code, 0, ok.lines.join("\n"));
  assert.match(ok.stdout, /^backend cpu/m);
  assert.match(ok.stdout, /wrote .*ens \(float16\): baseline, ensemble of 2: seeds 0, 1/);
  oneLine(
    await cli("ensemble", "--out", ens, "--backend", "cpu", model, other),
    /ens already holds a model; pass --overwrite to replace it/,
  );
  const again = await cli(
    "ensemble",
    "--out",
    ens,
    "--overwrite",
    "--backend",
    "cpu",
    model,
    other,
  );
  assert.equal(again.code, 0, again.lines.join("\n"));
  await writeTree(`${root}/faces`, {
    "happy/a.png": pngBytes(40, 40, flat(40, 40, 200, 150, 120)),
    "sad/b.png": pngBytes(40, 40, flat(40, 40, 90, 60, 50)),
  });
  const evalArgs = ["eval", "--model", ens, "--data", `${root}/faces`, "--face", "none"];
  const e = await cli(...evalArgs, "--json", "--backend", "cpu");
  assert.equal(e.code, 0, e.lines.join("\n"));
  const m = JSON.parse(e.stdout.trim().split("\n").pop()!);
  assert.equal(m.networks, 2);
  assert.equal(m.n, 2);
  const plain = await cli(...evalArgs, "--backend", "cpu");
  assert.match(plain.stdout, /\(baseline, ensemble of 2: seeds 0, 1\)/);
});

globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
