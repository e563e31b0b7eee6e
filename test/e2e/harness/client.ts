// Minimal Prometheus HTTP API client for the tests (instant and range queries, raw JSON back).

export interface PromResponse<T = unknown> {
  status: 'success' | 'error';
  data?: { resultType: 'matrix' | 'vector' | 'scalar' | 'string'; result: T };
  errorType?: string;
  error?: string;
  warnings?: string[];
}

export interface VectorSample { metric: Record<string, string>; value: [number, string] }
export interface MatrixSeries { metric: Record<string, string>; values: [number, string][] }

async function call<T>(url: string, params: Record<string, string>): Promise<PromResponse<T>> {
  // POST with a form body, like Grafana does: long dashboard expressions stay out of the URL.
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  const text = await res.text();
  try {
    return JSON.parse(text) as PromResponse<T>;
  } catch {
    return { status: 'error', errorType: `http ${res.status}`, error: text.slice(0, 500) };
  }
}

export function queryInstant<T = unknown>(baseUrl: string, query: string, time: number): Promise<PromResponse<T>> {
  return call<T>(`${baseUrl}/api/v1/query`, { query, time: String(time) });
}

export function queryRange<T = unknown>(baseUrl: string, query: string, range: { start: number; end: number; step: number }): Promise<PromResponse<T>> {
  return call<T>(`${baseUrl}/api/v1/query_range`, {
    query, start: String(range.start), end: String(range.end), step: String(range.step),
  });
}

/** Whether a successful response carries any data (scalars and strings always do). */
export function hasData(r: PromResponse): boolean {
  if (r.status !== 'success' || !r.data) return false;
  const { resultType, result } = r.data;
  return resultType === 'scalar' || resultType === 'string' || (Array.isArray(result) && result.length > 0);
}
