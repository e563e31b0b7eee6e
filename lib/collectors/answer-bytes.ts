// What one request may read of collector answers that are parsed whole (not streamed through): the
// answers of all its collector requests together, so that neither one huge answer nor many parallel
// ones can take the router's memory (parsed JSON takes about ten times its size).
import { ApiError } from '../errors.ts';

export class AnswerBytes {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Counts a chunk as read; false once the request is past its limit. */
  take(bytes: number): boolean {
    this.used += bytes;
    return this.used <= this.limit;
  }

  /** The error for the shard whose answer went past the limit: about the query, not the shard (422). */
  exceeded(shard: string): ApiError {
    return new ApiError('execution', `shard ${JSON.stringify(shard)}: query processing would load more than ${this.limit} bytes of collector answers into memory: narrow the time range, raise the step or select fewer series`);
  }
}
