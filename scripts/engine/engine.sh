#!/usr/bin/env bash
# The container engine the mesh runs on: `docker compose` against Docker where Docker answers, else against this
# project's own Podman (Debian's packages, its configuration and storage kept in .tools/engine/, its
# Docker-compatible API on a socket there). Nothing here changes the machine's global container configuration.
#
#   scripts/engine/engine.sh up       make the engine answer (installs Podman's packages when missing; needs root)
#   scripts/engine/engine.sh env      the variables that point the docker CLI at it (eval "$(engine.sh env)")
#   scripts/engine/engine.sh down     stop the project's Podman (and its healthcheck scheduler); safe to repeat
#   scripts/engine/engine.sh status   which engine answers
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo_root/scripts/engine"
state="$repo_root/.tools/engine"
socket="$state/podman.sock"       # Podman's own Docker-compatible API
api_socket="$state/docker.sock"   # what the docker CLI talks to: the network-id adapter in front of Podman < 5.4
compose_plugin_dir="$repo_root/.tools/docker"

# Docker's API 1.41 is the oldest Compose v2 accepts; Podman 4.3 serves it (Debian 12's Podman).
MIN_PODMAN=4.3
PODMAN_PACKAGES=(podman runc netavark aardvark-dns iptables uidmap slirp4netns fuse-overlayfs catatonit debootstrap)

say() { echo "engine: $*" >&2; }
die() { echo "engine: $*" >&2; exit 1; }

# A Docker engine the CLI reaches as it is (Docker Desktop, Docker Engine, or DOCKER_HOST set by the user).
# (The project's own Podman socket, exported by `engine.sh env`, does not count.)
docker_answers() {
  [[ "${DOCKER_HOST:-}" != "unix://$socket" && "${DOCKER_HOST:-}" != "unix://$api_socket" ]] \
    && docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1
}

podman_env() {
  echo "export CONTAINERS_CONF='$state/containers.conf'"
  echo "export CONTAINERS_STORAGE_CONF='$state/storage.conf'"
  if [[ -S "$api_socket" ]]; then echo "export DOCKER_HOST='unix://$api_socket'"; else echo "export DOCKER_HOST='unix://$socket'"; fi
  # Compose would otherwise start a BuildKit container from Docker Hub; Podman's API builds with the classic builder.
  echo "export DOCKER_BUILDKIT=0"
  # The Compose v2 plugin built by `make tools` (scripts/install-tools.sh compose).
  echo "export DOCKER_CONFIG='$compose_plugin_dir'"
}

cmd_env() {
  if [[ -S "$socket" ]] && ! docker_answers; then
    podman_env
  else
    if ! docker compose version >/dev/null 2>&1; then
      echo "export DOCKER_CONFIG='$compose_plugin_dir'" # a docker CLI without the compose plugin: the project's
    fi
    # Said on stderr, so `eval` still takes stdout: evaluated before `make engine`, this points nowhere, and docker
    # would then only say it cannot reach /var/run/docker.sock.
    docker_answers || say "no container engine answers: run \`make engine\` first, then evaluate this again"
  fi
}

version_at_least() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }

answers_ping() { curl -sf --unix-socket "$1" http://d/_ping >/dev/null 2>&1; }

# Waits up to 10 s for a Docker API on SOCKET; else shows the end of LOG and stops.   await_ping SOCKET LOG WHAT
await_ping() {
  for _ in $(seq 1 100); do
    answers_ping "$1" && return 0
    sleep 0.1
  done
  tail -n 20 "$2" >&2
  die "$3 did not answer on $1"
}

write_podman_config() {
  mkdir -p "$state"/{storage,run,tmp,networks}
  # runc: Debian 12's crun 1.8.1 fails here ("cgroups in hybrid mode not supported"). The ulimits: Podman's default
  # nofile is more than root may set on this kind of machine. The file event logger and cgroupfs: no systemd.
  cat >"$state/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
events_logger = "file"
cgroup_manager = "cgroupfs"
tmp_dir = "$state/tmp"
# A finished healthcheck's conmon lingers this many seconds (default 300): the scheduler starts one every few seconds.
exit_command_delay = 5

[network]
network_backend = "netavark"
network_config_dir = "$state/networks"
CONF
  cat >"$state/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$state/storage"
runroot = "$state/run"
CONF
}

cmd_up() {
  if docker_answers; then
    local api
    api="$(docker version --format '{{.Server.APIVersion}}')"
    version_at_least "$api" 1.41 || die "Docker answers with API $api; Compose v2 needs 1.41 or newer: update Docker"
    say "using the Docker engine the docker CLI reaches (API $api)"
    return 0
  fi
  [[ "$(uname -s)" == Linux ]] || die "no Docker engine answers: start Docker Desktop (or Docker Engine) and retry"
  local missing=()
  for package in "${PODMAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
  done
  if ((${#missing[@]} > 0)); then
    [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null \
      || die "no Docker engine answers and Podman's packages are missing (${missing[*]}): install Docker or those packages"
    say "installing ${missing[*]} from Debian's packages"
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
  fi
  local version
  version="$(podman --version | awk '{print $3}')"
  version_at_least "$version" "$MIN_PODMAN" || die "Podman $version is too old: $MIN_PODMAN or newer is needed"
  [[ -x "$compose_plugin_dir/cli-plugins/docker-compose" ]] || die "the Compose v2 plugin is missing: run make tools"
  write_podman_config
  eval "$(podman_env)"
  if ! answers_ping "$socket"; then
    say "starting Podman $version's Docker-compatible API on $socket"
    rm -f "$socket"
    nohup podman system service --time=0 "unix://$socket" >"$state/service.log" 2>&1 &
    echo $! >"$state/service.pid"
    await_ping "$socket" "$state/service.log" "Podman's API"
  fi
  # Podman < 5.4 reports a network's name where Docker reports its id; compose would recreate every container on
  # every `up` (containers/podman#24910). The adapter answers as Docker does.
  if ! version_at_least "$version" 5.4 && ! answers_ping "$api_socket"; then
    local node="$repo_root/node_modules/.bin/node"
    [[ -x "$node" ]] || die "Node is missing for the network-id adapter: run make install"
    rm -f "$api_socket"
    (cd "$repo_root" && exec nohup "$node" --import tsx "$here/network-id-adapter.ts" "$api_socket" "$socket") \
      >"$state/adapter.log" 2>&1 &
    echo $! >"$state/adapter.pid"
    await_ping "$api_socket" "$state/adapter.log" "the network-id adapter"
  fi
  eval "$(podman_env)"
  if ! pgrep -f "$here/healthchecks.sh" >/dev/null; then
    # Podman 4.3 runs healthchecks from systemd timers only; without systemd a container would stay "starting".
    nohup "$here/healthchecks.sh" "$socket" >"$state/healthchecks.log" 2>&1 &
    echo $! >"$state/healthchecks.pid"
  fi
  "$here/stand-ins/ensure-images.sh"
  say "ready: Podman $version, $(docker compose version --short 2>/dev/null || echo 'compose missing')"
}

cmd_down() {
  if [[ -S "$socket" ]]; then
    eval "$(podman_env)"
    podman stop --all --time 10 >/dev/null 2>&1 || true
  fi
  for name in healthchecks adapter service; do
    local pidfile="$state/$name.pid"
    [[ -f "$pidfile" ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
  pkill -f "$here/healthchecks.sh" 2>/dev/null || true
  rm -f "$socket" "$api_socket"
  # The storage's overlay mounts outlive the API service; leave none behind.
  grep -o "$state/storage/overlay[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r mount; do
    umount "$mount" 2>/dev/null || true
  done
  say "stopped"
}

cmd_status() {
  eval "$(cmd_env)"
  if docker version >/dev/null 2>&1; then
    echo "engine: $(docker version --format '{{.Server.Platform.Name}}, API {{.Server.APIVersion}}'), at ${DOCKER_HOST:-the default docker socket}"
  else
    echo "engine: none answers (make engine starts one)"
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  env) cmd_env ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) die "usage: engine.sh up|env|down|status" ;;
esac
