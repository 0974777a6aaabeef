import { idFloor, idTime, nextMessageId } from './message-id';

describe('message ids', () => {
  it('are UUIDv7 strings that sort by time', () => {
    const a = nextMessageId('');
    const b = nextMessageId(a);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b > a).toBe(true);
    expect(Math.abs(idTime(a) - Date.now())).toBeLessThan(1000);
  });

  it('stay above the conversation newest id even when the clock is behind it', () => {
    const future = nextMessageId('').replace(/^[0-9a-f]{8}/, 'ffffffff');
    const next = nextMessageId(future);
    expect(next > future).toBe(true);
    expect(idTime(next)).toBe(idTime(future) + 1);
  });

  it('floor a millisecond below every id taken in it', () => {
    const at = new Date();
    const id = nextMessageId('');
    expect(idFloor(at) <= id).toBe(true);
    expect(idFloor(new Date(at.getTime() + 10_000)) > id).toBe(true);
  });
});
