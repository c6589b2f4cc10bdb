/**
 * bench/reference_torch.py builds byel's networks: the same trainable parameter counts for the
 * VGG (BatchNorm and IBN, several widths) and the ResNets, and the same number of BatchNorm
 * running statistics (none where IBN has instance norm); and the same r18 rows' specs as
 * bench/spec.ts. Needs /usr/bin/python3 with torch; skipped without it.
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { tf } from "../../src/deps.ts";
import type { Config } from "../../src/config.ts";
import { initClassifier, initPretrainNets } from "../../src/model/networks.ts";
import type { Params } from "../../src/model/params.ts";
import { benchSpec, canonicalJson, quickConfig, r18Config } from "../../bench/spec.ts";

const PYTHON = "/usr/bin/python3";
const SCRIPT = new URL("../../bench/reference_torch.py", import.meta.url).pathname;
const hasTorch = await new Deno.Command(PYTHON, { args: ["-c", "import torch"], stderr: "null" })
  .output().then((o) => o.success, () => false);

async function _python(args: string[]): Promise<unknown> {
  const out = await new Deno.Command(PYTHON, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
}

/** byel's trainable scalars per network, as the reference names them. */
function _byelCounts(cfg: Config) {
  const n = (p: Params, prefix: string) =>
    p.trainable(prefix).reduce((s, k) => s + p.get(k).size, 0);
  const classifier = initClassifier(cfg);
  const nets = initPretrainNets(cfg, { emotion: true });
  try {
    return {
      encoder: n(classifier, "encoder."),
      encoder_with_statistics: classifier.count("encoder."),
      classifier: n(classifier, ""),
      online: n(nets, "online."),
      target: n(nets, "target."),
    };
  } finally {
    classifier.dispose();
    nets.dispose();
  }
}

Deno.test({
  name: "reference_torch.py --count-params matches byel's VGG and ResNet networks",
  ignore: !hasTorch,
  async fn() {
    await tf.setBackend("cpu");
    const cases = [
      ["arch.family=vgg", "arch.width=0.25", "arch.inputSize=48"],
      ["arch.family=vgg", "arch.width=0.5", "arch.norm=ibn"],
      ["arch.family=vgg", "arch.width=0.3", "pretrain.hidden=64"], // 19.2 -> 19, 38.4 -> 38, ...
      ["arch.family=vgg", "arch.width=0.1015625"], // 6.5 -> 7 (JavaScript rounds halves up)
      [], // the quick ResNet-18
      ["arch.depth=50", "arch.width=0.125", "arch.stem=cifar", "arch.inputSize=32"],
    ];
    for (const set of cases) {
      const cfg = quickConfig(set);
      const torch = await _python([
        SCRIPT,
        "--quick-json",
        JSON.stringify(benchSpec(cfg)),
        "--count-params",
      ]);
      assertEquals(torch, _byelCounts(cfg), set.join(" "));
    }
  },
});

Deno.test({
  name: "reference_torch.py r18_spec() is bench/spec.ts r18Config()",
  ignore: !hasTorch,
  async fn() {
    const quick = quickConfig(["arch.family=vgg", "pretrain.microBatch=16"]);
    const code = [
      "import json, sys",
      `sys.path.insert(0, ${JSON.stringify(new URL("../../bench", import.meta.url).pathname)})`,
      "import reference_torch as R",
      "print(json.dumps(R.r18_spec(json.loads(sys.argv[1]), 0.5, 112, 32)))",
    ].join("\n");
    const got = await _python(["-c", code, JSON.stringify(benchSpec(quick))]);
    const want = benchSpec(r18Config(quick, { width: 0.5, inputSize: 112, batch: 32 }));
    assertEquals(canonicalJson(got), canonicalJson(want));
  },
});
