import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadShardMapFile, parseShardMapText } from '../../lib/shards/file.ts';
import { ShardMapError } from '../../lib/shards/schema.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prome-route-shards-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** The error loadShardMapFile raises for `path` (fails the test if it loads). */
async function loadError(path: string): Promise<ShardMapError> {
  const error = await loadShardMapFile(path).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ShardMapError);
  return error as ShardMapError;
}

describe('loadShardMapFile', () => {
  it('loads a JSON map', async () => {
    const path = await fileWith('map.json', JSON.stringify({ shards: { b: 'http://b/', a: { urls: ['http://a'] } } }));
    const { map, listen } = await loadShardMapFile(path);
    expect(listen).toBeUndefined();
    expect(map.shardLabel).toBe('cluster');
    expect([...map.shards.keys()]).toEqual(['b', 'a']);
    expect(map.shards.get('b')?.urls).toEqual(['http://b']);
  });

  it('loads a YAML map, .yaml or .yml', async () => {
    const text = 'shardLabel: region\nshards:\n  eu: http://eu:9090\n  us:\n    urls: [http://us1:9090, http://us2:9090]\n';
    for (const name of ['map.yaml', 'map.yml']) {
      const { map } = await loadShardMapFile(await fileWith(name, text));
      expect(map.shardLabel).toBe('region');
      expect(map.shards.get('us')?.urls).toEqual(['http://us1:9090', 'http://us2:9090']);
    }
  });

  it('detects the syntax of a file without a known extension', async () => {
    const json = await loadShardMapFile(await fileWith('map-json', '  {"shards": {"a": "http://a"}}'));
    expect(json.map.shards.get('a')?.urls).toEqual(['http://a']);
    const yaml = await loadShardMapFile(await fileWith('map-yaml.conf', 'shards:\n  a: http://a\n'));
    expect(yaml.map.shards.get('a')?.urls).toEqual(['http://a']);
  });

  it('tolerates a byte order mark', async () => {
    const { map } = await loadShardMapFile(await fileWith('bom.json', '\uFEFF{"shards": {"a": "http://a"}}'));
    expect(map.shards.has('a')).toBe(true);
  });

  it('loads the upstream Go config unchanged, with its listen address', async () => {
    const path = await fileWith(
      'prome-route.yml',
      'replace_label_name: cluster\nprome_servers:\n\n  a: 1.1.1.1:9090\n  b: "http://2.2.2.2:9090"\n\n\nhttp:\n  listen_addr:   :9097',
    );
    const { map, listen } = await loadShardMapFile(path);
    expect(listen).toBe(':9097');
    expect([...map.shards.values()].map((shard) => shard.urls)).toEqual([
      ['http://1.1.1.1:9090'],
      ['http://2.2.2.2:9090'],
    ]);
  });

  it('reports a missing file', async () => {
    const path = join(dir, 'missing.json');
    const error = await loadError(path);
    expect(error.message).toBe(`cannot read shard map ${path}: no such file`);
    expect(error.issues).toEqual([]);
  });

  it('reports a directory', async () => {
    expect((await loadError(dir)).message).toBe(`cannot read shard map ${dir}: is a directory`);
  });

  it('reports JSON syntax errors with line and column', async () => {
    const missingComma = await fileWith('comma.json', '{\n  "shards": {\n    "a": "http://a"\n    "b": "http://b"\n  }\n}\n');
    expect((await loadError(missingComma)).message).toBe(
      `cannot parse shard map ${missingComma} as JSON: Expected ',' or '}' after property value at line 4, column 5`,
    );
    // V8 gives no position for an unexpected token; it is found anyway.
    const unquoted = await fileWith('unquoted.json', '{\n  "shards": {\n    "a": http://a\n  }\n}\n');
    expect((await loadError(unquoted)).message).toBe(
      `cannot parse shard map ${unquoted} as JSON: Unexpected token 'h' at line 3, column 10`,
    );
    const truncated = await fileWith('truncated.json', '{\n  "shards": {\n    "a": ');
    expect((await loadError(truncated)).message).toBe(
      `cannot parse shard map ${truncated} as JSON: Unexpected end of JSON input at line 3, column 10`,
    );
  });

  it('reports YAML syntax errors with line and column', async () => {
    const path = await fileWith('bad.yaml', 'shards:\n  a: http://a\n  a: http://b\n');
    expect((await loadError(path)).message).toBe(
      `cannot parse shard map ${path} as YAML: Map keys must be unique at line 3, column 3`,
    );
    const indent = await fileWith('indent.yml', 'shards:\n  a:\n    urls:\n    - http://a\n   - http://b\n');
    expect((await loadError(indent)).message).toMatch(
      new RegExp(`^cannot parse shard map ${indent} as YAML: .+ at line 5, column \\d+$`),
    );
  });

  it('reports an empty file', async () => {
    const path = await fileWith('empty.yaml', '\n  \n');
    expect((await loadError(path)).message).toBe(`shard map ${path} is empty`);
  });

  it('reports validation issues with the file name', async () => {
    const path = await fileWith('invalid.json', '{"shardLabel": "__x", "shards": {"a": {"urls": []}}}');
    const error = await loadError(path);
    expect(error.issues).toEqual([
      'shardLabel: must not start with "__" (reserved for Prometheus internal labels), got "__x"',
      'shards.a.urls: must list at least one URL',
    ]);
    expect(error.message.startsWith(`invalid shard map ${path}:\n  - shardLabel:`)).toBe(true);
  });

  it('reports upstream validation issues with upstream paths', async () => {
    const path = await fileWith('upstream.yaml', 'replace_label_name: cluster\nhttp:\n  listen_addr: ":8080"\n');
    expect((await loadError(path)).issues).toEqual(['prome_servers: is required']);
  });
});

describe('parseShardMapText', () => {
  it('parses text from a source without extension, JSON or YAML', () => {
    expect(parseShardMapText('{"shards": {"a": "http://a"}}', 'ssm:/prome-route/shards').map.shards.size).toBe(1);
    expect(parseShardMapText('shards:\n  a: http://a\n', 'ssm:/prome-route/shards').map.shards.size).toBe(1);
    expect(parseShardMapText('prome_servers:\n  a: 1.1.1.1:9090\n', 'oss://bucket/route').map.shards.size).toBe(1);
  });

  it('names the source in errors', () => {
    expect(() => parseShardMapText('{"shards": {}}', 'ssm:/prome-route/shards')).toThrow(
      'invalid shard map ssm:/prome-route/shards:\n  - shards: must name at least one shard',
    );
    expect(() => parseShardMapText('{"shards": ', 'ssm:/p')).toThrow(
      'cannot parse shard map ssm:/p as JSON: Unexpected end of JSON input at line 1, column 12',
    );
  });
});
