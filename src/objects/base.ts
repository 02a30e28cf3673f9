import { createHash } from 'node:crypto';
import { ObjectError } from '../errors.js';

/**
 * The kinds of field an object can have. `nullable-string-list`: a list whose items may be null
 * (a nullable column read as a list, such as instance group members and policies).
 */
export type FieldKind = 'integer' | 'string' | 'boolean' | 'datetime' | 'string-list' | 'nullable-string-list';

/** One typed field: its kind, whether it may be null, and the version that added it. */
export interface FieldSpec {
  readonly kind: FieldKind;
  readonly nullable: boolean;
  /** The object version that added the field (backports below it drop it). @default '1.0' */
  readonly since?: string;
}

/** The serialised form of an object: only the set fields, and which of them changed. */
export interface ObjectPrimitive {
  readonly name: string;
  readonly namespace: string;
  readonly version: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly changes: readonly string[];
}

/** An object's class: its name, version and field schema. */
export interface ObjectClass<T extends VersionedObject = VersionedObject> {
  new (): T;
  readonly objName: string;
  readonly VERSION: string;
  readonly fields: Readonly<Record<string, FieldSpec>>;
}


/** Parses 'major.minor'. */
export function parseVersion(version: string): [number, number] {
  const m = /^(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new ObjectError(`invalid object version '${version}': expected 'major.minor'`);
  return [Number(m[1]), Number(m[2])];
}

/** Compares two 'major.minor' versions. */
export function compareVersions(a: string, b: string): number {
  const [am, an] = parseVersion(a);
  const [bm, bn] = parseVersion(b);
  return am - bm || an - bn;
}

function checkValue(objName: string, field: string, spec: FieldSpec, value: unknown): unknown {
  if (value === null || value === undefined) {
    if (!spec.nullable) throw new ObjectError(`${objName}.${field} cannot be null`);
    return null;
  }
  const bad = () => new ObjectError(`${objName}.${field} must be ${spec.kind}, got ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  switch (spec.kind) {
    case 'integer':
      if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
      if (typeof value !== 'number' || !Number.isInteger(value)) throw bad();
      return value;
    case 'string':
      if (typeof value !== 'string') throw bad();
      return value;
    case 'boolean':
      if (value === 0 || value === 1) return value === 1;
      if (typeof value !== 'boolean') throw bad();
      return value;
    case 'datetime': {
      const d = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
      if (!d || Number.isNaN(d.getTime())) throw bad();
      return d;
    }
    case 'string-list':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw bad();
      return [...value];
    case 'nullable-string-list':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' || v === null)) throw bad();
      return [...value];
  }
}

/**
 * A versioned object (spec compute-manager-objects): a `VERSION`, typed fields with nullability,
 * change tracking (`save()` writes only changed fields), and a serialised form that can be
 * backported to an older minor version for an older peer.
 */
export abstract class VersionedObject<F extends Record<string, unknown> = Record<string, unknown>> {
  static readonly NAMESPACE = 'cellsdb';
  private readonly values = new Map<string, unknown>();
  private readonly changed = new Set<string>();

  protected get cls(): ObjectClass {
    return this.constructor as unknown as ObjectClass;
  }

  /** Whether a field is set (unset fields are absent from the primitive). */
  has(field: keyof F & string): boolean {
    return this.values.has(field);
  }

  /** A field's value; reading an unset field is an error (as Nova's NotImplementedError for lazy loads). */
  get<K extends keyof F & string>(field: K): F[K] {
    if (!this.values.has(field)) throw new ObjectError(`${this.cls.objName}.${field} is not set`);
    return this.values.get(field) as F[K];
  }

  /** Sets a field, checking its kind and nullability, and marks it changed. */
  set<K extends keyof F & string>(field: K, value: F[K]): this {
    const spec = this.cls.fields[field];
    if (!spec) throw new ObjectError(`${this.cls.objName} has no field '${field}'`);
    this.values.set(field, checkValue(this.cls.objName, field, spec, value));
    this.changed.add(field);
    return this;
  }

  /** Sets several fields. */
  update(values: Partial<F>): this {
    for (const [k, v] of Object.entries(values)) this.set(k as keyof F & string, v as F[keyof F & string]);
    return this;
  }

  /** Fields changed since the object was loaded or last saved. */
  changes(): string[] {
    return [...this.changed].sort();
  }

  /** Forgets the changes (after a save or a load). */
  resetChanges(): void {
    this.changed.clear();
  }

  /**
   * Backports `data` (a copy of the set fields) to `target`, an older minor version. The base class
   * drops fields added after `target`; subclasses add what else changed (override and call super).
   */
  protected makeCompatible(data: Record<string, unknown>, target: string): void {
    for (const [name, spec] of Object.entries(this.cls.fields)) {
      if (compareVersions(spec.since ?? '1.0', target) > 0) delete data[name];
    }
  }

  /** The serialised form, at this version or backported to `targetVersion` (same major, not newer). */
  toPrimitive(targetVersion?: string): ObjectPrimitive {
    const version = targetVersion ?? this.cls.VERSION;
    const [major, minor] = parseVersion(version);
    const [ownMajor, ownMinor] = parseVersion(this.cls.VERSION);
    if (major !== ownMajor || minor > ownMinor) {
      throw new ObjectError(`cannot backport ${this.cls.objName} ${this.cls.VERSION} to ${version}: only older minor versions of the same major can be produced`);
    }
    const data: Record<string, unknown> = {};
    for (const [k, v] of this.values) data[k] = v instanceof Date ? v.toISOString() : Array.isArray(v) ? [...v] : v;
    if (version !== this.cls.VERSION) this.makeCompatible(data, version);
    return {
      name: this.cls.objName,
      namespace: VersionedObject.NAMESPACE,
      version,
      data,
      changes: this.changes().filter((c) => c in data),
    };
  }

  /**
   * Loads a primitive. Accepts the same major version with a minor version equal to or older than
   * this code's (older peers send older minors); refuses a newer minor or another major with a
   * clear error, as Nova's IncompatibleObjectVersion.
   */
  static fromPrimitive<T extends VersionedObject>(this: ObjectClass<T>, primitive: ObjectPrimitive): T {
    if (primitive.name !== this.objName || primitive.namespace !== VersionedObject.NAMESPACE) {
      throw new ObjectError(`cannot load a '${primitive.namespace}.${primitive.name}' as ${this.objName}`);
    }
    const [major, minor] = parseVersion(primitive.version);
    const [ownMajor, ownMinor] = parseVersion(this.VERSION);
    if (major !== ownMajor || minor > ownMinor) {
      throw new ObjectError(
        `incompatible ${this.objName} version ${primitive.version}: this code handles ${ownMajor}.0 to ${this.VERSION}; ask the sender for toPrimitive('${this.VERSION}')`,
      );
    }
    const obj = new this();
    for (const [k, v] of Object.entries(primitive.data)) {
      if (!this.fields[k]) throw new ObjectError(`${this.objName} ${primitive.version} has no field '${k}'`);
      obj.set(k as never, v as never);
    }
    obj.resetChanges();
    for (const c of primitive.changes) if (c in primitive.data) (obj as unknown as { changed: Set<string> }).changed.add(c);
    return obj;
  }

  /**
   * A hash of the class's field schema and version ('1.2-3f2a…'): a test pins it, so that a change
   * of fields without a version bump fails (Nova's object hash test).
   */
  static fingerprint(this: ObjectClass): string {
    const schema = Object.entries(this.fields)
      // Code-point order, not the locale's: a fingerprint must be the same on every machine.
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, spec]) => `${name}:${spec.kind}:${spec.nullable ? 'null' : 'notnull'}:${spec.since ?? '1.0'}`)
      .join(';');
    return `${this.VERSION}-${createHash('sha256').update(`${this.objName}|${schema}`).digest('hex').slice(0, 16)}`;
  }
}

/** Loads a fresh object from a row of values (no changes recorded). */
export function loadObject<T extends VersionedObject>(cls: ObjectClass<T>, values: Record<string, unknown>): T {
  const obj = new cls();
  for (const [k, v] of Object.entries(values)) if (cls.fields[k]) obj.set(k as never, v as never);
  obj.resetChanges();
  return obj;
}
