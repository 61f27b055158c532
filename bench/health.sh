#!/usr/bin/env bash
# Health-check endpoints under wrk (keep-alive, 1 thread, 8 connections), pgkeel vs Patroni 3.0 (Debian's package),
# each on its own 3-node cluster in the same run; then a 60 s soak on pgkeel's leader with its RSS before and after.
# Appends a Markdown table to bench/results/health-<date>.md.   SECONDS_PER_RUN=10 bench/health.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
pgkeel_prereqs bench
. bench/lib.sh
bench_results health
echo "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), Patroni $(patroni --version 2>/dev/null | awk '{print $2}'). Command: bench/health.sh" >> "$out"
./mvnw -q -B -ntp -DskipTests install
for i in 1 2 3; do
  ./mvnw -q -B -ntp verify -pl agent -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
    -Dit.test=HealthBench -Dbench.seconds="${SECONDS_PER_RUN:-10}" -Dbench.flavors="${FLAVORS:-PGKEEL,PATRONI}" \
    -Dbench.out="$out"
done
echo "results: $out"
cat "$out"
