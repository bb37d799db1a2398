#!/usr/bin/env bash
# The CPU and wall time of test files, each run alone (`pytest -n 0`), counting the whole process
# tree: pytest, its children and theirs (Prefect servers, forked children), whether or not they
# were waited for (`/usr/bin/time` misses those). Linux, cgroup v1 cpuacct, as root.
#
#   benchmarks/test_file_cpu.sh tests/integration/test_kill_daily.py [more files...]
#
# Prints one line a file: the pytest summary, wall seconds, CPU seconds, the load average before
# and after. PYTEST (default .venv/bin/pytest) and extra pytest options in PYTEST_OPTIONS.
set -euo pipefail
cd "$(dirname "$0")/.."
pytest=${PYTEST:-.venv/bin/pytest}
cpuacct=/sys/fs/cgroup/cpuacct
[ -w "$cpuacct" ] || { echo "needs a writable $cpuacct (cgroup v1, root)" >&2; exit 2; }
for file in "$@"; do
  group="$cpuacct/test-file-cpu-$$"
  mkdir "$group"
  home=$(mktemp -d)
  log=$(mktemp)
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  start=$(date +%s.%N)
  status=0
  (
    echo "$BASHPID" > "$group/tasks"
    # shellcheck disable=SC2086 # PYTEST_OPTIONS is a list of options
    PREFECT_HOME=$home PREFECT_SERVER_ANALYTICS_ENABLED=false PYTHONPATH=. \
      "$pytest" -q -p no:cacheprovider -n 0 ${PYTEST_OPTIONS:-} "$file" > "$log" 2>&1
  ) || status=$?
  # processes that outlive pytest (a fork server closing) still count: wait for them (30 s)
  for _ in $(seq 60); do [ -s "$group/tasks" ] || break; sleep 0.5; done
  end=$(date +%s.%N)
  cpu=$(awk '{printf "%.1f", $1 / 1e9}' "$group/cpuacct.usage")
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}')
  echo "$file: $(tail -1 "$log") | wall $wall s | cpu $cpu s | load $load_before -> $(cut -d' ' -f1 /proc/loadavg) | exit $status"
  [ "$status" = 0 ] || tail -n 80 "$log" | sed 's/^/  | /'  # why it failed, not only that it did
  rmdir "$group" 2>/dev/null || echo "  processes left in $group" >&2
  rm -rf "$home" "$log"
done
