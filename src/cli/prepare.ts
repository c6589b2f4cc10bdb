/**
 * `prepare --data DIR --size S --out FILE`: decode an image folder once into a prepared cache
 * that `train --data FILE` and `eval --data FILE` read far faster than the images.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { prepareCache } from "../data/cache.ts";
import type { LsdSplit } from "../data/folders.ts";
import { DecodePool } from "../data/prefetch.ts";
import { FaceDecoder, FaceStage, parseFaceMode } from "../face/stage.ts";
import type { Upscale } from "../data/resize.ts";
import { classCounts, formatClassDistribution } from "../data/sampler.ts";
import { UserError } from "../errors.ts";
import type { Command } from "./command.ts";

const _USAGE = `usage: deno run -A cli.ts prepare --data DIR --size S --out FILE [flags]

Decodes every PNG/JPEG under DIR/<class>/ once (centre-cropped to a square, resized to S x S)
into packed uint8 shards FILE.<tag>.<k>.bin with the index FILE. Pass FILE to train --data /
--val or eval --data. A cache whose sources changed since is refused when opened.

  --data DIR       an ImageFolder, or the LSD root (see --split)
  --size S         side of the stored images in pixels (e.g. 112; a model of another input
                   size resizes on read)
  --out FILE       the index file to write; shards go beside it
  --split NAME     for an LSD root: train (training_set_synthetic_images, default) or val
                   (validation_set_real_images)
  --face MODE      detect (default: find, align and crop each image's face, as eval and
                   predict do; images with no face are stored whole, and counted) or none
                   (centre crop)
  --upscale NAME   filter for images smaller than S: bicubic (default) or bilinear
  --workers N      decoding workers (default: cores - 1; 0 decodes on the main thread)
  --strict         stop at the first bad file, naming it (finished shards are kept; running
                   again resumes)`;

/** The `prepare` sub-command. */
export const command: Command = {
  name: "prepare",
  summary: "decode an image folder once into a fast prepared cache",
  usage: _USAGE,
  async run(args: string[]): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        data: { type: "string" },
        size: { type: "string" },
        out: { type: "string" },
        split: { type: "string", default: "train" },
        upscale: { type: "string", default: "bicubic" },
        workers: { type: "string" },
        face: { type: "string" },
        strict: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (!values.data || !values.size || !values.out) {
      throw new UserError("prepare needs --data DIR --size S --out FILE (see prepare --help)");
    }
    const size = Number(values.size);
    if (!Number.isInteger(size) || size < 1 || size > 4096) {
      throw new UserError(
        `--size ${values.size} is not valid; use an integer from 1 to 4096 (e.g. 112)`,
      );
    }
    if (values.split !== "train" && values.split !== "val") {
      throw new UserError(`--split ${values.split} is not known; use train or val`);
    }
    if (values.upscale !== "bicubic" && values.upscale !== "bilinear") {
      throw new UserError(`--upscale ${values.upscale} is not known; use bicubic or bilinear`);
    }
    const workers = values.workers === undefined
      ? Math.max(1, (navigator.hardwareConcurrency ?? 2) - 1)
      : Number(values.workers);
    if (!Number.isInteger(workers) || workers < 0 || workers > 64) {
      throw new UserError(`--workers ${values.workers} is not valid; use an integer from 0 to 64`);
    }
    const faceMode = parseFaceMode(values.face as string | undefined);
    const stage = faceMode === "detect" ? await FaceStage.load() : undefined;
    const faces = stage ? new FaceDecoder(stage) : undefined;
    const pool = !faces && workers > 0 ? new DecodePool(workers) : undefined;
    const tty = Deno.stderr.isTerminal();
    let last = 0;
    const enc = new TextEncoder();
    try {
      const r = await prepareCache(values.data, values.out, {
        size,
        split: values.split as LsdSplit,
        upscale: values.upscale as Upscale,
        strict: values.strict,
        decoder: faces ?? pool,
        face: faceMode,
        onProgress: (done, total, s, rate) => {
          const now = performance.now();
          if (done < total && now - last < (tty ? 500 : 10_000)) return;
          last = now;
          const eta = rate > 0 ? (total - done) / rate : 0;
          const line = `prepare ${done}/${total} files  ${rate.toFixed(0)} images/s  ` +
            `elapsed ${s.toFixed(0)}s  eta ${eta.toFixed(0)}s`;
          Deno.stderr.writeSync(enc.encode(tty ? `\r${line}\x1b[K` : `${line}\n`));
        },
      });
      if (tty) Deno.stderr.writeSync(enc.encode("\n"));
      const counts = classCounts({ length: r.index.count, label: (i) => r.index.labels[i] });
      console.log(formatClassDistribution(counts, { title: values.out }));
      const rate = r.decoded / Math.max(r.seconds, 1e-9);
      console.log(
        `prepared ${values.out}: ${r.index.count} images @ ${size}px in ${r.index.shards.length} shard(s), ` +
          `${r.index.skipped.length} skipped, ${r.decoded} decoded in ${r.seconds.toFixed(1)}s (${
            rate.toFixed(0)
          } images/s)` +
          (r.resumed ? `, ${r.resumed} resumed` : ""),
      );
      if (faces) console.log(faces.summary());
      return 0;
    } finally {
      pool?.close();
      stage?.dispose();
    }
  },
};
