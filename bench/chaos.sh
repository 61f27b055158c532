#!/usr/bin/env bash
# Chaos suite on real processes: 3 pgkeel agents with PostgreSQL, a 3-member etcd, HAProxy routing writes to the
# primary, a writer through HAProxy recording every acknowledged id, and a sampler asking every node directly every
# 100 ms whether it takes writes. Faults drawn at random from the seed (kill -9 of an agent, a postmaster or both;
# SIGSTOP of an agent, a postmaster or one etcd member; etcd quorum loss; one agent cut from etcd; switchover under
# load; restart of a replica), one at a time, each followed by a wait for recovery. See docs/chaos.md.
#   bench/chaos.sh [--faults N] [--seed S] [--sync on|off|quorum] [--ttl T] [--no-lock] [--self-check]
#                  [--agent pgkeel|patroni]
# Prints one line per fault and ends with
#   chaos: faults=N lost=X two_writers=Y max_recovery_s=Z max_write_gap_s=W
# and exits non-zero when an acknowledged id was lost (sync on or quorum), two nodes took writes at one sampler
# instant, or a fault did not recover within RECOVERY_SECONDS (default 120) of being healed. Markdown results go to
# bench/results/chaos-<date>.md, the run's output to the .log beside it, and the logs of a fault that broke a rule to
# FINDINGS (default bench/results/chaos-findings). --ttl defaults to 5 (pgkeel is safe there, and 30 faults take
# about 3.5 minutes). loop_wait is 1; retry_timeout is 4 with ttl 10 or more, (ttl - 1) / 2 below. The run holds flock /tmp/pgkeel-it.lock (one real cluster at a time) unless --no-lock.
# --self-check tests the checker: the first fault promotes a replica's PostgreSQL behind its agent's back, and the
# run passes only if the sampler reports two writers. --agent patroni runs the same on Patroni 3.0 (Debian's package).
set -euo pipefail
cd "$(dirname "$0")/.."
faults=30 seed=$((RANDOM * 32768 + RANDOM)) sync=on ttl=5 lock=(flock /tmp/pgkeel-it.lock) selfcheck=false agent=pgkeel
while (($#)); do
  case "$1" in
    --faults) faults=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --sync) sync=$2; shift 2 ;;
    --ttl) ttl=$2; shift 2 ;;
    --no-lock) lock=(); shift ;;
    --self-check) selfcheck=true; shift ;;
    --agent) agent=$2; shift 2 ;;
    *) echo "usage: bench/chaos.sh [--faults N] [--seed S] [--sync on|off|quorum] [--ttl T] [--no-lock] [--self-check]" \
         "[--agent pgkeel|patroni]" >&2
       exit 2 ;;
  esac
done
case "$agent" in pgkeel|patroni) ;; *) echo "chaos: --agent must be pgkeel or patroni, not $agent" >&2; exit 2 ;; esac
case "$sync" in on|off|quorum) ;; *) echo "chaos: --sync must be on, off or quorum, not $sync" >&2; exit 2 ;; esac
[[ "$faults" =~ ^[1-9][0-9]*$ ]] || { echo "chaos: --faults must be a positive number, not $faults" >&2; exit 2; }
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "chaos: --seed must be a number, not $seed" >&2; exit 2; }
[[ "$ttl" =~ ^[0-9]+$ ]] && ((ttl >= 5)) || { echo "chaos: --ttl must be a number of seconds, 5 or more, not $ttl" >&2; exit 2; }
retry=$((ttl >= 10 ? 4 : (ttl - 1) / 2))
. scripts/prereqs.sh
if [ "$agent" = patroni ]; then pgkeel_prereqs bench; else pgkeel_prereqs; fi
. bench/lib.sh
bench_results chaos
echo "Command: bench/chaos.sh --faults $faults --seed $seed --sync $sync --ttl $ttl --agent $agent (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))." >> "$out"
started=$(date +%s)
# shellcheck disable=SC2086
"${lock[@]}" ./mvnw -B -ntp ${MAVEN_FLAGS--o} -q verify -pl agent -am -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=ChaosBench -Dbench.faults="$faults" -Dbench.seed="$seed" -Dbench.sync="$sync" -Dbench.ttl="$ttl" \
  -Dbench.loopWait=1 -Dbench.retryTimeout="$retry" -Dbench.recoverySeconds="${RECOVERY_SECONDS:-120}" -Dbench.selfCheck="$selfcheck" \
  -Dbench.flavor="${agent^^}" \
  -Dbench.out="$out" -Dbench.findings="${FINDINGS:-$PWD/bench/results/chaos-findings}" 2>&1 | tee "${out%.md}.log" \
  && status=0 || status=$?
echo "chaos: $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s including the build; results: $out"
summary=$(grep -E '^chaos: faults=' "${out%.md}.log" | tail -1 || true)
if [ -z "$summary" ]; then
  echo "chaos: no summary line: the run did not finish (see ${out%.md}.log)" >&2
  exit 1
fi
exit "$status"
