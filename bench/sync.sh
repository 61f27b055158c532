#!/usr/bin/env bash
# Synchronous replication, pgkeel vs Patroni 3.0 (Debian's package) on the same YAML in the same run. Per agent, a
# fresh 3-node cluster for each synchronous_mode (off, on): ROUNDS runs of pgbench -b simple-update -c CLIENTS -T SECONDS
# against the primary (tps, latency average and 95th percentile); then, in sync mode, RUNS crashes of the primary
# (kill -9 of its agent and PostgreSQL) under a writer: time to the first write on another node, whether that node
# was the sync key's standby, acknowledged rows lost. Appends Markdown tables to bench/results/sync-<date>.md.
#   bench/sync.sh                          both agents, RUNS=3 ROUNDS=3 SECONDS_=15 CLIENTS=4
#   FLAVORS=PATRONI MODES=on bench/sync.sh Patroni only, sync on only
# Each agent's part runs under flock /tmp/pgkeel-it.lock (the integration tests' lock: one real cluster at a time).
# Maven runs offline; MAVEN_FLAGS= (empty) lets it download.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
pgkeel_prereqs bench
runs=${RUNS:-3}
seconds=${SECONDS_:-15}
rounds=${ROUNDS:-3}
clients=${CLIENTS:-4}
modes=${MODES:-off,on}
. bench/lib.sh
bench_results sync
echo "Patroni $(patroni --version 2>/dev/null | awk '{print $2}'), pgbench $("$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pgbench" --version | awk '{print $3}'), commit $(git rev-parse --short HEAD)." >> "$out"
echo "Command: bench/sync.sh (RUNS=$runs ROUNDS=$rounds SECONDS_=$seconds CLIENTS=$clients MODES=$modes)." >> "$out"
flavors=${FLAVORS:-PGKEEL,PATRONI}
for flavor in ${flavors//,/ }; do
  # shellcheck disable=SC2086
  flock /tmp/pgkeel-it.lock ./mvnw -q -B -ntp ${MAVEN_FLAGS--o} verify -pl agent -am -Dtest=none \
    -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=SyncBench -Dbench.flavors="$flavor" -Dbench.modes="$modes" \
    -Dbench.runs="$runs" -Dbench.seconds="$seconds" -Dbench.rounds="$rounds" -Dbench.clients="$clients" -Dbench.out="$out" \
    2>&1 | tee -a "${out%.md}.log"
done
echo "output (agent logs of a cluster that failed to start): ${out%.md}.log"
echo "results: $out"
cat "$out"
