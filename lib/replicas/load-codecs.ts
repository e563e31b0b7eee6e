// Loads remote read's codecs (codecs.ts) once, on a merged shard's first read. The AWS build maps this
// import to the file it ships beside the bundle (scripts/build.mjs); elsewhere it is an ordinary module.
export type Codecs = typeof import('./codecs.ts');

let loading: Promise<Codecs> | undefined;

export function loadCodecs(): Promise<Codecs> {
  return (loading ??= import('./codecs.ts'));
}
