#!/usr/bin/env bash
# Failover, handover and footprint benchmark on a real 3-node cluster (etcd + pgkeel + PostgreSQL on loopback).
# Runs each scenario RUNS times (default 5) with ttl 10/loop_wait 1/retry_timeout 4 and with Patroni's
# defaults (30/10/10), and appends Markdown tables to bench/results/failover-<date>.md.
#   bench/failover.sh            both settings
#   RUNS=3 bench/failover.sh     fewer runs
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
pgkeel_prereqs
runs=${RUNS:-5}
. bench/lib.sh
bench_results failover
echo "Command: bench/failover.sh (RUNS=$runs). Writes are probed every 20 ms with a new connection." >> "$out"
./mvnw -q -B -ntp -DskipTests install
for timing in "10 1 4" "30 10 10"; do
  read -r ttl loop retry <<<"$timing"
  ./mvnw -q -B -ntp verify -pl agent -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
    -Dit.test=FailoverBench -Dbench.runs="$runs" -Dbench.ttl="$ttl" -Dbench.loopWait="$loop" \
    -Dbench.retryTimeout="$retry" -Dbench.out="$out"
done
echo "results: $out"
cat "$out"
