#!/usr/bin/env bash
# Starts or stops a Podman engine for the container test path, configured
# for these machines without touching system files: runc with the cgroupfs
# manager (crun refuses cgroup v1 "hybrid" mounts), default ulimits below the
# VM's hard limits (podman's defaults fail with setrlimit EPERM), and its
# Docker-compatible API on a socket in DIR, which Testcontainers reaches via
# DOCKER_HOST.
#   engine.sh start DIR   write DIR/containers.conf, start the API service,
#                         wait until it answers, print the variables to export
#   engine.sh stop DIR    stop the service and remove every container it ran
set -euo pipefail

command="${1:?usage: engine.sh start|stop DIR}"
dir="${2:?usage: engine.sh start|stop DIR}"
export CONTAINERS_CONF="$dir/containers.conf"

case "$command" in
  start)
    command -v podman >/dev/null || { echo 'engine.sh: podman not found: apt-get install -y podman runc' >&2; exit 1; }
    mkdir -p "$dir"
    cat >"$CONTAINERS_CONF" <<'CONF'
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
CONF
    podman system service --time=0 "unix://$dir/podman.sock" >"$dir/service.log" 2>&1 &
    echo $! >"$dir/service.pid"
    for _ in $(seq 1 300); do
      if curl -sf --unix-socket "$dir/podman.sock" http://d/_ping >/dev/null 2>&1; then
        echo "export CONTAINERS_CONF='$CONTAINERS_CONF' DOCKER_HOST='unix://$dir/podman.sock' TESTCONTAINERS_RYUK_DISABLED=true"
        exit 0
      fi
      kill -0 "$(cat "$dir/service.pid")" 2>/dev/null || break
      sleep 0.1
    done
    echo "engine.sh: the podman API service did not answer on $dir/podman.sock; its log:" >&2
    cat "$dir/service.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/service.pid" ]; then
      podman ps -aq --filter label=org.testcontainers=true 2>/dev/null | xargs -r podman rm -f >/dev/null 2>&1 || true
      kill "$(cat "$dir/service.pid")" 2>/dev/null || true
      rm -f "$dir/service.pid"
    fi
    ;;
  *) echo "engine.sh: unknown command $command (start or stop)" >&2; exit 2 ;;
esac
