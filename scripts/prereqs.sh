#!/usr/bin/env bash
# Installs what pgkeel's build, tests and demo need on Debian/Ubuntu: apt-get when root, otherwise it prints
# the exact line to run. Sourced by test.sh and demo.sh.
#   pgkeel_prereqs           what the build and the demo need
#   pgkeel_prereqs tests     also patronictl (Patroni 3.0), for the interoperability tests
#   pgkeel_prereqs bench     also Patroni and wrk, to measure against Patroni
pgkeel_prereqs() {
  local need=()
  case "${1:-}" in
    tests) command -v patronictl >/dev/null 2>&1 || need+=(patroni) ;;
    bench) command -v patroni >/dev/null 2>&1 || need+=(patroni)
           command -v wrk >/dev/null 2>&1 || need+=(wrk) ;;
  esac
  command -v javac >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
  command -v unzip >/dev/null 2>&1 || need+=(unzip)
  command -v curl >/dev/null 2>&1 || command -v wget >/dev/null 2>&1 || need+=(curl)
  [ -x /usr/bin/etcd ] || need+=(etcd-server)
  command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
  compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || need+=(postgresql)
  command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
  command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  if ((${#need[@]} == 0)); then
    return 0
  fi
  if [ "$(id -u)" = 0 ]; then
    echo "pgkeel: installing ${need[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
  else
    echo "pgkeel: missing packages; install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
    return 1
  fi
}
