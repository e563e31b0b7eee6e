import { describe, expect, it, vi } from 'vitest';
import { cachedShardMap, type ShardMapSource } from '../../lib/shards/loader.ts';
import { parseShardMap, type ShardMap } from '../../lib/shards/schema.ts';
import { rejection, testLoaderOptions } from './helpers.ts';

const TTL = 30_000;

/** A source whose answers the test controls: each read takes the next outcome, or waits for release(). */
function scriptedSource() {
  const outcomes: (ShardMap | Error)[] = [];
  let gate: Promise<void> | null = null;
  let open = () => {};
  const source: ShardMapSource & { reads: number } = {
    description: 'scripted',
    reads: 0,
    async read() {
      source.reads += 1;
      await gate;
      const outcome = outcomes.shift();
      if (outcome === undefined) throw new Error('the test scripted no more reads');
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
  };
  return {
    source,
    /** Queues what the next reads return (a map) or throw (an Error). */
    next: (...queued: (ShardMap | Error)[]) => outcomes.push(...queued),
    /** Reads wait until release() from now on. */
    hold: () => {
      gate = new Promise((resolve) => (open = resolve));
    },
    release: () => {
      gate = null;
      open();
    },
  };
}

const mapOf = (url: string) => parseShardMap({ shards: { a: url } });

/**
 * A loader that has read `first` and whose TTL has just passed, with reads held: the next read
 * (`second`) completes on release().
 */
async function expiredLoader() {
  const { source, next, hold, release } = scriptedSource();
  const options = testLoaderOptions();
  const [first, second] = [mapOf('http://first'), mapOf('http://second')];
  next(first, second);
  const loader = cachedShardMap(source, { ...options, ttlMs: TTL });
  await loader.get();
  hold();
  options.advance(TTL);
  return { loader, source, release, first, second };
}

describe('cachedShardMap', () => {
  it('reads once, then serves from memory until the TTL has passed', async () => {
    const { source, next } = scriptedSource();
    const options = testLoaderOptions();
    const first = mapOf('http://first');
    next(first);
    const loader = cachedShardMap(source, { ...options, ttlMs: TTL });
    expect(loader.ageMs()).toBeNull();
    expect(await loader.get()).toBe(first);
    options.advance(TTL - 1);
    expect(await loader.get()).toBe(first);
    expect(loader.ageMs()).toBe(TTL - 1);
    expect(source.reads).toBe(1);
  });

  it('serves the expired map at once and the refreshed one as soon as it is read', async () => {
    const { loader, source, release, first, second } = await expiredLoader();
    expect(await loader.get()).toBe(first);
    expect(source.reads).toBe(2);
    release();
    await vi.waitFor(async () => expect(await loader.get()).toBe(second));
    expect(loader.ageMs()).toBe(0);
    expect(source.reads).toBe(2);
  });

  it('spreads refreshes by ±10% of the TTL', async () => {
    // random() spans [0, 1): from 0.9 TTL up to (not quite) 1.1 TTL.
    for (const [random, due] of [[0, 27_000], [0.25, 28_500], [0.75, 31_500], [0.999, 32_994]] as const) {
      const { source, next } = scriptedSource();
      const options = testLoaderOptions();
      next(mapOf('http://a'), mapOf('http://a'));
      const loader = cachedShardMap(source, { ...options, random: () => random, ttlMs: TTL });
      await loader.get();
      options.advance(due - 1);
      await loader.get();
      expect(source.reads).toBe(1);
      options.advance(2);
      await loader.get();
      expect(source.reads).toBe(2);
    }
  });

  it('shares one read among concurrent callers on a cold start', async () => {
    const { source, next, hold, release } = scriptedSource();
    const map = mapOf('http://a');
    next(map);
    hold();
    const loader = cachedShardMap(source, testLoaderOptions());
    const pending = Array.from({ length: 10 }, () => loader.get());
    release();
    expect(await Promise.all(pending)).toEqual(Array(10).fill(map));
    expect(source.reads).toBe(1);
  });

  it('shares one refresh among concurrent callers once the TTL has passed', async () => {
    const { loader, source, release, first, second } = await expiredLoader();
    expect(await Promise.all(Array.from({ length: 10 }, () => loader.get()))).toEqual(Array(10).fill(first));
    release();
    await vi.waitFor(async () => expect(await loader.get()).toBe(second));
    expect(source.reads).toBe(2);
  });

  it('keeps the last good map when a refresh fails, logs why, and tries again only after another TTL', async () => {
    const { source, next } = scriptedSource();
    const options = testLoaderOptions();
    const good = mapOf('http://good');
    next(good, new Error('the store is down'));
    const loader = cachedShardMap(source, { ...options, ttlMs: TTL });
    await loader.get();

    options.advance(TTL);
    expect(await loader.get()).toBe(good);
    await vi.waitFor(() => expect(options.logged).toHaveLength(1));
    expect(options.logged[0]).toEqual({
      level: 'error',
      msg: 'shard map refresh failed; keeping the last good map',
      source: 'scripted',
      reason: 'the store is down',
      mapAgeMs: TTL,
    });

    options.advance(TTL - 1);
    expect(await loader.get()).toBe(good);
    expect(source.reads).toBe(2);
    expect(loader.ageMs()).toBe(2 * TTL - 1); // the map in force is as old as its last confirmation

    const fixed = mapOf('http://fixed');
    next(fixed);
    options.advance(1);
    await loader.get();
    await vi.waitFor(async () => expect(await loader.get()).toBe(fixed));
    expect(options.logged).toHaveLength(1);
  });

  it('writes the failure as one JSON line on stderr by default', async () => {
    const { source, next } = scriptedSource();
    const options = testLoaderOptions();
    next(mapOf('http://good'), new Error('nope'));
    const loader = cachedShardMap(source, { now: options.now, random: options.random, ttlMs: TTL });
    await loader.get();

    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      options.advance(TTL);
      await loader.get();
      await vi.waitFor(() => expect(stderr).toHaveBeenCalledTimes(1));
      const line = String(stderr.mock.calls[0]?.[0]);
      expect(line.endsWith('\n') && !line.slice(0, -1).includes('\n')).toBe(true);
      expect(JSON.parse(line)).toMatchObject({ level: 'error', source: 'scripted', reason: 'nope' });
    } finally {
      stderr.mockRestore();
    }
  });

  it('rejects a cold start with the source’s reason, and reads again on the next call', async () => {
    const { source, next } = scriptedSource();
    const options = testLoaderOptions();
    const map = mapOf('http://a');
    next(new Error('cannot read shard map SSM parameter /x: ParameterNotFound'), map);
    const loader = cachedShardMap(source, options);
    expect((await rejection(loader.get())).message).toBe('cannot read shard map SSM parameter /x: ParameterNotFound');
    expect(loader.ageMs()).toBeNull();
    expect(options.logged).toEqual([]); // the caller reports it (the router answers 503 with it)
    expect(await loader.get()).toBe(map);
  });

  it('defaults to a 30 s TTL', async () => {
    const { source, next } = scriptedSource();
    const options = testLoaderOptions();
    next(mapOf('http://a'), mapOf('http://b'));
    const loader = cachedShardMap(source, options);
    await loader.get();
    options.advance(29_999);
    await loader.get();
    expect(source.reads).toBe(1);
    options.advance(1);
    await loader.get();
    expect(source.reads).toBe(2);
  });
});
