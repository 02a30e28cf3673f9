import type { LivenessSettings } from './types.js';

/**
 * The down time actually used: `service_down_time`, unless it is not longer than `report_interval`
 * (then every service would flap), in which case `int(report_interval × 2.5)` — Nova's rule.
 */
export function effectiveDownTime(settings: LivenessSettings): number {
  return settings.serviceDownTime <= settings.reportInterval ? Math.trunc(settings.reportInterval * 2.5) : settings.serviceDownTime;
}

/**
 * A service is up iff it is not forced down and its last heartbeat (`last_seen_up`, else
 * `created_at`) is within the down time of now, in either direction (a clock ahead counts as
 * elapsed time too, as Nova's abs()).
 */
export function isServiceUp(service: { forcedDown: boolean; lastHeartbeat: Date | null }, now: Date, settings: LivenessSettings): boolean {
  if (service.forcedDown) return false;
  if (!service.lastHeartbeat) return false;
  const elapsedSeconds = Math.abs(now.getTime() - service.lastHeartbeat.getTime()) / 1000;
  return elapsedSeconds <= effectiveDownTime(settings);
}
