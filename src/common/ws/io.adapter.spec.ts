import { EventEmitter } from 'node:events';
import { INestApplicationContext, Logger } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { of } from 'rxjs';
import type { Socket } from 'socket.io';
import { ConfiguredIoAdapter } from './io.adapter';

/** A socket as the bindings see it: listeners, and `emit` recorded apart from them. */
class FakeSocket extends EventEmitter {
  emitted: unknown[][] = [];
  send(event: string, ...args: unknown[]): boolean {
    return super.emit(event, ...args);
  }
  override emit(event: string, ...args: unknown[]): boolean {
    this.emitted.push([event, ...args]);
    return true;
  }
}

function bind(callback: (data: unknown, ack?: unknown) => unknown, manual = false): FakeSocket {
  const adapter = new ConfiguredIoAdapter({} as INestApplicationContext);
  const socket = new FakeSocket();
  const handlers = [
    { message: 'm', callback, isAckHandledManually: manual, methodName: 'm' },
  ] as MessageMappingProperties[];
  adapter.bindMessageHandlers(socket as unknown as Socket, handlers);
  return socket;
}

const settle = () => new Promise((r) => setImmediate(r));

describe('ConfiguredIoAdapter.bindMessageHandlers', () => {
  it('hands the payload to the handler and acks with the value its promise resolves to', async () => {
    const seen: unknown[] = [];
    const socket = bind((data) => {
      seen.push(data);
      return Promise.resolve({ code: 200, data });
    });
    const ack = jest.fn();
    socket.send('m', { a: 1 }, ack);
    await settle();
    expect(seen).toEqual([{ a: 1 }]);
    expect(ack).toHaveBeenCalledWith({ code: 200, data: { a: 1 } });
  });

  it('sends `{event, data}` as an event, and nothing for null or undefined', async () => {
    const results: unknown[] = [{ event: 'pong', data: 7 }, null, undefined];
    const socket = bind(() => Promise.resolve(results.shift()));
    const ack = jest.fn();
    socket.send('m', 1, ack);
    socket.send('m', 2, ack);
    socket.send('m', 3, ack);
    await settle();
    expect(socket.emitted).toEqual([['pong', 7]]);
    expect(ack).not.toHaveBeenCalled();
  });

  it('acks every value of an Observable result, and never when the ack is handled manually', async () => {
    const ack = jest.fn();
    bind(() => Promise.resolve(of('one', 'two'))).send('m', {}, ack);
    await settle();
    expect(ack.mock.calls).toEqual([['one'], ['two']]);

    const manual = jest.fn();
    bind(() => Promise.resolve('x'), true).send('m', {}, manual);
    await settle();
    expect(manual).not.toHaveBeenCalled();
  });

  it('logs a handler that rejects or throws, never leaving it unhandled', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      bind(() => Promise.reject(new Error('boom'))).send('m', {}, jest.fn());
      bind(() => {
        throw new Error('thrown');
      }).send('m', {}, jest.fn());
      await settle();
      await settle();
      for (const message of ['boom', 'thrown']) {
        expect(logged).toHaveBeenCalledWith(
          { err: expect.objectContaining({ message }) },
          'handler of m failed',
        );
      }
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
      logged.mockRestore();
    }
  });
});
