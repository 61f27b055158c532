#!/usr/bin/env bash
# Idle footprint: a pgkeel cluster and a Patroni 3.0 cluster (Debian's package) side by side, same YAML and
# settings (Patroni's defaults 30/10/10); after MINUTES (default 10) each agent's RSS and its CPU over the last
# minute. Appends a Markdown table to bench/results/footprint-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
pgkeel_prereqs bench
. bench/lib.sh
bench_results footprint
echo "Patroni $(patroni --version 2>/dev/null | awk '{print $2}'). Command: bench/footprint.sh" >> "$out"
./mvnw -q -B -ntp -DskipTests install
./mvnw -q -B -ntp verify -pl agent -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=FootprintBench -Dbench.minutes="${MINUTES:-10}" -Dbench.out="$out"
echo "results: $out"
cat "$out"
