/** The versioned objects: one typed path to every record. */
export { compareVersions, type FieldKind, type FieldSpec, loadObject, type ObjectClass, type ObjectPrimitive, parseVersion, VersionedObject } from './base.js';
export { type CellContext, ComputeNode, type ComputeNodeFields } from './compute-node.js';
export { type GroupContext, type GroupHome, InstanceGroup, type InstanceGroupFields, InstanceGroupList } from './instance-group.js';
export { CellMapping, HostMapping, InstanceMapping } from './mappings.js';
export { Service } from './service.js';
// Their errors live in the one table of errors (src/errors.ts); re-exported for the objects' users.
export { GroupStillInCellError, ObjectError } from '../errors.js';

import { ComputeNode } from './compute-node.js';
import { InstanceGroup } from './instance-group.js';
import { CellMapping, HostMapping, InstanceMapping } from './mappings.js';
import { Service } from './service.js';

/** Every object class, for the fingerprint test and serialisers. */
export const OBJECT_CLASSES = [CellMapping, HostMapping, InstanceMapping, Service, ComputeNode, InstanceGroup] as const;
