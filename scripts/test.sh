#!/usr/bin/env bash
# The whole test suite: unit tests, simulated clusters, and integration tests that start real etcd and
# PostgreSQL processes (agents and PostgreSQL run as the postgres user when this runs as root).
# Extra arguments go to Maven, e.g. scripts/test.sh -Dit.test=HaClusterIT
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
pgkeel_prereqs tests
exec ./mvnw -B -ntp verify "$@"
