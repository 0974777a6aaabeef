import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/**
 * Runs a unit of work in a transaction. On MySQL/MariaDB each transaction has its own pooled
 * connection. SQLite has one connection, on which TypeORM would nest a concurrent transaction
 * into the open one; there transactions are queued and run one at a time.
 */
@Injectable()
export class TransactionRunner {
  private readonly serial: boolean;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.serial = dataSource.options.type === 'better-sqlite3';
  }

  /** Whether `SELECT … FOR UPDATE` row locks exist (not on SQLite, where transactions queue). */
  get rowLocks(): boolean {
    return !this.serial;
  }

  /**
   * MySQL/MariaDB may pick a transaction as a deadlock victim (or time out a lock wait): the
   * whole unit of work is then retried, a few times, as the server expects.
   */
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serial) return this.withRetry(() => this.dataSource.transaction(work));
    const result = this.tail.then(() => this.dataSource.transaction(work));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async withRetry<T>(attempt: () => Promise<T>, tries = 4): Promise<T> {
    for (let i = 1; ; i += 1) {
      try {
        return await attempt();
      } catch (err) {
        if (i >= tries || !isRetryable(err)) throw err;
        await new Promise((r) => setTimeout(r, 5 * i + Math.random() * 10));
      }
    }
  }
}

function isRetryable(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
}
