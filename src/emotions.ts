/**
 * The six expression classes of the ABAW4 LSD challenge, in its index order, and the one
 * function that maps folder names and aliases onto them.
 *
 * @module
 */

/** The six classes, in LSD index order (0 anger … 5 surprise). */
export const EMOTIONS = [
  "anger",
  "disgust",
  "fear",
  "happiness",
  "sadness",
  "surprise",
] as const;

/** One of the six class names. */
export type Emotion = typeof EMOTIONS[number];

/** Number of classes (6). */
export const NUM_CLASSES: number = EMOTIONS.length;

/** Folder names and aliases, lower-case, for each class. `angrer` is LSD's shipped spelling. */
const _ALIASES: Record<Emotion, readonly string[]> = {
  anger: ["anger", "angry", "angrer", "ang"],
  disgust: ["disgust", "disgusted", "disgusting", "dis"],
  fear: ["fear", "fearful", "afraid", "scared", "fea"],
  happiness: ["happiness", "happy", "joy", "hap"],
  sadness: ["sadness", "sad"],
  surprise: ["surprise", "surprised", "sur"],
};

const _LOOKUP = new Map<string, number>(
  EMOTIONS.flatMap((e, i) => _ALIASES[e].map((a) => [a, i] as [string, number])),
);

/**
 * Class index of a folder name or alias, case-insensitively, or -1 when it is none of the six
 * (for example `neutral` or `contempt`).
 *
 * @param name a class name, alias or folder name such as `ANGRER`, `Happy`, `surprised`
 * @returns 0..5 in {@link EMOTIONS} order, or -1
 * @example
 * ```ts
 * classIndex("ANGRER"); // 0
 * classIndex("neutral"); // -1
 * ```
 */
export function classIndex(name: string): number {
  return _LOOKUP.get(name.trim().toLowerCase()) ?? -1;
}
