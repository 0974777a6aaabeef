import { TtlCache } from './ttl-cache';

describe('TtlCache', () => {
  afterEach(() => jest.useRealTimers());

  it('loads once and serves the value until it expires', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const cache = new TtlCache<string>(1000, 10);
    const load = jest.fn().mockResolvedValue('v');
    expect(await cache.getOrLoad('k', load)).toBe('v');
    expect(await cache.getOrLoad('k', load)).toBe('v');
    expect(load).toHaveBeenCalledTimes(1);
    jest.setSystemTime(1_000_000 + 1000);
    expect(cache.get('k')).toBeUndefined();
    expect(await cache.getOrLoad('k', load)).toBe('v');
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('does not cache undefined (refusals are asked again)', async () => {
    const cache = new TtlCache<string>(1000, 10);
    const load = jest.fn().mockResolvedValue(undefined);
    await cache.getOrLoad('k', load);
    await cache.getOrLoad('k', load);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('never stores a value loaded across an invalidation', async () => {
    const cache = new TtlCache<string>(60_000, 10);
    let finish!: (v: string) => void;
    const pending = cache.getOrLoad('k', () => new Promise<string>((r) => (finish = r)));
    cache.delete('k'); // the change committed while the load was reading the old row
    finish('stale');
    expect(await pending).toBe('stale');
    expect(cache.get('k')).toBeUndefined();
  });

  it('invalidates by key, by predicate and wholesale', async () => {
    const cache = new TtlCache<number>(60_000, 10);
    for (const [k, v] of [
      ['g1|a', 1],
      ['g1|b', 2],
      ['g2|a', 3],
    ] as const) {
      await cache.getOrLoad(k, () => Promise.resolve(v));
    }
    cache.delete('g1|a');
    expect(cache.get('g1|a')).toBeUndefined();
    cache.deleteWhere((key) => key.startsWith('g1|'));
    expect(cache.get('g1|b')).toBeUndefined();
    expect(cache.get('g2|a')).toBe(3);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const cache = new TtlCache<number>(60_000, 3);
    for (let i = 0; i < 5; i += 1) await cache.getOrLoad(`k${i}`, () => Promise.resolve(i));
    expect(cache.size).toBe(3);
    expect(cache.get('k0')).toBeUndefined();
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.get('k4')).toBe(4);
  });
});
