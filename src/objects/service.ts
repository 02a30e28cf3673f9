import type { ServiceState } from '../servicegroup/types.js';
import { type FieldSpec, loadObject, VersionedObject } from './base.js';

export interface ServiceFields extends Record<string, unknown> {
  id: number;
  host: string | null;
  binary: string | null;
  topic: string | null;
  report_count: number;
  disabled: boolean;
  disabled_reason: string | null;
  last_seen_up: Date | null;
  forced_down: boolean;
  version: number;
}

/**
 * A service record, as the service-group API hands it out (the only path to service data: this
 * object has no save of its own; change a service through ServiceGroupApi).
 */
export class Service extends VersionedObject<ServiceFields> {
  static readonly objName = 'Service';
  static readonly VERSION = '1.1';
  static readonly fields: Readonly<Record<keyof ServiceFields & string, FieldSpec>> = {
    id: { kind: 'integer', nullable: false },
    host: { kind: 'string', nullable: true },
    binary: { kind: 'string', nullable: true },
    topic: { kind: 'string', nullable: true },
    report_count: { kind: 'integer', nullable: false },
    disabled: { kind: 'boolean', nullable: false },
    disabled_reason: { kind: 'string', nullable: true },
    forced_down: { kind: 'boolean', nullable: false },
    version: { kind: 'integer', nullable: false },
    // Added with cell migration 0003.
    last_seen_up: { kind: 'datetime', nullable: true, since: '1.1' },
  };

  static fromState(state: ServiceState): Service {
    return loadObject(Service, {
      id: state.id,
      host: state.host,
      binary: state.binary,
      topic: state.topic,
      report_count: state.reportCount,
      disabled: state.disabled,
      disabled_reason: state.disabledReason,
      last_seen_up: state.lastSeenUp,
      forced_down: state.forcedDown,
      version: state.version,
    });
  }
}
