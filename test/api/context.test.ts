// The request context's ways to the shards (lib/api/context.ts), against collector stand-ins on
// loopback: what each shard is asked, in which order answers come back, and how a shard that fails is
// reported (partial answers with a warning each, or a 503 naming it when the request is strict).
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askShards, piecesBody, remoteFor, respond, shardNamed, withAnyShard, type RequestContext } from '../../lib/api/context.ts';
import { DEFAULT_LIMITS, type Limits } from '../../lib/api/limits.ts';
import { RequestTrace } from '../../lib/api/trace.ts';
import { ShardVersions } from '../../lib/api/versions.ts';
import { unusedCache } from '../../lib/cache/results.ts';
import { AnswerBytes } from '../../lib/collectors/answer-bytes.ts';
import { ApiError } from '../../lib/errors.ts';
import { asJson } from '../../lib/engine/remote.ts';
import { parseShardMap, type ShardMap } from '../../lib/shards/schema.ts';
import { startCollectorStandIn, type CollectorStandIn } from '../support/collector.ts';

let collectors: Record<'a' | 'b' | 'c', CollectorStandIn>;
let map: ShardMap;

beforeAll(async () => {
  collectors = { a: await startCollectorStandIn('a'), b: await startCollectorStandIn('b'), c: await startCollectorStandIn('c') };
  map = parseShardMap({ shards: Object.fromEntries(Object.entries(collectors).map(([name, c]) => [name, c.url])) });
});
afterAll(async () => {
  for (const c of Object.values(collectors ?? {})) await c.close();
});

function context(options: { strict?: boolean; limits?: Partial<Limits> } = {}): RequestContext {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  return {
    map, params: new URLSearchParams(), deadline: Date.now() + 10_000, strict: options.strict ?? false, shardConcurrency: 2,
    pushDown: true, trace: new RequestTrace(), limits, answerBytes: new AnswerBytes(limits.maxCollectorBytes),
    tenant: null, cache: null, cacheUse: unusedCache(), versions: new ShardVersions(), shardRegexMajor: 2,
    acceptsGzip: false,
  };
}

function lastSeen(c: CollectorStandIn) {
  return c.seen.at(-1)!;
}

describe('remoteFor: the engine\'s way to the shards', () => {
  it('asks an instant query at the grid\'s one time and a range query over the grid, and counts the bytes read', async () => {
    const ctx = context();
    const remote = remoteFor(ctx);
    expect(remote.shardLabel).toBe('cluster');
    const instant = asJson(await remote.query('a', 'up', { start: 1_700_000_000_500, end: 1_700_000_000_500, step: 0 }));
    expect(instant.answer.resultType).toBe('vector');
    expect(lastSeen(collectors.a).path).toBe('/api/v1/query');
    expect(Object.fromEntries(lastSeen(collectors.a).params)).toMatchObject({ query: 'up', time: '1700000000.500' });
    const range = asJson(await remote.query('b', 'up', { start: 1_000, end: 61_000, step: 15_000 }));
    expect(range.answer.resultType).toBe('matrix');
    expect(lastSeen(collectors.b).path).toBe('/api/v1/query_range');
    expect(Object.fromEntries(lastSeen(collectors.b).params)).toMatchObject({ query: 'up', start: '1.000', end: '61.000', step: '15.000' });
    expect(ctx.trace.shards.get('a')?.bytes).toBe(instant.body.byteLength);
    expect(ctx.trace.shards.get('b')?.requests).toBe(1);
  });
});

describe('askShards', () => {
  const calls = (names: readonly string[]) => names.map((shard) => ({ shard, path: '/api/v1/labels', params: new URLSearchParams(), method: 'GET' as const }));

  it('answers in shard map order whatever order the answers arrive in', async () => {
    const { answers, warnings } = await askShards(context(), calls(['c', 'a', 'b']), v.array(v.string()));
    expect(answers.map((a) => a.shard)).toEqual(['c', 'a', 'b']);
    expect(warnings).toEqual([]);
  });

  it('leaves a failed shard out with a warning, or fails naming it when the request is strict', async () => {
    collectors.b.healthy = false;
    try {
      const { answers, warnings } = await askShards(context(), calls(['a', 'b', 'c']), v.array(v.string()));
      expect(answers.map((a) => a.shard)).toEqual(['a', 'c']);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^partial response: .*"b"/);
      const strict = askShards(context({ strict: true }), calls(['a', 'b', 'c']), v.array(v.string()));
      await expect(strict).rejects.toThrow(/partial responses are off and shards "b" did not answer/);
      await expect(strict).rejects.toMatchObject({ status: 503 });
    } finally {
      collectors.b.healthy = true;
    }
  });

  it('fails when every shard asked failed: an empty partial answer would look like no data', async () => {
    collectors.a.healthy = false;
    try {
      await expect(askShards(context(), calls(['a']), v.array(v.string()))).rejects.toMatchObject({ status: 503 });
    } finally {
      collectors.a.healthy = true;
    }
  });

  it('calls an answer of another shape a shard failure, naming the shard', async () => {
    const { answers, warnings } = await askShards(context(), calls(['a']), v.array(v.string()));
    expect(answers).toHaveLength(1);
    expect(warnings).toEqual([]);
    await expect(askShards(context(), calls(['a', 'c']), v.array(v.number()))).rejects.toThrow(/shards "a", "c" did not answer/);
  });
});

describe('withAnyShard', () => {
  it('moves on from an unavailable shard to the next in map order', async () => {
    collectors.a.healthy = false;
    try {
      const asked: string[] = [];
      const answer = await withAnyShard(context(), async (shard) => {
        asked.push(shard);
        const { answers } = await askShards(context({ strict: true }), [{ shard, path: '/api/v1/labels', params: new URLSearchParams(), method: 'GET' }], v.array(v.string()));
        return answers[0]!.shard;
      });
      expect(answer).toBe('b');
      expect(asked).toEqual(['a', 'b']);
    } finally {
      collectors.a.healthy = true;
    }
  });

  it('does not move on from an error about the query itself', async () => {
    const asked: string[] = [];
    const failing = withAnyShard(context(), async (shard) => {
      asked.push(shard);
      throw new ApiError('bad_data', 'no');
    });
    await expect(failing).rejects.toMatchObject({ errorType: 'bad_data' });
    expect(asked).toEqual(['a']);
  });
});

describe('answers the router builds', () => {
  it('are refused with a 422 past the response limit, whole or in pieces', async () => {
    const ctx = context({ limits: { maxResponseBytes: 100 } });
    const small = respond(ctx, { resultType: 'vector', result: [] }, ['w']);
    expect(await small.json()).toEqual({ status: 'success', data: { resultType: 'vector', result: [] }, warnings: ['w'] });
    expect(() => respond(ctx, { resultType: 'vector', result: ['x'.repeat(100)] })).toThrow(expect.objectContaining({ errorType: 'execution', status: 422 }));
    expect(piecesBody(ctx, [Buffer.from('{"status":'), Buffer.from('"success"}')]).toString()).toBe('{"status":"success"}');
    expect(() => piecesBody(ctx, [Buffer.alloc(60), Buffer.alloc(60)])).toThrow(/larger than 100 bytes/);
    // Counted in bytes, not characters: 30 euro signs are 30 characters and 90 bytes.
    expect(() => respond(ctx, { resultType: 'vector', result: ['€'.repeat(30)] })).toThrow(/larger than 100 bytes/);
  });

  it('name only shards of the map in force', () => {
    expect(shardNamed(context(), 'a').name).toBe('a');
    expect(() => shardNamed(context(), 'gone')).toThrow(ApiError);
  });
});
