/** The versioned objects: one typed path to every record. */
export { compareVersions, type FieldKind, type FieldSpec, loadObject, type ObjectClass, ObjectError, type ObjectPrimitive, parseVersion, VersionedObject } from './base.js';
export { type CellContext, ComputeNode, type ComputeNodeFields } from './compute-node.js';
export { type GroupContext, type GroupHome, GroupStillInCellError, InstanceGroup, type InstanceGroupFields, InstanceGroupList } from './instance-group.js';
export { CellMapping, HostMapping, InstanceMapping } from './mappings.js';
export { Service } from './service.js';

import { ComputeNode } from './compute-node.js';
import { InstanceGroup } from './instance-group.js';
import { CellMapping, HostMapping, InstanceMapping } from './mappings.js';
import { Service } from './service.js';

/** Every object class, for the fingerprint test and serialisers. */
export const OBJECT_CLASSES = [CellMapping, HostMapping, InstanceMapping, Service, ComputeNode, InstanceGroup] as const;
