/**
 * Generation speed of the synthetic face renderer on one core (main thread), per image size.
 * Prints one JSON line: `{"bench":"synth","domain":…,"results":[{"size":64,"imagesPerSec":…},…]}`.
 *
 * Run: `flock /tmp/bench.lock deno run -A bench/synth_bench.ts [--seconds 1] [--domain real]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { SyntheticFaces } from "../src/data/synth/dataset.ts";
import type { DomainName } from "../src/data/synth/domains.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "1" },
    domain: { type: "string", default: "synthetic" },
    sizes: { type: "string", default: "32,48,64,96,128,224" },
  },
});
const seconds = Number(values.seconds);
const results: { size: number; imagesPerSec: number; msPerImage: number }[] = [];
for (const size of values.sizes.split(",").map(Number)) {
  const ds = new SyntheticFaces({ domain: values.domain as DomainName, size, length: 1_000_000 });
  const img = new Float32Array(size * size * 3);
  for (let i = 0; i < 30; i++) ds.renderInto(i, img); // warm up the JIT
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) ds.renderInto(1000 + n++, img);
  const dt = (performance.now() - t0) / 1000;
  results.push({ size, imagesPerSec: Math.round(n / dt), msPerImage: +(dt * 1000 / n).toFixed(3) });
}
console.log(JSON.stringify({ bench: "synth", domain: values.domain, results }));
