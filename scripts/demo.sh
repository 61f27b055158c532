#!/usr/bin/env bash
# ./pgkeel demo        start etcd, 3 pgkeel agents (each with its PostgreSQL) and HAProxy on loopback, show the
#                      live cluster, offer a failover drill; Ctrl-C stops and removes everything it started.
# ./pgkeel demo stop   stop a demo left running (e.g. after its terminal was closed).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
. "$here/scripts/prereqs.sh"

DEMO_DIR="${PGKEEL_DEMO_DIR:-${TMPDIR:-/tmp}/pgkeel-demo}"
ETCD_PORT=${PGKEEL_DEMO_ETCD_PORT:-12379}
API_BASE=${PGKEEL_DEMO_API_PORT:-18008}
PG_BASE=${PGKEEL_DEMO_PG_PORT:-15432}
HAPROXY_PRIMARY=${PGKEEL_DEMO_HAPROXY_PORT:-15000}
HAPROXY_REPLICAS=$((HAPROXY_PRIMARY + 1))

stop_demo() {
  [ -f "$DEMO_DIR/pids" ] || { echo "no demo running under $DEMO_DIR"; return 0; }
  echo "stopping the demo under $DEMO_DIR ..."
  # agents first (SIGTERM: clean PostgreSQL stop), then HAProxy and etcd: only the PIDs this demo started
  tac "$DEMO_DIR/pids" | while read -r name pid; do
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  for i in 1 2 3; do
    pidfile="$DEMO_DIR/node$i/data/postmaster.pid"
    [ -f "$pidfile" ] && kill -KILL "$(head -1 "$pidfile")" 2>/dev/null || true
  done
  rm -rf "$DEMO_DIR"
  echo "demo stopped and removed"
}

case "${1:-}" in
  stop) stop_demo; exit 0 ;;
  "") ;;
  -h|--help|help) sed -n '2,4s/^# \{0,1\}//p' "$0"; exit 0 ;;
  # anything else would start a whole cluster the caller did not ask for
  *) echo "pgkeel demo: unknown argument '$1' (usage: ./pgkeel demo [stop])" >&2; exit 2 ;;
esac

pgkeel_prereqs
if [ -f "$DEMO_DIR/pids" ]; then
  echo "a demo is already running under $DEMO_DIR (./pgkeel demo stop ends it)" >&2
  exit 1
fi
[ -f "$here/agent/target/dist/lib/pgkeel-agent-0.1.0-SNAPSHOT-dist.jar" ] || (cd "$here" && ./mvnw -q -B -ntp -DskipTests package)

mkdir -p "$DEMO_DIR"
chmod 755 "$DEMO_DIR"
as_agent=()
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root: the agents (and their PostgreSQL) run as the postgres user
  as_agent=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  chown postgres "$DEMO_DIR"
fi
# a copy of the distribution the agents' user can read, whoever owns the checkout
cp -r "$here/agent/target/dist" "$DEMO_DIR/dist"
mkdir -p "$DEMO_DIR/bin" && cp "$here/pgkeel" "$DEMO_DIR/bin/pgkeel"
chmod -R a+rX "$DEMO_DIR/dist" "$DEMO_DIR/bin"
bin_dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
trap 'echo; stop_demo; exit 0' INT TERM

etcd --name demo --data-dir "$DEMO_DIR/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
  --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
  --initial-cluster "demo=http://127.0.0.1:$((ETCD_PORT + 1))" > "$DEMO_DIR/etcd.log" 2>&1 &
echo "etcd $!" >> "$DEMO_DIR/pids"

for i in 1 2 3; do
  node="$DEMO_DIR/node$i"
  mkdir -p "$node"
  cat > "$node/pgkeel.yml" <<YAML
scope: demo
namespace: /service/
name: node$i
restapi:
  listen: 127.0.0.1:$((API_BASE + i - 1))
  connect_address: 127.0.0.1:$((API_BASE + i - 1))
etcd3:
  hosts: 127.0.0.1:$ETCD_PORT
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    postgresql:
      use_pg_rewind: true
      use_slots: true
  initdb:
    - encoding: UTF8
    - data-checksums
postgresql:
  listen: 127.0.0.1:$((PG_BASE + i - 1))
  connect_address: 127.0.0.1:$((PG_BASE + i - 1))
  data_dir: $node/data
  bin_dir: $bin_dir
  pgpass: $node/pgpass
  authentication:
    superuser: {username: postgres, password: demo}
    replication: {username: replicator, password: demo-replication}
  parameters:
    shared_buffers: 16MB
    unix_socket_directories: '$node'
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 scram-sha-256
    - host replication replicator 127.0.0.1/32 scram-sha-256
YAML
  [ "$(id -u)" = 0 ] && chown -R postgres "$node"
  PGKEEL_DIST="$DEMO_DIR/dist" HOME="$node" "${as_agent[@]}" "$DEMO_DIR/bin/pgkeel" agent "$node/pgkeel.yml" > "$node/agent.log" 2>&1 &
  echo "node$i $!" >> "$DEMO_DIR/pids"
done

cat > "$DEMO_DIR/haproxy.cfg" <<CFG
global
    maxconn 100
defaults
    mode tcp
    retries 2
    timeout client 30m
    timeout connect 4s
    timeout server 30m
    timeout check 5s
listen primary
    bind 127.0.0.1:$HAPROXY_PRIMARY
    option httpchk HEAD /primary
    http-check expect status 200
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
$(for i in 1 2 3; do echo "    server node$i 127.0.0.1:$((PG_BASE + i - 1)) check port $((API_BASE + i - 1))"; done)
listen replicas
    bind 127.0.0.1:$HAPROXY_REPLICAS
    balance roundrobin
    option httpchk HEAD /replica
    http-check expect status 200
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
$(for i in 1 2 3; do echo "    server node$i 127.0.0.1:$((PG_BASE + i - 1)) check port $((API_BASE + i - 1))"; done)
CFG
haproxy -f "$DEMO_DIR/haproxy.cfg" -db > "$DEMO_DIR/haproxy.log" 2>&1 &
echo "haproxy $!" >> "$DEMO_DIR/pids"

# a top-level field of /patroni: the leader's "replication" list (each entry has a "state" too) is cut off first
field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\).*/\1/p" <<<"${2%%\"replication\":*}"; }
table() {
  printf '%-7s %-22s %-9s %-9s %-4s %s\n' Member Host Role State TL "WAL position"
  for i in 1 2 3; do
    local json
    json=$(curl -s -m 1 "http://127.0.0.1:$((API_BASE + i - 1))/patroni" || true)
    if [ -z "$json" ]; then
      printf '%-7s %-22s %s\n' "node$i" "127.0.0.1:$((PG_BASE + i - 1))" "(agent not answering)"
      continue
    fi
    local role; role=$(field role "$json")
    local leader; leader=$(ETCDCTL_API=3 etcdctl --endpoints="127.0.0.1:$ETCD_PORT" get --print-value-only /service/demo/leader 2>/dev/null || true)
    [ "$leader" = "node$i" ] && role="Leader"
    printf '%-7s %-22s %-9s %-9s %-4s %s\n' "node$i" "127.0.0.1:$((PG_BASE + i - 1))" "$role" "$(field state "$json")" \
      "$(field timeline "$json")" "$(field location "$json")$(field replayed_location "$json")"
  done
}
primary_port() {
  for i in 1 2 3; do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 "http://127.0.0.1:$((API_BASE + i - 1))/primary")" = 200 ]; then
      echo $i; return 0
    fi
  done
  return 1
}

echo "pgkeel demo under $DEMO_DIR: waiting for the cluster to bootstrap..."
for _ in $(seq 1 120); do primary_port >/dev/null && break; sleep 0.5; done
while true; do
  # `./pgkeel demo stop` from another terminal removed everything: nothing left to show
  [ -f "$DEMO_DIR/pids" ] || { echo "the demo under $DEMO_DIR was stopped"; exit 0; }
  clear 2>/dev/null || true
  echo "pgkeel demo (cluster 'demo'; logs and data under $DEMO_DIR)"
  echo
  table
  echo
  echo "writes:  PGPASSWORD=demo psql -h 127.0.0.1 -p $HAPROXY_PRIMARY -U postgres    (HAProxy -> primary)"
  echo "reads:   PGPASSWORD=demo psql -h 127.0.0.1 -p $HAPROXY_REPLICAS -U postgres    (HAProxy -> replicas)"
  echo "state:   ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:$ETCD_PORT get --prefix /service/demo/"
  echo "operate: ./pgkeel ctl -c $DEMO_DIR/node1/pgkeel.yml list    (switchover, failover, pause, edit-config, history...)"
  echo
  echo "type f + Enter for a failover drill (kill -9 of the primary's agent and PostgreSQL),"
  echo "     s + Enter for a planned switchover to the next node; Ctrl-C to stop"
  cmd=""
  if [ -t 0 ]; then read -r -t 2 cmd || true; else sleep 2; fi
  if [ "$cmd" = s ]; then
    p=$(primary_port) || { echo "no primary right now"; sleep 2; continue; }
    q=$((p % 3 + 1))
    start=$(date +%s.%N)
    echo "switching over from node$p to node$q..."
    curl -s -m 60 -X POST -H 'Content-Type: application/json' \
      -d "{\"leader\": \"node$p\", \"candidate\": \"node$q\"}" "http://127.0.0.1:$((API_BASE + p - 1))/switchover"
    echo
    echo "answered after $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
    sleep 3
  fi
  if [ "$cmd" = f ]; then
    p=$(primary_port) || { echo "no primary right now"; sleep 2; continue; }
    pm=$(head -1 "$DEMO_DIR/node$p/data/postmaster.pid")
    agent_pid=$(awk -v n="node$p" '$1 == n {print $2}' "$DEMO_DIR/pids")
    start=$(date +%s.%N)
    kill -KILL "$agent_pid" "$pm" 2>/dev/null || true
    echo "killed node$p (agent and postmaster); waiting for a new primary..."
    until q=$(primary_port) && [ "$q" != "$p" ]; do sleep 0.1; done
    echo "node$q is the new primary after $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
    echo "restarting node$p's agent: it rejoins as a replica (pg_rewind when it diverged)"
    PGKEEL_DIST="$DEMO_DIR/dist" HOME="$DEMO_DIR/node$p" "${as_agent[@]}" "$DEMO_DIR/bin/pgkeel" agent \
      "$DEMO_DIR/node$p/pgkeel.yml" >> "$DEMO_DIR/node$p/agent.log" 2>&1 &
    sed -i "/^node$p /d" "$DEMO_DIR/pids"
    echo "node$p $!" >> "$DEMO_DIR/pids"
    sleep 3
  fi
done
