import { TransactionRunner } from '../database/transaction-runner';
import { Message } from './message.entity';
import { MessageWriter, NewMessage } from './message-writer';

/**
 * When the writer starts a batch. Its batches are held open here and finished by hand, under
 * fake timers; that each batch is one transaction, and what a failed batch does, is tested
 * against the real databases in test/message-writer.e2e-spec.ts.
 */
describe('MessageWriter batch scheduling', () => {
  let writer: MessageWriter;
  /** The batches started so far, in order: their messages' contents, and how to finish them. */
  let batches: { contents: string[]; finish: () => void }[];

  beforeEach(() => {
    // The clock and timers are fake; the turns of the event loop are real.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    writer = new MessageWriter({} as TransactionRunner, { url: 'sqlite::memory:' });
    batches = [];
    const held = writer as unknown as { writeBatch: (b: NewMessage[]) => Promise<Message[]> };
    jest.spyOn(held, 'writeBatch').mockImplementation(
      (batch) =>
        new Promise((resolve) =>
          batches.push({
            contents: batch.map((m) => m.content),
            finish: () =>
              resolve(batch.map((m, i) => ({ ...m, id: `${m.content}-${i}` }) as Message)),
          }),
        ),
    );
  });
  afterEach(() => jest.useRealTimers());

  const send = (content: string) =>
    writer.write({
      conversationKey: `p:a:${content}`,
      receiverId: 'b',
      groupId: null,
      type: 'text',
      content,
      senderId: 'a',
      clientMsgId: null,
    });
  /** Moves the clock on, then lets the event loop take a turn (a batch starts on the next one). */
  const advance = async (ms: number) => {
    await jest.advanceTimersByTimeAsync(ms);
    await new Promise((resolve) => setImmediate(resolve));
  };
  const contents = () => batches.map((b) => b.contents);

  it('gathers the messages sent while a batch commits into the next batch, started when it ends', async () => {
    const first = send('m0');
    await advance(0);
    expect(contents()).toEqual([['m0']]);

    const later = [send('m1')];
    await advance(5);
    later.push(send('m2'));
    await advance(14); // 19 ms into the first batch: not slow yet
    expect(contents()).toEqual([['m0']]);

    batches[0].finish();
    await expect(first).resolves.toMatchObject({ content: 'm0' });
    await advance(0);
    expect(contents()).toEqual([['m0'], ['m1', 'm2']]);
    let settled = false;
    void Promise.all(later).then(() => (settled = true));
    await advance(0);
    expect(settled).toBe(false); // each sender is answered only once its own batch commits
    batches[1].finish();
    await expect(Promise.all(later)).resolves.toMatchObject([{ content: 'm1' }, { content: 'm2' }]);
    expect(jest.getTimerCount()).toBe(0); // nothing left armed once the queue is empty
  });

  it('starts a batch beside one that has taken SLOW_BATCH_MS (20 ms)', async () => {
    void send('m0');
    await advance(0);
    const second = send('m1');
    await advance(19);
    expect(contents()).toEqual([['m0']]);
    await advance(1);
    expect(contents()).toEqual([['m0'], ['m1']]);
    batches[1].finish(); // the one beside the slow batch commits on its own
    await expect(second).resolves.toMatchObject({ content: 'm1' });
  });

  it('counts from the newest batch still in flight, not from the last one started', async () => {
    void send('m0'); // stuck on a lock, say
    await advance(0);
    void send('m1');
    await advance(20);
    expect(contents()).toEqual([['m0'], ['m1']]); // beside the slow one
    void send('m2');
    await advance(1);
    expect(batches).toHaveLength(2); // m2 waits for m1's batch, which is not slow
    batches[1].finish();
    await advance(0);
    // Only the slow batch is left in flight: m2 need not wait for 20 ms after m1's start.
    expect(contents()).toEqual([['m0'], ['m1'], ['m2']]);
  });

  it('counts from an older batch again once a newer one beside it has finished', async () => {
    void send('m0');
    await advance(5);
    for (let i = 1; i <= 64; i += 1) void send(`m${i}`); // a full batch goes beside at once
    await advance(1);
    void send('m65'); // waits for the newer batch, which is not slow
    await advance(2);
    expect(contents().map((c) => c.length)).toEqual([1, 64]);
    batches[1].finish(); // 8 ms: now m0's batch is the newest in flight, slow at 20 ms
    await advance(11);
    expect(batches).toHaveLength(2);
    await advance(1);
    expect(contents()).toEqual([['m0'], batches[1].contents, ['m65']]);
  });

  it('starts a full batch (64 rows) beside the one in flight at once', async () => {
    void send('m0');
    await advance(0);
    for (let i = 1; i <= 65; i += 1) void send(`m${i}`);
    await advance(0);
    expect(contents().map((c) => c.length)).toEqual([1, 64]);
    expect(batches[1].contents[0]).toBe('m1');
    await advance(19); // m65 waits: the newest batch in flight is not slow yet
    expect(batches).toHaveLength(2);
    await advance(1);
    expect(contents().map((c) => c.length)).toEqual([1, 64, 1]);
  });

  it('commits at most 3 full batches at once, however many are waiting', async () => {
    for (let i = 0; i < 300; i += 1) void send(`m${i}`);
    await advance(1000);
    expect(contents().map((c) => c.length)).toEqual([64, 64, 64]);
    batches[0].finish();
    await advance(0);
    expect(contents().map((c) => c.length)).toEqual([64, 64, 64, 64]);
  });

  it('commits at most 3 batches at once, however slow they are', async () => {
    for (let i = 0; i < 4; i += 1) {
      void send(`m${i}`);
      await advance(20);
    }
    await advance(1000);
    expect(contents()).toEqual([['m0'], ['m1'], ['m2']]);
    batches[1].finish();
    await advance(0);
    expect(contents()).toEqual([['m0'], ['m1'], ['m2'], ['m3']]);
  });
});
