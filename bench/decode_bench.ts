/**
 * Decoding throughput: decode+resize images/s for 112 px JPEGs (LSD's size) on the main thread
 * and through the worker pool, and the read rate of a prepared cache of the same images, as one
 * JSON object. The cache must read at least 20 times faster than decoding. The cache is read
 * twice: held in memory (how `openCache` reads one of up to 1 GiB) and image by image from its
 * shard files (how it reads a larger one, e.g. LSD at 112 px).
 *
 *   flock /tmp/bench.lock deno run -A bench/decode_bench.ts [--images N] [--size S]
 *
 * The JPEGs are made here (jpeg-js, quality 90) with smooth shading plus noise, so their entropy
 * and decode cost resemble photographs rather than flat test cards.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { openCache, prepareCache } from "../src/data/cache.ts";
import { decodeFiles, toUnitFloat, useJpegDecoder } from "../src/data/decode.ts";
import { DecodePool } from "../src/data/prefetch.ts";
import { jpegBytes } from "../tests/_helpers/fixtures.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { images: { type: "string", default: "600" }, size: { type: "string", default: "64" } },
});
const N = Number(values.images), SIZE = Number(values.size), SRC = 112;

function facelike(seed: number): Uint8Array {
  let s = seed * 2654435761 >>> 0;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
  const img = new Uint8Array(SRC * SRC * 3);
  const cx = 56 + rnd() * 10 - 5, cy = 60 + rnd() * 10 - 5;
  for (let y = 0; y < SRC; y++) {
    for (let x = 0; x < SRC; x++) {
      const d = Math.hypot((x - cx) / 38, (y - cy) / 48);
      const skin = d < 1 ? 1 - d * 0.5 : 0.25;
      const n = (rnd() - 0.5) * 40;
      const i = (y * SRC + x) * 3;
      img[i] = Math.max(0, Math.min(255, 200 * skin + 20 + n));
      img[i + 1] = Math.max(0, Math.min(255, 150 * skin + 25 + n));
      img[i + 2] = Math.max(0, Math.min(255, 120 * skin + 30 + n));
    }
  }
  return img;
}

const dir = await Deno.makeTempDir({ prefix: "byel_decode_bench_" });
try {
  const classes = ["anger", "disgust", "fear", "happiness", "sadness", "surprise"];
  const paths: string[] = [];
  let bytes = 0;
  for (const c of classes) await Deno.mkdir(`${dir}/src/${c}`, { recursive: true });
  for (let i = 0; i < N; i++) {
    const p = `${dir}/src/${classes[i % 6]}/${String(i).padStart(6, "0")}.jpg`;
    const jpg = jpegBytes(SRC, SRC, facelike(i + 1), 90);
    bytes += jpg.length;
    await Deno.writeFile(p, jpg);
    paths.push(p);
  }
  const batch = 256;
  const timeDecode = async (decode: (p: string[]) => Promise<unknown>) => {
    // Warm-up (JIT tiers, workers starting): a training run decodes for hours, not seconds.
    for (let s = 0; s < N; s += batch) await decode(paths.slice(s, s + batch));
    const t0 = performance.now();
    for (let s = 0; s < N; s += batch) await decode(paths.slice(s, s + batch));
    return N / ((performance.now() - t0) / 1000);
  };
  const inlineDecode = async (p: string[]) => toUnitFloat((await decodeFiles(p, SIZE)).pixels);
  await useJpegDecoder("jpeg-js");
  const inlineJs = await timeDecode(inlineDecode);
  const jpegDecoder = await useJpegDecoder("libjpeg-turbo");
  const workers = Math.max(1, (navigator.hardwareConcurrency ?? 2) - 1);
  const pool = new DecodePool(workers);
  const pooled = await timeDecode(async (p) =>
    toUnitFloat((await pool.decodeFiles(p, SIZE)).pixels)
  );
  const pool2 = new DecodePool(2);
  const pooled2 = await timeDecode(async (p) =>
    toUnitFloat((await pool2.decodeFiles(p, SIZE)).pixels)
  );

  const t0 = performance.now();
  const prep = await prepareCache(`${dir}/src`, `${dir}/bench.cache`, {
    size: SIZE,
    decoder: pool2,
    log: () => {},
  });
  const prepareRate = prep.index.count / ((performance.now() - t0) / 1000);
  pool.close();
  pool2.close();
  const cache = await openCache(`${dir}/bench.cache`, { log: () => {} });
  // The same cache read image by image from its shard files, as one too big for memory is.
  const onDisk = await openCache(`${dir}/bench.cache`, { log: () => {}, memoryBytes: 0 });
  // Random batches, as training reads them; several passes so one pass's noise does not decide.
  let s = 12345;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) % N);
  const timeCache = async (passes: number, c = cache) => {
    const t1 = performance.now();
    for (let p = 0; p < passes; p++) {
      for (let k = 0; k < N; k += batch) {
        await c.batch(Array.from({ length: Math.min(batch, N - k) }, rnd));
      }
    }
    return (passes * N) / ((performance.now() - t1) / 1000);
  };
  // Warm-up: V8 needs some 20,000 images' worth of calls before the copy loops run optimised;
  // an epoch reads hundreds of thousands, so the steady state is what counts.
  await timeCache(40);
  await timeCache(40, onDisk);
  // The machine is shared: interleave the two measurements and keep each one's best of 3.
  let inline = 0, cacheRate = 0, diskRate = 0;
  for (let r = 0; r < 3; r++) {
    inline = Math.max(inline, await timeDecode(inlineDecode));
    cacheRate = Math.max(cacheRate, await timeCache(20));
    diskRate = Math.max(diskRate, await timeCache(20, onDisk));
    if (Deno.env.get("BENCH_VERBOSE")) console.error({ r, inline, cacheRate, diskRate });
  }
  cache.close();
  onDisk.close();
  const result = {
    bench: "decode",
    images: N,
    sourcePx: SRC,
    outputPx: SIZE,
    meanJpegBytes: Math.round(bytes / N),
    cores: navigator.hardwareConcurrency,
    jpegDecoder,
    decodeResizeImagesPerSec: Math.round(inline),
    decodeResizeJpegJsImagesPerSec: Math.round(inlineJs),
    decodeResizePoolImagesPerSec: { [workers]: Math.round(pooled), 2: Math.round(pooled2) },
    prepareImagesPerSec: Math.round(prepareRate),
    cacheReadImagesPerSec: Math.round(cacheRate),
    cacheSpeedup: +(cacheRate / inline).toFixed(1),
    cacheAtLeast20x: cacheRate >= 20 * inline,
    cacheReadPerImageFromFilesImagesPerSec: Math.round(diskRate),
    cacheFromFilesSpeedup: +(diskRate / inline).toFixed(1),
    deno: Deno.version.deno,
  };
  console.log(JSON.stringify(result));
} finally {
  await Deno.remove(dir, { recursive: true });
}
