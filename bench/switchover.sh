#!/usr/bin/env bash
# Switchover under writes, pgkeel vs Patroni 3.0 (Debian's package) on the same machine in the same run:
# a client writes one row every 20 ms while the cluster is switched over RUNS times (default 5).
# Appends a Markdown table to bench/results/switchover-<date>.md.
#   bench/switchover.sh                      both agents
#   FLAVORS=PGKEEL bench/switchover.sh       pgkeel only
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
pgkeel_prereqs bench
runs=${RUNS:-5}
. bench/lib.sh
bench_results switchover
echo "Patroni $(patroni --version 2>/dev/null | awk '{print $2}'). Command: bench/switchover.sh (RUNS=$runs)." >> "$out"
./mvnw -q -B -ntp -DskipTests install
./mvnw -q -B -ntp verify -pl agent -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=SwitchoverBench -Dbench.runs="$runs" -Dbench.flavors="${FLAVORS:-PGKEEL,PATRONI}" -Dbench.out="$out"
echo "results: $out"
cat "$out"
