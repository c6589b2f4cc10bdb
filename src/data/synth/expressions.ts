/**
 * Expressions as FACS action units (AUs). Each class draws its prototype AUs with random
 * intensities in [0, 1] (subtle ones included) plus a little of other AUs, so the classes
 * overlap the way real posed expressions do. The per-class choices follow the measured
 * failure modes of procedural faces: disgust gets a deep nasolabial fold, a strong upper-lip
 * raise and a nose wrinkle (not only happiness owns the folds); anger gets tight lids, pressed
 * lips and a raised chin (never wide eyes); sadness gets the oblique inner brow, drooping lids,
 * lip corners down and the chin raise; fear gets stretched lips with lower teeth and brows
 * raised and drawn together.
 *
 * @module
 */
import type { Emotion } from "../../emotions.ts";
import { Rng, STREAM } from "../../rng.ts";

/** Action-unit intensities, each in [0, 1]. */
export interface ActionUnits {
  /** AU1 inner brow raiser. */
  au1: number;
  /** AU2 outer brow raiser. */
  au2: number;
  /** AU4 brow lowerer (brows down and together, vertical furrows). */
  au4: number;
  /** AU5 upper lid raiser (sclera above the iris). */
  au5: number;
  /** AU6 cheek raiser (cheeks up, lower lids pushed up, crow's feet). */
  au6: number;
  /** AU7 lid tightener (narrowed, straightened lower lids). */
  au7: number;
  /** AU9 nose wrinkler. */
  au9: number;
  /** AU10 upper lip raiser (upper teeth, deep upper nasolabial fold). */
  au10: number;
  /** AU12 lip corner puller (smile). */
  au12: number;
  /** AU15 lip corner depressor. */
  au15: number;
  /** AU16 lower lip depressor (lower teeth). */
  au16: number;
  /** AU17 chin raiser (chin bulge, lower lip pushed up, pout). */
  au17: number;
  /** AU20 lip stretcher (mouth pulled sideways). */
  au20: number;
  /** AU23 lip tightener and AU24 lip presser (thin, pressed lips). */
  au23: number;
  /** AU25 lips part. */
  au25: number;
  /** AU26 jaw drop. */
  au26: number;
  /** AU43 lids drooping (sad, tired). */
  au43: number;
}

/** Every AU at zero: a neutral face. */
export function neutralAus(): ActionUnits {
  return {
    au1: 0,
    au2: 0,
    au4: 0,
    au5: 0,
    au6: 0,
    au7: 0,
    au9: 0,
    au10: 0,
    au12: 0,
    au15: 0,
    au16: 0,
    au17: 0,
    au20: 0,
    au23: 0,
    au25: 0,
    au26: 0,
    au43: 0,
  };
}

type _Range = [lo: number, hi: number, p?: number];

/** Prototype AUs per class: [low, high, probability present (default 1)]. */
const _PROTOTYPES: Record<Emotion, Partial<Record<keyof ActionUnits, _Range>>> = {
  anger: {
    au4: [0.6, 1],
    au7: [0.55, 1],
    au23: [0.5, 1],
    au17: [0.3, 0.9, 0.7],
    au9: [0.1, 0.5, 0.35],
    au10: [0.1, 0.4, 0.25],
    au5: [0.0, 0.25, 0.3],
  },
  disgust: {
    au9: [0.6, 1],
    au10: [0.6, 1],
    au15: [0.3, 0.85, 0.8],
    au16: [0.3, 0.8, 0.55],
    au6: [0.3, 0.75],
    au7: [0.3, 0.75],
    au4: [0.25, 0.7],
    au17: [0.2, 0.7, 0.5],
    au25: [0.3, 0.8, 0.5],
  },
  fear: {
    au1: [0.55, 1],
    au2: [0.4, 1],
    au4: [0.35, 0.85],
    au5: [0.55, 1],
    au20: [0.55, 1],
    au25: [0.5, 1],
    au26: [0.2, 0.7, 0.7],
    au16: [0.3, 0.8, 0.8],
  },
  happiness: {
    au6: [0.4, 1],
    au12: [0.5, 1],
    au25: [0.3, 1, 0.65],
    au26: [0.1, 0.5, 0.3],
    au7: [0.0, 0.4, 0.4],
  },
  sadness: {
    au1: [0.55, 1],
    au4: [0.35, 0.8],
    au15: [0.5, 1],
    au17: [0.35, 0.9, 0.8],
    au43: [0.25, 0.7],
    au6: [0.0, 0.35, 0.3],
    au23: [0.0, 0.4, 0.3],
  },
  surprise: {
    au1: [0.6, 1],
    au2: [0.6, 1],
    au5: [0.45, 1],
    au26: [0.45, 1],
    au25: [0.6, 1],
  },
};

/**
 * Draws the action units of one image of class `emotion`.
 *
 * @param emotion the class
 * @param seed dataset seed
 * @param index image index (the draw is a pure function of seed and index)
 * @param subtleP probability of a subtle version (all intensities scaled by 0.35 .. 0.75)
 * @returns AU intensities in [0, 1]
 */
export function sampleExpression(
  emotion: Emotion,
  seed: number,
  index: number,
  subtleP = 0.25,
): ActionUnits {
  const r = new Rng(seed, STREAM.expression, index);
  const aus = neutralAus();
  const proto = _PROTOTYPES[emotion];
  const scale = r.chance(subtleP) ? r.uniform(0.35, 0.75) : r.uniform(0.8, 1);
  for (const key of Object.keys(aus) as (keyof ActionUnits)[]) {
    const range = proto[key];
    const roll = r.next();
    const v = r.uniform(range?.[0] ?? 0, range?.[1] ?? 0);
    if (range && roll < (range[2] ?? 1)) aus[key] = v * scale;
    else if (roll > 0.88) aus[key] = r.next() * 0.18; // a little of something else
  }
  // Anger never shows wide eyes once the lids tighten; fear's open mouth is stretched.
  if (emotion === "anger") aus.au5 = Math.min(aus.au5, 0.6 * (1 - aus.au7));
  // One in four angry faces bares the teeth instead of pressing the lips.
  if (emotion === "anger" && r.chance(0.25)) {
    aus.au23 *= 0.2;
    aus.au10 = r.uniform(0.5, 1) * scale;
    aus.au16 = r.uniform(0.3, 0.8) * scale;
    aus.au25 = r.uniform(0.5, 1) * scale;
  }
  return aus;
}
