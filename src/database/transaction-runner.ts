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

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serial) return this.dataSource.transaction(work);
    const result = this.tail.then(() => this.dataSource.transaction(work));
    this.tail = result.catch(() => undefined);
    return result;
  }
}
