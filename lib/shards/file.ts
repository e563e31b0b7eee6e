/**
 * Loading a shard map from text: a file, or (through parseShardMapText) any source that hands us
 * text, such as a cloud parameter store. JSON or YAML, in the native or the upstream Go format.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseShardMap, ShardMapError, type LoadedShardMap } from './schema.ts';
import { fromUpstreamConfig, isUpstreamConfig } from './upstream.ts';

export async function loadShardMapFile(path: string): Promise<LoadedShardMap> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ShardMapError(`cannot read shard map ${path}: ${readFailure(error)}`);
  }
  return parseShardMapText(text, path);
}

/**
 * Parses and validates a shard map. `nameForErrors` names the source in messages; its extension,
 * if any, picks the syntax (.json, .yaml, .yml), otherwise text opening with "{" is read as JSON
 * and anything else as YAML.
 */
export function parseShardMapText(text: string, nameForErrors: string): LoadedShardMap {
  // Editors on Windows may save a byte order mark, which JSON.parse rejects.
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), nameForErrors);
  return isUpstreamConfig(doc)
    ? fromUpstreamConfig(doc, nameForErrors)
    : { map: parseShardMap(doc, nameForErrors) };
}

const READ_FAILURES: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
};

function readFailure(error: unknown): string {
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  return READ_FAILURES[code] ?? (error instanceof Error ? error.message : String(error));
}

/** Text as JSON or YAML, chosen as parseShardMapText describes, not yet validated. */
export function parseDocument(text: string, name: string): unknown {
  // Both parsers accept some empty documents (YAML reads one as null); say what is actually wrong.
  if (text.trim() === '') throw new ShardMapError(`shard map ${name} is empty`);
  const extension = extname(name).toLowerCase();
  const json = extension === '.json' || (extension !== '.yaml' && extension !== '.yml' && text.trimStart().startsWith('{'));
  try {
    return json ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const reason = json ? jsonSyntaxError(error, text) : yamlSyntaxError(error);
    throw new ShardMapError(`cannot parse shard map ${name} as ${json ? 'JSON' : 'YAML'}: ${reason}`);
  }
}

/** The yaml package's message, without the source excerpt it appends: "<reason> at line L, column C". */
function yamlSyntaxError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n', 1)[0] ?? '').replace(/:$/, '');
}

/**
 * JSON.parse's message with a line and column instead of V8's character offset and source excerpt:
 * 'Unexpected token 'x', "{"a": x}" is not valid JSON' → "Unexpected token 'x' at line 1, column 7".
 */
function jsonSyntaxError(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const reason = message.replace(/ (?:in JSON )?at position \d+.*$|, .*is not valid JSON$/s, '');
  const offset = jsonErrorOffset(message, text);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `${reason} at line ${line}, column ${column}`;
}

/** Where JSON.parse gave up, as an offset into `text`. */
function jsonErrorOffset(message: string, text: string): number {
  const stated = /at position (\d+)/.exec(message);
  if (stated) return Number(stated[1]);
  if (message.includes('end of JSON input')) return text.length;
  // V8 gives no position for an unexpected token (a comment, an unquoted word). Find the shortest
  // prefix that fails for a reason other than running out of input: it ends with that token.
  let viable = 0;
  let failing = text.length;
  while (failing - viable > 1) {
    const middle = (viable + failing) >> 1;
    if (failsBeforeEnd(text.slice(0, middle))) failing = middle;
    else viable = middle;
  }
  return failing - 1;
}

function failsBeforeEnd(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return false;
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    const stated = /at position (\d+)/.exec(message);
    return stated ? Number(stated[1]) < prefix.length : !message.includes('end of JSON input');
  }
}
