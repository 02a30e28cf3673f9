#!/bin/sh
# The runbook loop for the online data migrations (README, "Online data migrations"): one bounded
# run at a time while cellsdb says there is more to do (exit 1), then stop and say which end it
# reached, exiting with the last run's code, so that a script cannot read "blocked" as "done":
#   0 done: nothing more to do (the next `db sync` can pass the blocker)
#   3 blocked: only rows an operator must resolve remain (listed above by cellsdb)
#   2 failed: a mover failed and made no progress (messages above)
#   any other code: cellsdb's own (127 invalid input, 130/143 interrupted, 255 unexpected)
# Usage: docs/runbook-loop.sh [cellsdb options...], e.g. docs/runbook-loop.sh --config-file /etc/nova/nova.conf
# Environment: CELLSDB (the command, default `cellsdb`), MAX_COUNT (rows per run, default 1000).
set -u
CELLSDB=${CELLSDB:-cellsdb}
MAX_COUNT=${MAX_COUNT:-1000}
while :; do
  # $CELLSDB unquoted on purpose: it may be a command with arguments (`node /opt/cellsdb/main.js`).
  $CELLSDB db online_data_migrations --max-count "$MAX_COUNT" "$@"
  rc=$?
  [ "$rc" -eq 1 ] || break
done
case $rc in
  0) echo "runbook-loop: done: no rows left to migrate" >&2 ;;
  3) echo "runbook-loop: BLOCKED (exit 3): rows remain that only an operator can resolve; see the table above, resolve them, run again" >&2 ;;
  2) echo "runbook-loop: FAILED (exit 2): a mover failed without progress; see the messages above" >&2 ;;
  *) echo "runbook-loop: stopped: cellsdb exited $rc" >&2 ;;
esac
exit "$rc"
