import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import type { AppConfig } from '../src/config/app.config';
import { ACK_WAIT_MS, InvalidationBus } from '../src/redis/invalidation-bus';
import { settle } from './support/sockets';
import { TcpProxy } from './support/tcp-proxy';

/**
 * The cache invalidation bus of several instances on a real Redis: what one instance publishes
 * has been applied by the others when `publish` resolves. Runs with `npm run test:e2e:cluster`.
 */
const redisUrl = process.env.E2E_REDIS_URL;
const describeRedis = redisUrl ? describe : describe.skip;

describeRedis('Cache invalidation across instances on Redis (e2e)', () => {
  const closers: (() => unknown)[] = [];
  let slowLink: TcpProxy;

  beforeAll(async () => {
    const url = new URL(redisUrl!);
    slowLink = await new TcpProxy(url.hostname, Number(url.port || 6379)).start();
    slowLink.latencyMs = 150;
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  afterAll(() => slowLink.stop());

  const redis = (url = redisUrl!) => {
    const client = new Redis(url, { lazyConnect: false });
    closers.push(() => client.disconnect());
    return client;
  };

  /** An instance's bus; its subscription may go through another address than its commands. */
  const instance = async (subscribeVia = redisUrl!) => {
    const bus = new InvalidationBus(redis(), { redisUrl: subscribeVia } as AppConfig);
    closers.push(() => bus.onApplicationShutdown());
    const seen: string[] = [];
    bus.on('auth.user', (key) => seen.push(key));
    // What it says when others fail to confirm in time.
    const warned = jest.spyOn((bus as unknown as { logger: Logger }).logger, 'warn');
    for (let i = 0; i < 100 && !bus.live; i++) await settle(20);
    expect(bus.live).toBe(true);
    return { bus, seen, warned };
  };

  const slowUrl = () => {
    const url = new URL(redisUrl!);
    url.host = `127.0.0.1:${slowLink.port}`;
    return url.toString();
  };

  it('resolves a publish only once the other instances have applied it, however slow their link', async () => {
    const a = await instance();
    const b = await instance(slowUrl());
    const c = await instance();
    await a.bus.publish('auth.user', 'user-1');
    expect(a.seen).toEqual(['user-1']);
    expect(b.seen).toEqual(['user-1']);
    expect(c.seen).toEqual(['user-1']);
    // And the other way round: the slow instance waits for the fast ones, and itself.
    await b.bus.publish('auth.user', 'user-2');
    expect([a.seen, b.seen, c.seen]).toEqual([
      ['user-1', 'user-2'],
      ['user-1', 'user-2'],
      ['user-1', 'user-2'],
    ]);
    // Confirmed, not timed out.
    expect(a.warned).not.toHaveBeenCalled();
    expect(b.warned).not.toHaveBeenCalled();
  });

  it('does not wait for pattern subscribers (e.g. a monitoring client), which never confirm', async () => {
    const a = await instance();
    const b = await instance();
    const monitor = redis();
    const heard: string[] = [];
    monitor.on('pmessage', (_pattern: string, channel: string) => heard.push(channel));
    await monitor.psubscribe('im:*');
    await a.bus.publish('auth.user', 'user-4');
    expect(b.seen).toEqual(['user-4']);
    expect(a.warned).not.toHaveBeenCalled();
    expect(heard).toContain('im:invalidate');
    await monitor.punsubscribe('im:*');
  });

  it('stops waiting for a subscriber that never confirms, and the others still apply the change', async () => {
    const a = await instance();
    const b = await instance();
    const mute = redis();
    const heard: string[] = [];
    mute.on('message', (_channel: string, raw: string) => heard.push(raw));
    await mute.subscribe('im:invalidate');
    const started = Date.now();
    await a.bus.publish('auth.user', 'user-3');
    expect(Date.now() - started).toBeGreaterThanOrEqual(ACK_WAIT_MS - 5);
    expect(a.warned).toHaveBeenCalledWith(expect.stringContaining('1 of 3 subscribers'));
    expect(b.seen).toEqual(['user-3']);
    expect(heard).toHaveLength(1);
    await mute.unsubscribe('im:invalidate');
  });
});
