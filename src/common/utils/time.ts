/** ISO-8601 UTC with milliseconds, or `null` (CONTRACT §1). */
export function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}

/** The current time truncated to milliseconds (what the database keeps). */
export function now(): Date {
  return new Date(Date.now());
}
