#!/usr/bin/env bash
# The whole test suite: unit tests, simulated clusters, and integration tests that start real etcd and
# PostgreSQL processes (agents and PostgreSQL run as the postgres user when this runs as root); then the chaos suite
# on real processes (bench/chaos.sh: 30 faults, synchronous_mode on, a new seed each run, printed; docs/chaos.md),
# which fails the script when an acknowledged write is lost, two nodes take writes at once, or a fault does not
# recover. Extra arguments go to Maven, e.g. scripts/test.sh -Dit.test=HaClusterIT; with extra arguments the chaos run
# is skipped unless PGKEEL_CHAOS_FAULTS is set. PGKEEL_CHAOS_FAULTS=0 skips it, =N runs N faults.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
pgkeel_prereqs tests
./mvnw -B -ntp verify "$@"
faults=${PGKEEL_CHAOS_FAULTS:-$(($# == 0 ? 30 : 0))}
if ((faults > 0)); then
  # the suite above takes no lock either: whoever runs the whole suite owns the machine's ports and processes
  bench/chaos.sh --faults "$faults" --sync on --no-lock
fi
