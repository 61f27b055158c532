#!/usr/bin/env bash
# etcd member loss and etcd leader change under writes, pgkeel vs Patroni 3.0 (Debian's package) in the same run:
# a 3-node cluster on a 3-member etcd (plain http, for both agents), a client writing one row every 20 ms, RUNS
# times (default 3) each: kill -9 of an etcd follower, of etcd's raft leader (each down ttl + 5 s), and
# `etcdctl move-leader`. Appends a Markdown table to bench/results/etcd-<date>.md.
#   bench/etcd.sh                      both agents
#   FLAVORS=PGKEEL bench/etcd.sh       pgkeel only
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
pgkeel_prereqs bench
runs=${RUNS:-3}
. bench/lib.sh
bench_results etcd
echo "Patroni $(patroni --version 2>/dev/null | awk '{print $2}'). Command: bench/etcd.sh (RUNS=$runs)." >> "$out"
./mvnw -q -B -ntp verify -pl agent -am -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=EtcdBench -Dbench.runs="$runs" -Dbench.flavors="${FLAVORS:-PGKEEL,PATRONI}" -Dbench.out="$out"
echo "results: $out"
cat "$out"
