/**
 * The online data migrations, in the order the runner calls them (Nova shares the `--max-count`
 * budget across movers in this order). Names are unique.
 */
import type { Mover } from '../src/movers/types.js';
import { backfillComputeNodeHost } from './compute-node-host.js';
import { copyInstanceGroupsToApi } from './instance-groups.js';

export const MOVERS: readonly Mover[] = Object.freeze([copyInstanceGroupsToApi, backfillComputeNodeHost]);
