// limit_ratio's deterministic sampling (Prometheus 3.x, HashRatioSampler): a series' place in [0, 1]
// is its label set's hash over the largest uint64. The hash is xxHash64 of the labels as 3.x's default
// build (stringlabels) stores them: each name and value prefixed with its byte length (one byte below
// 255, else 255 and three bytes little-endian), in label order.
import xxhash from 'xxhash-wasm';
import type { Labels } from '../types.ts';

let hasher: Awaited<ReturnType<typeof xxhash>> | null = null;

/** Loads the hash (a WebAssembly module, compiled once per process). */
export async function loadRatioSampler(): Promise<void> {
  hasher ??= await xxhash();
}

function sizePrefix(n: number): number[] {
  return n < 255 ? [n] : [255, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff];
}

/** Prometheus's SampleOffset: float64(labels.Hash()) / float64(MaxUint64). Needs loadRatioSampler first. */
export function sampleOffset(labels: Labels): number {
  if (hasher === null) throw new Error('loadRatioSampler() was not awaited');
  const parts: number[] = [];
  for (const [name, value] of Object.entries(labels)) {
    for (const text of [name, value]) {
      const bytes = Buffer.from(text, 'utf8');
      parts.push(...sizePrefix(bytes.length), ...bytes);
    }
  }
  // float64(MaxUint64) rounds to 2^64; BigInt to Number rounds to nearest like Go's conversion.
  return Number(hasher.h64Raw(Uint8Array.from(parts))) / 2 ** 64;
}

/** AddRatioSampleWithOffset: r >= 0 keeps offsets below r, r < 0 keeps those at or above 1 + r. */
export function inRatio(ratio: number, offset: number): boolean {
  return ratio >= 0 ? offset < ratio : offset >= 1 + ratio;
}
