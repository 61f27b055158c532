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
mkdir -p bench/results
out="$PWD/bench/results/switchover-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "# pgkeel switchover benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"),"
  echo "$(java -version 2>&1 | head -1), $(etcd --version | head -1), PostgreSQL $(ls /usr/lib/postgresql | sort -V | tail -1),"
  echo "Patroni $(patroni --version 2>/dev/null | awk '{print $2}'). Command: bench/switchover.sh (RUNS=$runs)."
} > "$out"
./mvnw -q -B -ntp -DskipTests install
./mvnw -q -B -ntp verify -pl agent -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=SwitchoverBench -Dbench.runs="$runs" -Dbench.flavors="${FLAVORS:-PGKEEL,PATRONI}" -Dbench.out="$out"
echo "results: $out"
cat "$out"
