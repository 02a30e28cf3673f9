// The movers' batch transaction (issue 12: fewer round trips per batch): READ COMMITTED with the
// batch's lock and statement timeouts on both dialects, whatever the session's default isolation;
// on PostgreSQL a redoable one (the cell side of a batch) commits without waiting for the WAL
// flush, and any other one waits as the server is set to.
import test from 'ava';
import { QueryTypes } from 'sequelize';
import { ConnectionRegistry } from '../src/db/registry.js';
import { batchTransaction } from '../src/movers/sql.js';
import { eachDialect, useDatabase } from './helpers/databases.js';

const timeouts = { lockWaitMs: 3000, statementTimeoutMs: 45_000 };

eachDialect(test, 'a batch transaction is READ COMMITTED with the batch timeouts; only a redoable one skips the WAL flush (PostgreSQL)', async (t, dialect) => {
  const url = await useDatabase(t, dialect, 'btx');
  const registry = new ConnectionRegistry({ max: 1 });
  t.teardown(() => registry.close());
  const db = await registry.connect(url);
  const one = async <R extends object>(sql: string, transaction: unknown) => (await db.sequelize.query<R>(sql, { type: QueryTypes.SELECT, transaction: transaction as never }))[0] as R;
  if (dialect === 'postgres') {
    // Another default must not leak into the batch.
    await db.sequelize.query("SET SESSION default_transaction_isolation = 'serializable'");
    for (const redoable of [false, true]) {
      const seen = await batchTransaction(db, timeouts, (tx) => one<Record<string, string>>("SELECT current_setting('transaction_isolation') AS iso, current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS stmt, current_setting('synchronous_commit') AS sync", tx), { redoable });
      t.deepEqual(seen, { iso: 'read committed', lock: '3s', stmt: '45s', sync: redoable ? 'off' : 'on' }, `redoable ${String(redoable)}`);
    }
    const after = await one<{ sync: string; lock: string }>("SELECT current_setting('synchronous_commit') AS sync, current_setting('lock_timeout') AS lock", undefined);
    t.deepEqual(after, { sync: 'on', lock: '0' }, 'SET LOCAL: nothing outlives the transaction');
  } else {
    await db.sequelize.query('SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE');
    await db.sequelize.query('CREATE TABLE probe (id INT PRIMARY KEY) ENGINE=InnoDB');
    // The transaction's own level (Sequelize sets it for the next transaction only): InnoDB's view once it has read a table.
    const seen = await batchTransaction(
      db,
      timeouts,
      async (tx) => {
        await one('SELECT COUNT(*) AS n FROM probe', tx);
        return one<Record<string, string | number>>('SELECT trx_isolation_level AS iso, @@innodb_lock_wait_timeout AS lockwait FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id = CONNECTION_ID()', tx);
      },
      { redoable: true },
    );
    t.deepEqual({ iso: seen.iso, lockwait: Number(seen.lockwait) }, { iso: 'READ COMMITTED', lockwait: 3 });
  }
});
