/**
 * The two domains of the generator. `synthetic` is what BYEL trains on; `real` stands in for
 * real photographs when none are at hand: other people (a disjoint identity range) and a
 * photographic capture (skin pores, harsher coloured light, sensor and chroma noise, JPEG
 * blocking, occlusions, more pose).
 *
 * @module
 */

/** The domain names, in a fixed order. */
export const DOMAINS = ["synthetic", "real"] as const;

/** One of {@link DOMAINS}. */
export type DomainName = typeof DOMAINS[number];

/** How a domain draws its people and its capture. */
export interface DomainSpec {
  name: DomainName;
  /** First global identity number of this domain. */
  identityBase: number;
  /** Number of distinct identities in this domain's range. */
  identityCount: number;
  /** Photographic capture (pores, chroma noise, JPEG blocks, occlusions) always on. */
  photographic: boolean;
  /** Scales pose, lighting and colour randomisation (1 = default). */
  strength: number;
}

/** Global identity numbers: synthetic uses [0, 2^30), real uses [2^30, 2^31). */
export const DOMAIN_SPECS: Readonly<Record<DomainName, DomainSpec>> = {
  synthetic: {
    name: "synthetic",
    identityBase: 0,
    identityCount: 2 ** 30,
    photographic: false,
    strength: 1.3,
  },
  real: {
    name: "real",
    identityBase: 2 ** 30,
    identityCount: 2 ** 30,
    photographic: true,
    strength: 1,
  },
};

/**
 * Global identity number of a domain's `k`-th identity.
 *
 * @param domain the domain
 * @param k identity index within the domain (>= 0)
 * @returns a number in the domain's range; ranges of different domains never overlap
 */
export function globalIdentity(domain: DomainName, k: number): number {
  const spec = DOMAIN_SPECS[domain];
  return spec.identityBase + (k % spec.identityCount);
}
