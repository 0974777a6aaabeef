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
