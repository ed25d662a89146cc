#!/usr/bin/env bash
# The action's main step: INPUT_MODE `run` (run.sh: run the suites) or `merge` (merge.sh: join
# a sharded run's shards); any other mode is exit 2.
set -euo pipefail
mode=${INPUT_MODE:-run}
case $mode in
  run | merge) exec bash "$(dirname "$0")/$mode.sh" ;;
  *) echo "harness action: mode $mode is neither run nor merge" >&2; exit 2 ;;
esac
