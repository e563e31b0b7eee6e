// Calendar fields of a Unix time exactly as Prometheus 2.42 computes them: `time.Unix(int64(v), 0).UTC()`
// and Go 1.19's time package. Go works on an unsigned 64-bit "absolute" second count and lets it wrap,
// so NaN, ±Inf and huge values give deterministic (if meaningless) dates, e.g. year(vector(NaN)) is
// 292277026596. JS Dates cannot represent those, so this redoes Go's arithmetic on BigInts modulo 2^64.

import { goInt64 } from '../go/math.ts';

const U64 = 1n << 64n;
const SECONDS_PER_DAY = 86400n;
const DAYS_PER_400_YEARS = 365n * 400n + 97n;
const DAYS_PER_100_YEARS = 365n * 100n + 24n;
const DAYS_PER_4_YEARS = 365n * 4n + 1n;
/** Go's absoluteZeroYear: the absolute clock starts in the year -292277022399. */
const ABSOLUTE_ZERO_YEAR = -292277022399n;
/**
 * Go's unixToInternal + internalToAbsolute: Unix seconds → absolute seconds (mod 2^64). The internal
 * epoch is January 1 of year 1, 62135596800 s before Unix's; the absolute one 292277022400 years
 * (a whole number of 400-year cycles of 365.2425 days) before that.
 */
const UNIX_TO_ABSOLUTE = 62135596800n + 292277022400n * 3652425n * SECONDS_PER_DAY / 10000n;
/** Days before each month in a non-leap year (Go's daysBefore). */
const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365].map(BigInt);

const wrapU64 = (x: bigint): bigint => ((x % U64) + U64) % U64;
const asInt64 = (x: bigint): bigint => (x >= 1n << 63n ? x - U64 : x);

function isLeap(year: bigint): boolean {
  // Go's % truncates like BigInt's.
  return year % 4n === 0n && (year % 100n !== 0n || year % 400n === 0n);
}

interface CivilDate { year: bigint; month: number; day: number; yday: number }

/** Go's absDate: the date of an absolute second count. */
function absDate(abs: bigint): CivilDate {
  let d = abs / SECONDS_PER_DAY;
  let n = d / DAYS_PER_400_YEARS;
  let y = 400n * n;
  d -= DAYS_PER_400_YEARS * n;
  // The last 100-year cycle of a 400-year cycle has one day more; cut its count back down to 3.
  n = d / DAYS_PER_100_YEARS;
  n -= n >> 2n;
  y += 100n * n;
  d -= DAYS_PER_100_YEARS * n;
  n = d / DAYS_PER_4_YEARS;
  y += 4n * n;
  d -= DAYS_PER_4_YEARS * n;
  // Same for the last (leap) year of a 4-year cycle.
  n = d / 365n;
  n -= n >> 2n;
  y += n;
  d -= 365n * n;

  const year = asInt64(y) + ABSOLUTE_ZERO_YEAR;
  const yday = Number(d);
  let day = yday;
  if (isLeap(year)) {
    if (day > 31 + 29 - 1) day--;
    else if (day === 31 + 29 - 1) return { year, month: 2, day: 29, yday };
  }
  let month = Math.trunc(day / 31);
  const end = Number(DAYS_BEFORE[month + 1]!);
  let begin: number;
  if (day >= end) {
    month++;
    begin = end;
  } else {
    begin = Number(DAYS_BEFORE[month]!);
  }
  return { year, month: month + 1, day: day - begin + 1, yday };
}

/** Go's daysSinceEpoch: days from the absolute epoch to January 1 of `year` (mod 2^64). */
function daysSinceEpoch(year: bigint): bigint {
  let y = wrapU64(year - ABSOLUTE_ZERO_YEAR);
  let n = y / 400n;
  y -= 400n * n;
  let d = DAYS_PER_400_YEARS * n;
  n = y / 100n;
  y -= 100n * n;
  d += DAYS_PER_100_YEARS * n;
  n = y / 4n;
  y -= 4n * n;
  d += DAYS_PER_4_YEARS * n;
  d += 365n * y;
  return wrapU64(d);
}

/** The calendar of one instant (Go's time.Time in UTC), from Unix seconds. */
export class GoTime {
  private readonly abs: bigint;
  private civil?: CivilDate;

  private constructor(unixSeconds: bigint) {
    this.abs = wrapU64(unixSeconds + UNIX_TO_ABSOLUTE);
  }

  /** `time.Unix(int64(v), 0).UTC()` for a sample value v (seconds). */
  static fromValue(v: number): GoTime {
    return new GoTime(goInt64(v));
  }

  /** `time.Unix(ts/1000, 0).UTC()` for an evaluation timestamp in milliseconds. */
  static fromMillis(ms: number): GoTime {
    return new GoTime(BigInt(Math.trunc(ms / 1000)));
  }

  private date(): CivilDate {
    return (this.civil ??= absDate(this.abs));
  }

  year(): number {
    return Number(this.date().year);
  }

  month(): number {
    return this.date().month;
  }

  dayOfMonth(): number {
    return this.date().day;
  }

  dayOfYear(): number {
    return this.date().yday + 1;
  }

  /** 0 = Sunday. The absolute epoch (January 1 of year -292277022399) was a Monday. */
  dayOfWeek(): number {
    return Number(((this.abs + SECONDS_PER_DAY) % U64) % (7n * SECONDS_PER_DAY) / SECONDS_PER_DAY);
  }

  hour(): number {
    return Number((this.abs % SECONDS_PER_DAY) / 3600n);
  }

  minute(): number {
    return Number((this.abs % 3600n) / 60n);
  }

  /**
   * Prometheus's `32 - time.Date(year, month, 32, 0, 0, 0, 0, UTC).Day()`: day 32 normalises into the
   * next month, and how far it lands tells the month's length (with Go's wrap-around for odd years).
   */
  daysInMonth(): number {
    const { year, month } = this.date();
    let d = daysSinceEpoch(year) + DAYS_BEFORE[month - 1]!;
    if (isLeap(year) && month >= 3) d++;
    d += 31n;
    return 32 - absDate(wrapU64(d * SECONDS_PER_DAY)).day;
  }
}
