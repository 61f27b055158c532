#!/usr/bin/env bash
# Shared by the bench/*.sh scripts (sourced): the results file and its header describing the machine.
#   bench_results NAME   sets $out to bench/results/NAME-<time>.md and writes the title and the machine line
bench_results() {
  mkdir -p bench/results
  out="$PWD/bench/results/$1-$(date -u +%Y%m%dT%H%M%SZ).md"
  {
    echo "# pgkeel $1 benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"),"
    echo "$(java -version 2>&1 | head -1), $(etcd --version | head -1), PostgreSQL $(ls /usr/lib/postgresql | sort -V | tail -1)."
  } > "$out"
}
