/** ISO-8601 UTC with milliseconds, or `null` (CONTRACT §1). */
export function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}

/** The current time truncated to milliseconds (what the database keeps). */
export function now(): Date {
  return new Date(Date.now());
}

/** A datetime as SQLite keeps it: UTC text `YYYY-MM-DD hh:mm:ss.mmm` (MySQL drivers take the Date). */
export function toSqliteTime(at: Date): string {
  return at.toISOString().replace('T', ' ').replace('Z', '');
}

/** A datetime parameter of a raw query: the Date for MySQL drivers, UTC text for SQLite. */
export function toSqlTime(at: Date, mysql: boolean): Date | string {
  return mysql ? at : toSqliteTime(at);
}

/** A datetime column from a raw query: a Date (MySQL drivers) or SQLite's UTC text. */
export function fromSqlTime(value: Date | string): Date {
  return value instanceof Date ? value : new Date(`${value.replace(' ', 'T')}Z`);
}
