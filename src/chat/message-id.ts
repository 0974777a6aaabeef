import { v7 as uuidv7 } from 'uuid';

/** The millisecond timestamp of a UUIDv7. */
export function idTime(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

/** The smallest UUIDv7 string of a millisecond: every message sent at or after `at` sorts above it. */
export function idFloor(at: Date): string {
  const hex = at.getTime().toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-0000-000000000000`;
}

/** A fresh UUIDv7, strictly greater than `after` (the conversation's newest id) if given. */
export function nextMessageId(after: string): string {
  const id = uuidv7();
  if (!after || id > after) return id;
  return uuidv7({ msecs: idTime(after) + 1 });
}
