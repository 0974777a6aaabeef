/** The key of the private conversation between two users (order does not matter). */
export function privateKey(a: string, b: string): string {
  return a < b ? `p:${a}:${b}` : `p:${b}:${a}`;
}

export function groupKey(groupId: string): string {
  return `g:${groupId}`;
}
