// The versioned objects' contract (spec compute-manager-objects; DOMAIN.md §6), without a database:
// the serialised form carries only the set fields and the changes, survives the wire (JSON) for
// every class, backports to older minors (ComputeNode across the host and service_id changes),
// refuses what it cannot load with an error that says why, checks kinds and nullability on set(),
// and a pinned fingerprint per class fails when fields change without a version bump.
import test from 'ava';
import {
  compareVersions,
  ComputeNode,
  type FieldSpec,
  InstanceGroup,
  loadObject,
  type ObjectClass,
  ObjectError,
  type ObjectPrimitive,
  OBJECT_CLASSES,
  parseVersion,
  Service,
  VersionedObject,
} from '../src/objects/index.js';
import type { ServiceState } from '../src/servicegroup/types.js';

/**
 * The fingerprint of every class, pinned. A mismatch means a class's fields (name, kind,
 * nullability, `since`) changed: bump its VERSION (and teach makeCompatible the backport), then
 * pin the new value here. Never update a value without the version bump.
 */
const PINNED_FINGERPRINTS: Readonly<Record<string, string>> = {
  CellMapping: '1.1-bb36e83a81b8aaab',
  HostMapping: '1.0-9e6859830cbd04ff',
  InstanceMapping: '1.0-f25473e078274ec3',
  Service: '1.1-337564d5eb15c8d7',
  ComputeNode: '1.2-040ea78d15c804af',
  InstanceGroup: '1.1-dc1fa5b03f1ceab7',
};

const CLASSES = OBJECT_CLASSES as unknown as readonly ObjectClass[];

const load = (cls: ObjectClass, primitive: ObjectPrimitive): VersionedObject => VersionedObject.fromPrimitive.call(cls, primitive);

/** What a primitive looks like after a trip over the wire. */
const overTheWire = (p: ObjectPrimitive): ObjectPrimitive => JSON.parse(JSON.stringify(p)) as ObjectPrimitive;

const WHEN = new Date('2024-02-29T12:34:56.789Z');

/** A non-null sample value for a field of `kind`, distinct per field so that a swap shows. */
function sample(field: string, spec: FieldSpec, i: number): unknown {
  switch (spec.kind) {
    case 'integer':
      return 100 + i;
    case 'string':
      return `${field}-value-${i}`;
    case 'boolean':
      return i % 2 === 0;
    case 'datetime':
      return new Date(WHEN.getTime() + i * 1000);
    case 'string-list':
      return [`${field}-a`, `${field}-b`];
    case 'nullable-string-list':
      return [`${field}-a`, null, `${field}-b`];
  }
}

/** An object of `cls` with every field set (to a sample value, or null where `nulls` and nullable). */
function fullObject(cls: ObjectClass, nulls = false): VersionedObject {
  const obj = new cls();
  Object.entries(cls.fields).forEach(([field, spec], i) => obj.set(field, nulls && spec.nullable ? null : sample(field, spec, i)));
  return obj;
}

/** Field values comparable with deepEqual (dates as ISO strings). */
function values(obj: VersionedObject, cls: ObjectClass): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of Object.keys(cls.fields)) {
    if (!obj.has(field)) continue;
    const v = obj.get(field);
    out[field] = v instanceof Date ? `date:${v.toISOString()}` : v;
  }
  return out;
}

for (const cls of CLASSES) {
  test(`${cls.objName}: every field survives toPrimitive → JSON → fromPrimitive, with its kind`, (t) => {
    for (const nulls of [false, true]) {
      const original = fullObject(cls, nulls);
      const primitive = overTheWire(original.toPrimitive());
      t.is(primitive.name, cls.objName);
      t.is(primitive.namespace, 'cellsdb');
      t.is(primitive.version, cls.VERSION);
      t.deepEqual(Object.keys(primitive.data).sort(), Object.keys(cls.fields).sort());
      const copy = load(cls, primitive);
      t.true(copy instanceof cls);
      t.deepEqual(values(copy, cls), values(original, cls), nulls ? 'with nullable fields null' : 'with every field set');
      for (const [field, spec] of Object.entries(cls.fields)) {
        const v = copy.get(field);
        if (v === null) continue;
        if (spec.kind === 'datetime') t.true(v instanceof Date, `${cls.objName}.${field} comes back as a Date`);
        if (spec.kind === 'string-list') t.true(Array.isArray(v), `${cls.objName}.${field} comes back as a list`);
      }
      t.deepEqual(copy.toPrimitive(), primitive, 'a second trip gives the same primitive');
    }
  });

  test(`${cls.objName}: the primitive holds only the set fields, and carries the changes`, (t) => {
    const [first, second] = Object.entries(cls.fields);
    if (!first || !second) throw new Error(`${cls.objName} has fewer than two fields`);
    const partial = new cls();
    partial.set(first[0], sample(first[0], first[1], 0));
    partial.set(second[0], sample(second[0], second[1], 1));
    const primitive = overTheWire(partial.toPrimitive());
    t.deepEqual(Object.keys(primitive.data).sort(), [first[0], second[0]].sort(), 'unset fields are absent, not null');
    t.deepEqual([...primitive.changes].sort(), [first[0], second[0]].sort());
    const copy = load(cls, primitive);
    for (const field of Object.keys(cls.fields)) t.is(copy.has(field), field === first[0] || field === second[0], `${field} set only if sent`);
    t.throws(() => copy.get(Object.keys(cls.fields).find((f) => f !== first[0] && f !== second[0]) as string), { instanceOf: ObjectError, message: /is not set/ });

    // A loaded object has no changes; one change afterwards is all the primitive reports.
    const loaded = loadObject(cls, Object.fromEntries(Object.entries(cls.fields).map(([f, s], i) => [f, sample(f, s, i)])));
    t.deepEqual(loaded.changes(), []);
    t.deepEqual(loaded.toPrimitive().changes, []);
    loaded.set(second[0], sample(second[0], second[1], 7));
    const changed = overTheWire(loaded.toPrimitive());
    t.deepEqual(changed.changes, [second[0]]);
    t.deepEqual(load(cls, changed).changes(), [second[0]], 'the receiver knows what changed');
  });

  test(`${cls.objName}: backports to each older minor drop exactly the fields added after it`, (t) => {
    const [major, minor] = parseVersion(cls.VERSION);
    const obj = fullObject(cls);
    for (let m = 0; m <= minor; m++) {
      const target = `${major}.${m}`;
      const primitive = obj.toPrimitive(target);
      t.is(primitive.version, target);
      const expected = Object.entries(cls.fields)
        .filter(([, spec]) => compareVersions(spec.since ?? '1.0', target) <= 0)
        .map(([f]) => f)
        .sort();
      t.deepEqual(Object.keys(primitive.data).sort(), expected, `fields at ${target}`);
      t.true(
        primitive.changes.every((c) => c in primitive.data),
        `changes at ${target} name only fields that are sent`,
      );
      t.true(load(cls, overTheWire(primitive)) instanceof cls, `this code loads its own ${target} primitive`);
    }
  });
}

test('every class has a pinned fingerprint, and it matches (a field change needs a version bump)', (t) => {
  t.deepEqual(
    CLASSES.map((c) => c.objName).sort(),
    Object.keys(PINNED_FINGERPRINTS).sort(),
    'a class was added or removed: pin its fingerprint here',
  );
  for (const cls of CLASSES) {
    const actual = VersionedObject.fingerprint.call(cls);
    t.is<string | undefined, string | undefined>(
      actual,
      PINNED_FINGERPRINTS[cls.objName],
      `${cls.objName}'s fields changed (fingerprint ${actual}): bump ${cls.objName}.VERSION, backport in makeCompatible, then pin the new fingerprint`,
    );
    t.true(actual.startsWith(`${cls.VERSION}-`), 'the fingerprint names the version');
  }
});

test('the fingerprint changes with the field list, a kind, a nullability, a since and the version — and only with those', (t) => {
  const probe = (fields: Readonly<Record<string, FieldSpec>>, version = ComputeNode.VERSION): string =>
    VersionedObject.fingerprint.call(
      class extends VersionedObject {
        static readonly objName = ComputeNode.objName;
        static readonly VERSION = version;
        static readonly fields = fields;
      },
    );
  const base = ComputeNode.fields as Readonly<Record<string, FieldSpec>>;
  const pinned = PINNED_FINGERPRINTS.ComputeNode as string;
  t.is(probe({ ...base }), pinned, 'the same schema gives the same fingerprint');
  // Declaration order does not matter (the schema is sorted).
  t.is(probe(Object.fromEntries(Object.entries(base).reverse())), pinned);

  const { cpu_info: _dropped, ...withoutCpuInfo } = base;
  const variants: Record<string, string> = {
    'a field added': probe({ ...base, numa_topology: { kind: 'string', nullable: true, since: '1.2' } }),
    'a field removed': probe(withoutCpuInfo),
    'a field renamed': probe({ ...withoutCpuInfo, cpu_information: { kind: 'string', nullable: true } }),
    'a kind changed': probe({ ...base, vcpus: { kind: 'string', nullable: true } }),
    'a nullability changed': probe({ ...base, hypervisor_hostname: { kind: 'string', nullable: false } }),
    'a since changed': probe({ ...base, host: { kind: 'string', nullable: true, since: '1.0' } }),
  };
  for (const [what, fingerprint] of Object.entries(variants)) t.not(fingerprint, pinned, `${what} changes the fingerprint`);
  t.is(new Set(Object.values(variants)).size, Object.keys(variants).length, 'each change gives its own fingerprint');
  // The fix for 'a field added': bump the version (and say since when); the fingerprint shows it.
  const bumped = probe({ ...base, numa_topology: { kind: 'string', nullable: true, since: '1.3' } }, '1.3');
  t.true(bumped.startsWith('1.3-'), 'a bumped version shows in the new fingerprint');
  t.not(probe(base, '1.3'), pinned, 'a version bump alone changes the fingerprint');
});

const legacyState = (id: number, host: string): ServiceState => ({
  id,
  host,
  binary: 'nova-compute',
  topic: 'compute',
  reportCount: 3,
  disabled: false,
  disabledReason: null,
  lastSeenUp: WHEN,
  forcedDown: false,
  version: 0,
  createdAt: WHEN,
  updatedAt: WHEN,
  cell: { uuid: 'cell-uuid', name: 'cell1' },
  up: true,
  lastHeartbeat: WHEN,
});

const NODE = { id: 5, host: 'compute-1', hypervisor_hostname: 'compute-1.example.org', vcpus: 16, vcpus_used: 2 };

test('ComputeNode backports: 1.1 keeps host, 1.0 drops it; service_id below 1.2 comes from the node, else its joined service, else -1', (t) => {
  // Migrated node with no service known: -1, as Nova sends for "no service".
  const migrated = loadObject(ComputeNode, { ...NODE, service_id: null });
  const current = migrated.toPrimitive();
  t.is(current.data.host, 'compute-1');
  t.is(current.data.service_id, null, '1.2 sends the deprecated service_id as it is');
  const v11 = migrated.toPrimitive('1.1');
  t.is(v11.data.host, 'compute-1', '1.1 has host');
  t.is(v11.data.service_id, -1, '1.1 still requires service_id');
  const v10 = migrated.toPrimitive('1.0');
  t.false('host' in v10.data, '1.0 has no host');
  t.is(v10.data.service_id, -1);
  t.deepEqual(Object.keys(v10.data).sort(), ['hypervisor_hostname', 'id', 'service_id', 'vcpus', 'vcpus_used']);

  // A node that still knows its service_id (a legacy row) sends it.
  const legacy = loadObject(ComputeNode, { ...NODE, service_id: 12 });
  t.is(legacy.toPrimitive('1.0').data.service_id, 12);
  t.is(legacy.toPrimitive('1.1').data.service_id, 12);

  // A migrated node read with its service joined sends that service's id.
  const joined = loadObject(ComputeNode, { ...NODE, service_id: null });
  joined.service = legacyState(31, 'compute-1');
  t.is(joined.toPrimitive('1.0').data.service_id, 31);
  t.false('host' in joined.toPrimitive('1.0').data);
  t.is(joined.toPrimitive('1.1').data.service_id, 31);

  // The backport works on a copy: the object itself is untouched.
  t.is(joined.get('service_id'), null);
  t.is(joined.get('host'), 'compute-1');
  t.deepEqual(joined.toPrimitive().data.service_id, null);

  // A changed host is not reported to a 1.0 peer, which cannot know the field.
  const changed = loadObject(ComputeNode, { ...NODE, service_id: 12 });
  changed.set('host', 'compute-2');
  changed.set('vcpus_used', 4);
  t.deepEqual([...changed.toPrimitive('1.0').changes], ['vcpus_used']);
  t.deepEqual([...changed.toPrimitive('1.1').changes], ['host', 'vcpus_used']);

  // An old peer's primitive loads: a 1.0 ComputeNode with its required service_id.
  const old = ComputeNode.fromPrimitive({ name: 'ComputeNode', namespace: 'cellsdb', version: '1.0', data: { id: 9, service_id: 4, vcpus: 8 }, changes: ['vcpus'] });
  t.is(old.get('service_id'), 4);
  t.false(old.has('host'));
  t.deepEqual(old.changes(), ['vcpus']);
});

test('Service backport to 1.0 drops last_seen_up; the object comes from the service-group state', (t) => {
  const service = Service.fromState(legacyState(7, 'compute-7'));
  t.deepEqual(service.changes(), []);
  t.is(service.get('report_count'), 3);
  const v10 = service.toPrimitive('1.0');
  t.false('last_seen_up' in v10.data);
  t.is(service.toPrimitive().data.last_seen_up, WHEN.toISOString());
});

test('an incompatible major version or a newer minor is refused, with an error that says what this code handles', (t) => {
  const node = loadObject(ComputeNode, { ...NODE, service_id: null });
  const primitive = node.toPrimitive();
  for (const version of ['2.0', '0.9', '1.3', '1.10']) {
    const error = t.throws(() => ComputeNode.fromPrimitive({ ...primitive, version }), { instanceOf: ObjectError });
    t.regex(error?.message ?? '', new RegExp(`incompatible ComputeNode version ${version.replace('.', '\\.')}`));
    t.regex(error?.message ?? '', /handles 1\.0 to 1\.2/);
  }
  for (const version of ['2.0', '1.3', '0.1']) {
    t.throws(() => node.toPrimitive(version), { instanceOf: ObjectError, message: new RegExp(`cannot backport ComputeNode 1\\.2 to ${version.replace('.', '\\.')}`) });
  }
  t.throws(() => node.toPrimitive('one.two'), { instanceOf: ObjectError, message: /invalid object version 'one\.two'/ });
  t.throws(() => ComputeNode.fromPrimitive({ ...primitive, version: '1' }), { instanceOf: ObjectError, message: /invalid object version '1'/ });
  t.throws(() => ComputeNode.fromPrimitive({ ...primitive, name: 'Service' }), { instanceOf: ObjectError, message: /cannot load a 'cellsdb\.Service' as ComputeNode/ });
  t.throws(() => ComputeNode.fromPrimitive({ ...primitive, namespace: 'nova' }), { instanceOf: ObjectError, message: /cannot load a 'nova\.ComputeNode'/ });
  t.throws(() => ComputeNode.fromPrimitive({ ...primitive, data: { ...primitive.data, numa_topology: 'x' } }), { instanceOf: ObjectError, message: /no field 'numa_topology'/ });
  // A bad value in a primitive is refused as on set().
  t.throws(() => ComputeNode.fromPrimitive({ ...primitive, data: { ...primitive.data, vcpus: 'many' } }), { instanceOf: ObjectError, message: /ComputeNode\.vcpus must be integer/ });
  // The same major, an older or equal minor, loads.
  t.notThrows(() => ComputeNode.fromPrimitive({ ...primitive, version: '1.1' }));
  t.notThrows(() => ComputeNode.fromPrimitive(primitive));
});

test('set() checks the kind and nullability of each field and names the field in the error', (t) => {
  const node = new ComputeNode();
  const bad: Array<[string, unknown, RegExp]> = [
    ['vcpus', 'sixteen', /ComputeNode\.vcpus must be integer, got sixteen/],
    ['vcpus', 1.5, /ComputeNode\.vcpus must be integer, got 1\.5/],
    ['vcpus', true, /must be integer/],
    ['host', 42, /ComputeNode\.host must be string, got 42/],
    ['host', { name: 'h' }, /must be string, got \{"name":"h"\}/],
    ['id', null, /ComputeNode\.id cannot be null/],
    ['id', undefined, /ComputeNode\.id cannot be null/],
    ['numa_topology', 'x', /ComputeNode has no field 'numa_topology'/],
  ];
  for (const [field, value, message] of bad) {
    t.throws(() => node.set(field as never, value as never), { instanceOf: ObjectError, message }, `${field} = ${String(value)}`);
    if (field !== 'numa_topology') t.false(node.has(field as never), `a refused value leaves ${field} unset`);
  }
  t.deepEqual(node.changes(), [], 'a refused value is not a change');

  const service = new Service();
  t.throws(() => service.set('disabled', 'yes' as never), { instanceOf: ObjectError, message: /Service\.disabled must be boolean/ });
  t.throws(() => service.set('disabled', 2 as never), { instanceOf: ObjectError, message: /must be boolean/ });
  t.throws(() => service.set('forced_down', null as never), { instanceOf: ObjectError, message: /Service\.forced_down cannot be null/ });
  t.throws(() => service.set('last_seen_up', 'not a date' as never), { instanceOf: ObjectError, message: /Service\.last_seen_up must be datetime/ });
  t.throws(() => service.set('last_seen_up', 1234 as never), { instanceOf: ObjectError, message: /must be datetime/ });

  const group = new InstanceGroup();
  t.throws(() => group.set('members', ['a', 2] as never), { instanceOf: ObjectError, message: /InstanceGroup\.members must be nullable-string-list/ });
  t.throws(() => group.set('policies', 'affinity' as never), { instanceOf: ObjectError, message: /must be nullable-string-list/ });
  t.throws(() => group.set('uuid', null as never), { instanceOf: ObjectError, message: /InstanceGroup\.uuid cannot be null/ });

  // Accepted values: nullable null, and what the drivers hand back (0/1 booleans, numeric strings).
  node.set('host', null);
  node.set('vcpus', 16);
  t.deepEqual(node.changes(), ['host', 'vcpus']);
  service.set('disabled', 1 as never);
  t.is(service.get('disabled'), true);
  service.set('last_seen_up', WHEN.toISOString() as never);
  t.true(service.get('last_seen_up') instanceof Date);
  // A list is copied on set: the caller's array cannot change the object behind its back.
  const members = ['m1'];
  group.set('members', members);
  members.push('m2');
  t.deepEqual(group.get('members'), ['m1']);
});

test('InstanceGroup 1.1 holds null members and policies (nullable columns); its 1.0 form leaves them out, and 1.0 primitives still load', (t) => {
  const group = new InstanceGroup().update({ id: 7, uuid: 'g-7', user_id: null, project_id: 'p', name: null, policies: [null, 'affinity'], members: ['m1', null] });
  t.deepEqual(group.get('members'), ['m1', null]);
  t.deepEqual(group.get('policies'), [null, 'affinity']);
  const current = group.toPrimitive();
  t.is(current.version, '1.1');
  t.deepEqual(current.data['members'], ['m1', null]);
  const old = group.toPrimitive('1.0');
  t.is(old.version, '1.0');
  t.deepEqual(old.data['members'], ['m1']);
  t.deepEqual(old.data['policies'], ['affinity']);
  t.deepEqual(group.get('members'), ['m1', null], 'backporting does not change the object');
  const back = InstanceGroup.fromPrimitive(old);
  t.deepEqual(back.get('members'), ['m1']);
  t.deepEqual(InstanceGroup.fromPrimitive(current).get('members'), ['m1', null]);
});
