import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DataSource, EntityManager, QueryRunner } from 'typeorm';

/**
 * Runs a unit of work in a transaction. On MySQL/MariaDB each transaction has its own pooled
 * connection, and deadlock victims are retried. SQLite has a single connection: there
 * transactions run one at a time, and any other statement waits until the open transaction
 * has ended — otherwise it would become part of it (and be rolled back with it).
 */
@Injectable()
export class TransactionRunner {
  private readonly serial: boolean;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly inTransaction = new AsyncLocalStorage<boolean>();
  private open: Promise<unknown> | null = null;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.serial = dataSource.options.type === 'better-sqlite3';
    if (this.serial) this.fenceSingleConnection(dataSource.driver.createQueryRunner('master'));
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
    if (!this.serial) return retryingLockConflicts(() => this.dataSource.transaction(work));
    const result = this.tail.then(() => {
      const running = this.inTransaction.run(true, () => this.dataSource.transaction(work));
      this.open = running;
      return running.finally(() => {
        if (this.open === running) this.open = null;
      });
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Statements from outside the open transaction wait for it to end. */
  private fenceSingleConnection(runner: QueryRunner): void {
    const query = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
    (runner as { query: unknown }).query = async (...args: unknown[]) => {
      while (this.open && !this.inTransaction.getStore()) await this.open.catch(() => undefined);
      return query(...args);
    };
  }
}

/**
 * Runs a MySQL/MariaDB transaction, again (a few times, after a short random pause) when the
 * server picked it as a deadlock victim or timed out one of its lock waits, as the server
 * expects clients to.
 */
export async function retryingLockConflicts<T>(attempt: () => Promise<T>, tries = 4): Promise<T> {
  for (let i = 1; ; i += 1) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= tries || !isRetryable(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 * i + Math.random() * 10));
    }
  }
}

function isRetryable(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
}
