/**
 * `synth --out DIR`: renders synthetic faces to an ImageFolder of PNGs (one folder per class)
 * and optionally a contact sheet, so the generator's output can be inspected or reused.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { EMOTIONS } from "../emotions.ts";
import { UserError } from "../errors.ts";
import { ensureDir, writeFileAtomic } from "../fsutil.ts";
import { SyntheticFaces } from "../data/synth/dataset.ts";
import { type DomainName, DOMAINS } from "../data/synth/domains.ts";
import { MAX_SIZE, MIN_SIZE } from "../data/synth/render.ts";
import { contactSheet, encodePng } from "../data/synth/sheet.ts";
import type { Command } from "./command.ts";

const _USAGE = `usage: deno run -A cli.ts synth --out DIR [flags]

Renders procedural faces showing the six expressions into DIR/<class>/<index>.png (anger,
disgust, fear, happiness, sadness, surprise), class-balanced; image i is identity i/6 under
class i%6, the same pixels on every machine for the same seed and domain.

  --out DIR          the ImageFolder to write (created; existing files are overwritten)
  --count N          number of images (default 600)
  --domain NAME      synthetic (training look, default) or real (photographic look, other people)
  --size S           image side, ${MIN_SIZE}..${MAX_SIZE} (default 64)
  --seed K           dataset seed (default 0)
  --sheet FILE.png   also write a contact sheet: rows = classes, columns = 8 identities`;

function _int(name: string, text: string, lo: number, hi: number): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new UserError(`--${name} ${text} is not valid; use an integer from ${lo} to ${hi}`);
  }
  return v;
}

/** The `synth` sub-command. */
export const command: Command = {
  name: "synth",
  summary: "render synthetic expression faces to an ImageFolder of PNGs",
  usage: _USAGE,
  async run(args: string[]): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        out: { type: "string" },
        count: { type: "string", default: "600" },
        domain: { type: "string", default: "synthetic" },
        size: { type: "string", default: "64" },
        seed: { type: "string", default: "0" },
        sheet: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    });
    if (!values.out && !values.sheet) {
      throw new UserError("synth needs --out DIR (and/or --sheet FILE.png); see synth --help");
    }
    if (!(DOMAINS as readonly string[]).includes(values.domain)) {
      throw new UserError(`--domain ${values.domain} is not known; use ${DOMAINS.join(" or ")}`);
    }
    const domain = values.domain as DomainName;
    const count = _int("count", values.count, 1, 10_000_000);
    const size = _int("size", values.size, MIN_SIZE, MAX_SIZE);
    const seed = _int("seed", values.seed, 0, 2 ** 31 - 1);
    if (values.sheet) {
      const sheet = await contactSheet({ domain, seed, size });
      await writeFileAtomic(values.sheet, sheet.png);
      console.error(`synth: wrote contact sheet ${values.sheet} (${sheet.width}x${sheet.height})`);
    }
    if (!values.out) return 0;
    const ds = new SyntheticFaces({ domain, seed, size, length: count });
    await ensureDir(values.out);
    for (const e of EMOTIONS) await Deno.mkdir(`${values.out}/${e}`, { recursive: true });
    const img = new Float32Array(size * size * 3);
    const digits = String(count - 1).length;
    const t0 = performance.now();
    const tty = Deno.stderr.isTerminal();
    const enc = new TextEncoder();
    let last = t0;
    for (let i = 0; i < count; i++) {
      ds.renderInto(i, img);
      const file = `${values.out}/${EMOTIONS[ds.label(i)]}/${String(i).padStart(digits, "0")}.png`;
      await writeFileAtomic(file, encodePng(img, size));
      const now = performance.now();
      // A live line on a terminal every second; a plain line every 10 s in logs.
      if (now - last > (tty ? 1000 : 10000) || i === count - 1) {
        last = now;
        const rate = (i + 1) / ((now - t0) / 1000);
        const line = `synth: ${i + 1}/${count} images, ${rate.toFixed(0)} images/s`;
        if (tty) await Deno.stderr.write(enc.encode(`\r${line}`));
        else console.error(line);
      }
    }
    if (tty) await Deno.stderr.write(enc.encode("\n"));
    console.error(`synth: wrote ${count} ${domain} images of ${size}px to ${values.out}`);
    return 0;
  },
};
