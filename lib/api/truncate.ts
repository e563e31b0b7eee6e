// Truncating merged lists to the request's `limit` parameter (request bounds are limits.ts).
import { ApiError } from '../errors.ts';

/**
 * The `limit` parameter of the metadata-style endpoints: applied after merging shards, with the
 * warning Prometheus gives when it truncates.
 */
export function applyLimit<T>(params: URLSearchParams, items: T[]): { items: T[]; warnings: string[] } {
  const raw = params.get('limit');
  if (raw === null || raw === '') return { items, warnings: [] };
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 0) {
    throw new ApiError('bad_data', `invalid parameter "limit": cannot parse "${raw}" to a valid limit`);
  }
  if (limit === 0 || items.length <= limit) return { items, warnings: [] };
  return { items: items.slice(0, limit), warnings: ['results truncated due to limit'] };
}
