import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ComputeNode, cellLabel, createCell, type FanOutOptions, listCells, mapCell0, displayUrl, MoverExit, seedLegacyCell, syncCells, syncLine, targetCell } from '../../index.js';
import type { LeafCommand } from '../command.js';
import type { GlobalArgs, Runtime } from '../runtime.js';
import { printCellSync } from './db.js';
import { lineFor, reportEvents } from './line-commands.js';
import { runMovers } from './online-data-migrations.js';

const step = (rt: Runtime, text: string) => rt.output.line(`\n== ${text}`);

/**
 * `cellsdb demo`: a whole upgrade on an embedded PostgreSQL, from nothing. An "old" cloud (API
 * database, cell0 and two cells at the expand step, with legacy instance groups and compute nodes
 * that know their service only by id, one of them an orphan) is upgraded the way a runbook does it:
 * sync stops at the blocker, the movers run, the blocked node is resolved, the movers finish, and
 * the sync reaches head. The same databases serve `--embedded` afterwards.
 */
export function demoCommand(rt: Runtime) {
  return {
    command: 'demo',
    describe: 'Run a demo upgrade on an embedded PostgreSQL (no server needed)',
    run: async () => {
      const config = await rt.config();
      rt.output.notice('starting the embedded PostgreSQL …');
      const server = await rt.embeddedServer();
      const apiUrl = await server.ensureDatabase('cellsdb_api', { fresh: true });
      const cell0Url = await server.ensureDatabase('cellsdb_cell_cell0', { fresh: true });
      const cell1Url = await server.ensureDatabase('cellsdb_cell', { fresh: true });
      const cell2Url = await server.ensureDatabase('cellsdb_cell2', { fresh: true });
      const fanOut: FanOutOptions = {
        registry: rt.registry,
        line: lineFor('cell', config),
        config,
        concurrency: config.concurrency,
        onEvent: (cell, event) => reportEvents(rt.output, `cell '${cellLabel(cell)}'`)(event),
      };

      step(rt, '1. The API database: sync');
      const api = await syncLine({ registry: rt.registry, url: apiUrl, line: lineFor('api', config), label: 'API database', config, onEvent: reportEvents(rt.output, 'API database') });
      rt.output.line(`API database: ${api.from ?? 'empty'} → ${api.to}`);

      step(rt, '2. Map cell0 and two cells');
      const apiDb = await rt.registry.connect(apiUrl);
      await mapCell0(apiDb, cell0Url.raw);
      await createCell(apiDb, { name: 'cell1', transportUrl: 'rabbit://nova:demo-secret@127.0.0.1:5672/cell1', databaseConnection: cell1Url.raw });
      await createCell(apiDb, { name: 'cell2', transportUrl: 'rabbit://nova:demo-secret@127.0.0.1:5672/cell2', databaseConnection: cell2Url.raw });
      const cells = await listCells(apiDb);
      rt.output.table(['Name', 'UUID', 'Transport URL', 'Database Connection'], cells.map((c) => [c.name ?? '', c.uuid, displayUrl(c.transportUrl), displayUrl(c.databaseConnection)]));

      step(rt, '3. The cells as an old cloud has them: schema at the expand step (db sync 3), legacy data');
      printCellSync(rt, await syncCells(cells, fanOut, '3'));
      const seeded = [cell1Url, cell2Url];
      for (const [i, cell] of cells.filter((c) => c.name === 'cell1' || c.name === 'cell2').entries()) {
        await seedLegacyCell(targetCell(rt.registry, cell), { groups: 2000, policiesPerGroup: 1, membersPerGroup: 5, computeNodes: 500, orphanNodes: i === 1 ? 1 : 0, hostPrefix: `${cell.name}-compute` });
      }
      rt.output.line(`seeded ${seeded.length} cells: 2000 instance groups (1 policy, 5 members each) and 500 compute nodes with only service_id each; one orphan node in cell2`);

      step(rt, '4. db sync: the blocker stops it until the movers are done');
      const blockedSync = await syncCells(cells, fanOut);
      printCellSync(rt, blockedSync);

      step(rt, '5. db online_data_migrations');
      mkdirSync(config.home, { recursive: true });
      const logFile = join(config.home, 'demo-movers.log');
      rt.output.line(`(one line per batch in ${logFile})`);
      const first = await runMovers(rt, { apiDb, cells, batchSize: 500, logFormat: 'text', logFile });
      // SIGINT/SIGTERM: runMovers said what was done; the demo stops there (main exits 130/143).
      if (rt.interrupted) return;

      step(rt, '6. The operator resolves the blocked node (the orphan is a decommissioned host: soft-delete it)');
      const serviceGroup = await rt.serviceGroup();
      for (const blocked of first.blocked) {
        const cell = cells.find((c) => cellLabel(c) === blocked.cell);
        if (!cell || blocked.mover !== 'migrate_compute_node_host') continue;
        const ctx = { cell, db: targetCell(rt.registry, cell), serviceGroup };
        const node = await ComputeNode.getById(ctx, blocked.id);
        await node?.destroy(ctx);
        rt.output.line(`soft-deleted compute node ${blocked.id} (${node?.get('hypervisor_hostname') ?? '?'}) in ${blocked.cell}`);
      }
      const second = await runMovers(rt, { apiDb, cells, batchSize: 500, logFormat: 'text', logFile });
      if (rt.interrupted) return;

      step(rt, '7. db sync: past the blocker, the legacy tables dropped, every cell at head');
      const final = await syncCells(cells, fanOut);
      printCellSync(rt, final);
      if (final.some((o) => !o.ok) || second.exitCode !== MoverExit.done) {
        throw new Error('demo: the upgrade did not finish');
      }
      rt.output.line('\nDemo upgrade done. Look around with: cellsdb --embedded cell_v2 list_cells, cellsdb --embedded db version');
    },
  } satisfies LeafCommand<GlobalArgs>;
}
