// The byte-level codecs of remote read, which only shards in "merge" mode use: protobuf messages
// (pbf), snappy blocks, the frames and XOR chunks of streamed answers. Loaded when first needed
// (load-codecs.ts), so a deployment without such shards never parses them: the AWS bundle ships this
// module beside itself (scripts/build.mjs), as it ships the Redis client. Pure functions and classes
// only, with no state or error types of the core, which a second copy would split.
export { default as snappy } from 'snappyjs';
export * from './frames.ts';
export * from './prompb.ts';
export * from './xor-chunk.ts';

