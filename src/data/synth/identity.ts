/**
 * Who is in the picture: the fixed traits of one synthetic person (face shape, skin tone,
 * features and their spacing, hair, age, glasses, facial hair). Identity `k` of a seed is the
 * same person under every expression and capture, which is what BYEL's emotion vectors rely on.
 *
 * All lengths are in face units: the eye line is at v = 0, the chin near v = 1, u runs left to
 * right with the face's midline at u = 0 (v grows downwards, like image rows).
 *
 * @module
 */
import { Rng, STREAM } from "../../rng.ts";

/** An RGB colour, each channel in [0, 1]. */
export type Rgb = [number, number, number];

/** The fixed traits of one synthetic person. */
export interface Identity {
  /** Global identity number (domains use disjoint ranges). */
  id: number;
  /** Half-width of the face at the cheekbones. */
  faceW: number;
  /** Top of the skull (negative: above the eyes). */
  crownV: number;
  /** Bottom of the chin with the mouth closed. */
  chinV: number;
  /** How much the jaw narrows towards the chin, 0 (round) .. 1 (pointed). */
  jawTaper: number;
  /** Half-distance between the eye centres. */
  eyeSep: number;
  /** Half-width of each eye opening. */
  eyeW: number;
  /** Upper-lid opening as a fraction of eyeW. */
  eyeOpen: number;
  /** Rise of the outer eye corner (positive: outer corner higher). */
  eyeTilt: number;
  /** Iris radius as a fraction of eyeW. */
  irisR: number;
  irisColor: Rgb;
  /** Height of the eyebrow above the eye line. */
  browV: number;
  /** Eyebrow thickness at its inner end. */
  browThick: number;
  /** Eyebrow arch height. */
  browArch: number;
  /** Eyebrow opacity, 0.3 (sparse) .. 1. */
  browDensity: number;
  /** Vertical position of the nose tip. */
  noseV: number;
  /** Half-width of the nostril wings. */
  noseW: number;
  /** How far the nose projects from the face. */
  noseH: number;
  /** Vertical position of the mouth line. */
  mouthV: number;
  /** Half-width of the mouth. */
  mouthW: number;
  /** Upper and lower lip thickness. */
  upperLip: number;
  lowerLip: number;
  /** Skin albedo. */
  skin: Rgb;
  /** Lip albedo. */
  lip: Rgb;
  /** Hair and eyebrow colour. */
  hair: Rgb;
  /** Apparent age, 0 (young adult) .. 1 (elderly): wrinkles, sagging, grey hair. */
  age: number;
  /** Fuller cheeks, 0 .. 1. */
  cheekFull: number;
  /** Masculine traits (heavier brow ridge and jaw, possible beard). */
  male: boolean;
  /** Hairline height (negative, above the brows); hidden under a fringe when `fringe`. */
  hairlineV: number;
  /** Hair hangs down beside the face to this v (0 for short hair). */
  hairLength: number;
  /** Hair fringe down to this v, or 0 for none. */
  fringeV: number;
  /** Bald (no scalp hair). */
  bald: boolean;
  /** Hair volume beyond the skull outline. */
  hairVolume: number;
  /** Glasses: 0 none, 1 thin frames, 2 thick frames. */
  glasses: number;
  glassesColor: Rgb;
  /** Facial hair: 0 none, 1 stubble, 2 moustache, 3 full beard. */
  beard: number;
  /** Seed of this person's skin blotch texture. */
  textureSeed: number;
  /** Facial asymmetry: the right eye and brow sit this much lower than the left. */
  asym: number;
}

/** Skin albedo anchors from very light to very dark (sRGB, roughly Fitzpatrick I..VI). */
const _SKIN: readonly Rgb[] = [
  [0.97, 0.82, 0.72],
  [0.91, 0.72, 0.6],
  [0.8, 0.6, 0.45],
  [0.66, 0.46, 0.32],
  [0.48, 0.32, 0.21],
  [0.3, 0.19, 0.13],
];

const _HAIR: readonly Rgb[] = [
  [0.05, 0.04, 0.04],
  [0.12, 0.08, 0.06],
  [0.22, 0.14, 0.09],
  [0.38, 0.25, 0.15],
  [0.62, 0.48, 0.3],
  [0.8, 0.68, 0.48],
  [0.5, 0.22, 0.1],
];

const _IRIS: readonly Rgb[] = [
  [0.2, 0.11, 0.06],
  [0.3, 0.18, 0.1],
  [0.35, 0.3, 0.15],
  [0.3, 0.42, 0.55],
  [0.4, 0.5, 0.45],
];

function _lerpRgb(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/**
 * Draws the traits of identity `id` under `seed`.
 *
 * @param seed dataset seed
 * @param id global identity number (see {@link DomainSpec} for the ranges)
 * @returns the person's traits; the same for the same `(seed, id)` on every machine
 * @example
 * ```ts
 * const a = makeIdentity(1, 42);
 * makeIdentity(1, 42).skin[0] === a.skin[0]; // true
 * ```
 */
export function makeIdentity(seed: number, id: number): Identity {
  const r = new Rng(seed, STREAM.identity, id);
  const male = r.chance(0.5);
  // Ages skew young (most posed-expression photos are of adults 18-40).
  const age = Math.min(1, Math.max(0, r.next() * r.next() * 1.3 + r.uniform(-0.05, 0.1)));
  const toneT = r.next() * (_SKIN.length - 1);
  const ti = Math.min(_SKIN.length - 2, Math.floor(toneT));
  let skin = _lerpRgb(_SKIN[ti], _SKIN[ti + 1], toneT - ti);
  // Undertone: a little redder or more olive.
  const under = r.uniform(-0.04, 0.04);
  skin = [skin[0] + under, skin[1], skin[2] - under * 0.5];
  const lipDark = r.uniform(0.66, 0.86);
  const lip: Rgb = [skin[0] * lipDark + 0.06, skin[1] * lipDark * 0.72, skin[2] * lipDark * 0.78];
  let hair = _HAIR[ti >= 3 ? r.int(3) : r.int(_HAIR.length)];
  const grey = Math.max(0, age - 0.45) * 1.6 * r.next();
  hair = _lerpRgb(hair, [0.72, 0.71, 0.7], Math.min(1, grey));
  const m = male ? 1 : 0;
  const glassesP = 0.14;
  const longP = male ? 0.12 : 0.65;
  const beardP = male ? 0.35 : 0;
  return {
    id,
    faceW: r.uniform(0.68, 0.8) + 0.02 * m,
    crownV: r.uniform(-1.22, -1.05),
    chinV: r.uniform(0.95, 1.07),
    jawTaper: r.uniform(0.15, 0.55) - 0.1 * m,
    eyeSep: r.uniform(0.28, 0.34),
    eyeW: r.uniform(0.12, 0.155),
    eyeOpen: r.uniform(0.34, 0.52) - age * 0.08,
    eyeTilt: r.uniform(-0.02, 0.05),
    irisR: r.uniform(0.42, 0.5),
    irisColor: ti >= 2 ? _IRIS[r.int(2)] : r.pick(_IRIS),
    browV: r.uniform(0.19, 0.27) - 0.02 * m,
    browThick: r.uniform(0.032, 0.055) + 0.012 * m,
    browArch: r.uniform(0.0, 0.05),
    browDensity: r.uniform(0.55, 1),
    noseV: r.uniform(0.36, 0.45),
    noseW: r.uniform(0.085, 0.125) + 0.01 * m,
    noseH: r.uniform(0.16, 0.3),
    mouthV: r.uniform(0.6, 0.68),
    mouthW: r.uniform(0.18, 0.245),
    upperLip: r.uniform(0.03, 0.06) - 0.008 * m,
    lowerLip: r.uniform(0.045, 0.08) - 0.008 * m,
    skin,
    lip,
    hair,
    age,
    cheekFull: r.next(),
    male,
    hairlineV: r.uniform(-0.64, -0.44) - (male ? Math.max(0, age - 0.3) * r.next() * 0.5 : 0),
    hairLength: r.chance(longP) ? r.uniform(0.6, 1.6) : 0,
    fringeV: r.chance(male ? 0.12 : 0.25) ? r.uniform(-0.5, -0.3) : 0,
    bald: male && r.chance(0.05 + age * 0.2),
    hairVolume: r.uniform(0.02, 0.14),
    glasses: r.chance(glassesP) ? 1 + r.int(2) : 0,
    glassesColor: r.pick([[0.05, 0.05, 0.05], [0.35, 0.2, 0.1], [0.6, 0.6, 0.62], [
      0.15,
      0.1,
      0.2,
    ]] as Rgb[]),
    beard: r.chance(beardP) ? 1 + r.int(3) : 0,
    textureSeed: r.u32(),
    asym: r.uniform(-0.015, 0.015),
  };
}
