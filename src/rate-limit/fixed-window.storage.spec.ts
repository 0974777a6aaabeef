import { FixedWindowStorage } from './fixed-window.storage';

describe('FixedWindowStorage', () => {
  let storage: FixedWindowStorage;
  const T0 = 1_000_000;

  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
    storage = new FixedWindowStorage();
  });
  afterEach(() => {
    storage.close();
    jest.useRealTimers();
  });

  const hit = (key = 'k', limit = 3) => storage.increment(key, 60_000, limit, 30_000, 'messages');

  it('counts hits within a window, up to the limit', async () => {
    for (let i = 1; i <= 3; i += 1) {
      await expect(hit()).resolves.toEqual({
        totalHits: i,
        timeToExpire: 60,
        isBlocked: false,
        timeToBlockExpire: 0,
      });
    }
  });

  it('blocks the key for blockDuration once past the limit, and says for how long', async () => {
    for (let i = 0; i < 3; i += 1) await hit();
    await expect(hit()).resolves.toMatchObject({ totalHits: 4, isBlocked: true });
    jest.setSystemTime(T0 + 10_000);
    await expect(hit()).resolves.toMatchObject({ isBlocked: true, timeToBlockExpire: 20 });
  });

  it('blocks again a key still over the limit when its block ends (as the Redis script does)', async () => {
    for (let i = 0; i < 4; i += 1) await hit(); // blocked at T0 until T0 + 30 s
    jest.setSystemTime(T0 + 20_000);
    await hit(); // counted while blocked
    jest.setSystemTime(T0 + 30_001);
    await expect(hit()).resolves.toMatchObject({
      totalHits: 6,
      isBlocked: true,
      timeToBlockExpire: 30,
    });
  });

  it('lets a key through again once its block and window are over', async () => {
    for (let i = 0; i < 4; i += 1) await hit();
    jest.setSystemTime(T0 + 60_000);
    await expect(hit()).resolves.toEqual({
      totalHits: 1,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('starts a fresh window when the window is over', async () => {
    for (let i = 0; i < 3; i += 1) await hit();
    jest.setSystemTime(T0 + 60_000);
    await expect(hit()).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('keeps keys and throttler names apart', async () => {
    for (let i = 0; i < 4; i += 1) await hit('a');
    await expect(hit('b')).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
    await expect(storage.increment('a', 60_000, 3, 30_000, 'login')).resolves.toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  });

  it('costs the same per hit however many hits the window holds', async () => {
    // One counter per key: a hundred thousand hits leave one entry, not a list of expiries.
    for (let i = 0; i < 100_000; i += 1) await hit('busy', 1_000_000);
    await expect(hit('busy', 1_000_000)).resolves.toMatchObject({ totalHits: 100_001 });
    expect(storage.size).toBe(1);
  });

  it('drops counters whose window and block are over', async () => {
    await hit('short');
    for (let i = 0; i < 4; i += 1) await hit('blocked');
    jest.setSystemTime(T0 + 60_000);
    storage.sweep();
    expect(storage.size).toBe(0);
  });
});
