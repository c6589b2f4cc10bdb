/**
 * `SyntheticFaces`: the generator as a {@link Dataset}. Image `i` has class `i % 6` (in
 * `EMOTIONS` order) and shows identity `floor(i / 6) % identities`, so six consecutive images
 * are one person under the six expressions and any prefix of the dataset is class-balanced.
 * Every image is a pure function of `(seed, domain, i)`: nothing is stored.
 *
 * @module
 */
import type { Batch, Dataset } from "../dataset.ts";
import { EMOTIONS, NUM_CLASSES } from "../../emotions.ts";
import { UserError } from "../../errors.ts";
import { sampleCapture } from "./capture.ts";
import { DOMAIN_SPECS, type DomainName, DOMAINS, globalIdentity } from "./domains.ts";
import { sampleExpression } from "./expressions.ts";
import { makeIdentity } from "./identity.ts";
import { MAX_SIZE, MIN_SIZE, renderFace } from "./render.ts";
import { hash32 } from "../../rng.ts";

/** Options of {@link SyntheticFaces}. */
export interface SyntheticFacesOptions {
  /** Which domain to draw from. @default "synthetic" */
  domain?: DomainName;
  /** Dataset seed; a different seed gives different people and images. @default 0 */
  seed?: number;
  /** Image side in pixels, 32 .. 224. @default 64 */
  size?: number;
  /** Number of images. @default 60000 */
  length?: number;
  /**
   * Number of distinct people; identity of image i is floor(i / 6) % identities.
   * @default ceil(length / 6): every person appears once per class
   */
  identities?: number;
}

/**
 * Procedurally rendered faces showing the six expressions, index-addressable and deterministic.
 *
 * @example
 * ```ts
 * const train = new SyntheticFaces({ domain: "synthetic", seed: 1, size: 64, length: 60000 });
 * const val = new SyntheticFaces({ domain: "real", seed: 1, size: 64, length: 3000 });
 * const b = await train.batch([0, 1, 2, 3]); // b.images: [4, 64, 64, 3] float32 in [0, 1]
 * ```
 */
export class SyntheticFaces implements Dataset {
  readonly name: string;
  readonly length: number;
  readonly size: number;
  /** The domain drawn from. */
  readonly domain: DomainName;
  /** The dataset seed. */
  readonly seed: number;
  /** How many different people appear. */
  readonly identities: number;
  readonly #imageSeed: number;

  /**
   * A dataset of rendered faces (nothing is rendered until a batch is asked for).
   *
   * @param options see {@link SyntheticFacesOptions}
   */
  constructor(options: SyntheticFacesOptions = {}) {
    const {
      domain = "synthetic",
      seed = 0,
      size = 64,
      length = 60000,
    } = options;
    if (!DOMAINS.includes(domain)) {
      throw new UserError(`unknown domain "${domain}"; expected one of: ${DOMAINS.join(", ")}`);
    }
    if (!Number.isInteger(size) || size < MIN_SIZE || size > MAX_SIZE) {
      throw new UserError(
        `image size ${size} is out of range; use an integer ${MIN_SIZE}..${MAX_SIZE}`,
      );
    }
    if (!Number.isInteger(length) || length < 1) {
      throw new UserError(`dataset length ${length} must be a positive integer`);
    }
    if (!Number.isInteger(seed) || seed < 0) {
      throw new UserError(`seed ${seed} must be a non-negative integer`);
    }
    const identities = options.identities ?? Math.ceil(length / NUM_CLASSES);
    if (
      !Number.isInteger(identities) || identities < 1 ||
      identities > DOMAIN_SPECS[domain].identityCount
    ) {
      throw new UserError(`identities ${identities} must be a positive integer`);
    }
    this.domain = domain;
    this.seed = seed;
    this.size = size;
    this.length = length;
    this.identities = identities;
    this.#imageSeed = hash32(seed, DOMAINS.indexOf(domain));
    this.name = `${domain}(seed ${seed}, ${length} @ ${size}px)`;
  }

  /**
   * The class of an image.
   *
   * @param i image index
   * @returns class index 0..5 (`i % 6`)
   */
  label(i: number): number {
    return i % NUM_CLASSES;
  }

  /**
   * The person in an image.
   *
   * @param i image index
   * @returns the global identity number shown in image `i` (disjoint between domains)
   */
  identity(i: number): number {
    return globalIdentity(this.domain, Math.floor(i / NUM_CLASSES) % this.identities);
  }

  /**
   * Renders image `i` into `out` at `offset` (`[size, size, 3]` float32 in [0, 1]).
   *
   * @param i image index, 0 <= i < length
   * @param out destination
   * @param offset index of the first float to write
   */
  renderInto(i: number, out: Float32Array, offset = 0): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new RangeError(`image index ${i} is outside 0..${this.length - 1}`);
    }
    renderFace(out, {
      offset,
      size: this.size,
      identity: makeIdentity(this.seed, this.identity(i)),
      expression: sampleExpression(EMOTIONS[this.label(i)], this.#imageSeed, i),
      capture: sampleCapture(this.domain, this.#imageSeed, i),
    });
  }

  /**
   * Renders the images at `indices`.
   *
   * @param indices image indices, any order, repeats allowed
   * @returns `[n, size, size, 3]` float32 in [0, 1] images and their labels
   */
  batch(indices: readonly number[]): Promise<Batch> {
    const n = indices.length, px = this.size * this.size * 3;
    const images = new Float32Array(n * px);
    const labels = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      this.renderInto(indices[k], images, k * px);
      labels[k] = this.label(indices[k]);
    }
    return Promise.resolve({ images, labels, n, size: this.size });
  }
}
