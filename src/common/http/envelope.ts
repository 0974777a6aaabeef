/** The contract's success body (CONTRACT §1): HTTP answers and socket acks alike. */
export interface Envelope<T> {
  code: 200;
  message: 'success';
  data: T;
}

export function envelope<T>(data: T): Envelope<T> {
  return { code: 200, message: 'success', data: (data ?? null) as T };
}
