#!/usr/bin/env bash
# The container engine the mesh runs on: `docker compose` against Docker where Docker answers, else against an
# engine this project starts from Debian's packages, its state kept in .tools/engine/ and its API on a socket there:
# Podman (the default), or Docker Engine (ENGINE=docker), so both engines users have can be proved on one Linux
# machine. Nothing here changes the machine's global container configuration.
#
#   scripts/engine/engine.sh up       make the engine answer (installs the packages when missing; needs root)
#   scripts/engine/engine.sh env      the variables that point the docker CLI at it (eval "$(engine.sh env)")
#   scripts/engine/engine.sh down     stop the engine the project started, if any; safe to repeat
#   scripts/engine/engine.sh status   which engine answers
#   scripts/engine/engine.sh name     its name and version only ("Podman Engine 4.3.1"), for the benchmark's results
#
# ENGINE=podman|docker picks the engine `up` starts where no Docker answers (default podman); one runs at a time.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo_root/scripts/engine"
state="$repo_root/.tools/engine"
socket="$state/podman.sock"       # Podman's own Docker-compatible API
api_socket="$state/docker.sock"   # what the docker CLI talks to: the network-id adapter in front of Podman < 5.4
compose_plugin_dir="$repo_root/.tools/docker"
docker_state="$state/docker"            # the project's Docker Engine: its data, its exec root and its log
docker_socket="$docker_state/docker.sock"

# Docker's API 1.41 is the oldest Compose v2 accepts; Podman 4.3 serves it (Debian 12's Podman).
MIN_PODMAN=4.3
PODMAN_PACKAGES=(podman runc netavark aardvark-dns iptables uidmap slirp4netns fuse-overlayfs catatonit debootstrap)
# Debian 12's Docker Engine 20.10 (API 1.41, containerd 1.6); debootstrap makes the stand-ins' base.
DOCKER_PACKAGES=(docker.io iptables debootstrap)

say() { echo "engine: $*" >&2; }
die() { echo "engine: $*" >&2; exit 1; }

# A Docker engine the CLI reaches as it is (Docker Desktop, Docker Engine, or DOCKER_HOST set by the user).
# (The sockets of the engines this project starts, exported by `engine.sh env`, do not count.)
docker_answers() {
  case "${DOCKER_HOST:-}" in
    "unix://$socket" | "unix://$api_socket" | "unix://$docker_socket") return 1 ;;
  esac
  docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1
}

# Debian's docker CLI (and the one this kind of machine ships) has no compose plugin: then the project's.
compose_plugin_env() {
  docker compose version >/dev/null 2>&1 || echo "export DOCKER_CONFIG='$compose_plugin_dir'"
}

docker_engine_env() {
  echo "export DOCKER_HOST='unix://$docker_socket'"
  compose_plugin_env
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
  if docker_answers; then
    compose_plugin_env
  elif [[ -S "$docker_socket" ]]; then
    docker_engine_env
  elif [[ -S "$socket" ]]; then
    podman_env
  else
    compose_plugin_env
    # Said on stderr, so `eval` still takes stdout: evaluated before `make engine`, this points nowhere, and docker
    # would then only say it cannot reach /var/run/docker.sock.
    say "no container engine answers: run \`make engine\` first, then evaluate this again"
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

# Installs the Debian packages that are missing.   install_packages WHAT PACKAGE...
install_packages() {
  local what="$1" missing=()
  shift
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null \
    || die "no Docker engine answers and $what's packages are missing (${missing[*]}): install Docker or those packages"
  say "installing ${missing[*]} from Debian's packages"
  # A package must not start its daemon for the whole machine (docker.io would, on /var/run/docker.sock).
  local policy=/usr/sbin/policy-rc.d added_policy=false
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added_policy=true
  fi
  local installed=true
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null || installed=false
  if $added_policy; then rm -f "$policy"; fi
  $installed || die "apt-get install ${missing[*]} failed"
}

# The engine's name and version as the API gives them: "Docker Engine 20.10.24+dfsg1", "Podman Engine 4.3.1".
engine_name() {
  docker version --format '{{range .Server.Components}}{{.Name}} {{.Version}}{{"\n"}}{{end}}' 2>/dev/null \
    | sed -n '1{s/^Engine /Docker Engine /;p;}' # sed reads every line: `head` would end the pipe early (SIGPIPE)
}

# The images every compose file names, then the ready line.
images_and_ready() {
  "$here/stand-ins/ensure-images.sh"
  say "ready: $(engine_name), compose $(docker compose version --short 2>/dev/null || echo 'missing')"
}

# Unmounts what is mounted in Podman's storage (containers' root filesystems, their /dev/shm), deepest first.
unmount_storage() {
  { grep -o "$state/storage/[^ ]*" /proc/mounts 2>/dev/null || true; } | sort -r | while read -r mount; do
    umount "$mount" 2>/dev/null || true
  done
}

# A Podman killed with its containers (its processes killed with the machine's session, say) still records them as
# running, in network namespaces that are gone, and runc still holds their state: the next `up` fails. Without its
# alive file Podman refreshes every container's state as after a reboot (tmp_dir is meant to be a tmpfs; this one is
# not); runc forgets the stopped containers whose bundles are in this project's storage.
forget_killed_containers() {
  rm -f "$state/tmp/alive"
  unmount_storage # the killed containers' root filesystems and /dev/shm mounts: `down` could not remove them
  runc list 2>/dev/null | awk -v storage="$state/storage/" '$3 == "stopped" && index($4, storage) == 1 {print $1}' |
    while read -r id; do runc delete --force "$id" >/dev/null 2>&1 || true; done
}

start_podman() {
  install_packages Podman "${PODMAN_PACKAGES[@]}"
  local version
  version="$(podman --version | awk '{print $3}')"
  version_at_least "$version" "$MIN_PODMAN" || die "Podman $version is too old: $MIN_PODMAN or newer is needed"
  write_podman_config
  eval "$(podman_env)"
  if ! answers_ping "$socket"; then
    pgrep -x conmon >/dev/null || forget_killed_containers
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
}

# Docker Engine as Debian packages it, started by hand (this kind of machine has no systemd), with its data, its
# exec root (and so its containerd) and its socket under .tools/engine/docker/.
start_docker_engine() {
  install_packages "Docker Engine" "${DOCKER_PACKAGES[@]}"
  mkdir -p "$docker_state"
  if ! answers_ping "$docker_socket"; then
    say "starting $(dockerd --version | sed 's/^Docker version /Docker Engine /; s/,.*//') on $docker_socket"
    rm -f "$docker_socket"
    nohup dockerd --host "unix://$docker_socket" --data-root "$docker_state/data" --exec-root "$docker_state/exec" \
      --pidfile "$docker_state/dockerd.pid" >"$docker_state/dockerd.log" 2>&1 &
    await_ping "$docker_socket" "$docker_state/dockerd.log" "Docker Engine"
  fi
  eval "$(docker_engine_env)"
}

cmd_up() {
  local wanted="${ENGINE:-podman}"
  [[ "$wanted" == podman || "$wanted" == docker ]] || die "ENGINE must be podman or docker, not \"$wanted\""
  if docker_answers; then
    local api
    api="$(docker version --format '{{.Server.APIVersion}}')"
    version_at_least "$api" 1.41 || die "Docker answers with API $api; Compose v2 needs 1.41 or newer: update Docker"
    say "using the Docker engine the docker CLI reaches (API $api)"
    eval "$(compose_plugin_env)"
    images_and_ready
    return 0
  fi
  [[ "$(uname -s)" == Linux ]] || die "no Docker engine answers: start Docker Desktop (or Docker Engine) and retry"
  [[ -x "$compose_plugin_dir/cli-plugins/docker-compose" ]] || die "the Compose v2 plugin is missing: run make tools"
  # One project engine at a time: both would publish the mesh's ports. `make engine` with no ENGINE keeps the one
  # that runs, so the targets that depend on it (test-e2e, start, bench) do not switch engines under the user.
  if answers_ping "$docker_socket"; then
    [[ -z "${ENGINE:-}" || "$wanted" == docker ]] || die "the project's Docker Engine runs: make engine-stop first"
    wanted=docker
  elif answers_ping "$socket"; then
    [[ -z "${ENGINE:-}" || "$wanted" == podman ]] || die "the project's Podman runs: make engine-stop first"
  fi
  "$here/reclaim-dead-network.sh" # what an engine killed on this machine left; nothing while one runs
  case "$wanted" in
    docker) start_docker_engine ;;
    podman) start_podman ;;
  esac
  images_and_ready
}

# Stops the project's Docker Engine: dockerd stops the containers, then its containerd; waits up to 30 s.
stop_docker_engine() {
  local pidfile="$docker_state/dockerd.pid"
  [[ -f "$pidfile" ]] || return 0
  local pid
  pid="$(cat "$pidfile")"
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && say "Docker Engine (pid $pid) did not stop within 30 s"
  fi
  rm -f "$pidfile" "$docker_socket"
  { grep -o "$docker_state/[^ ]*" /proc/mounts 2>/dev/null || true; } | sort -r | while read -r mount; do
    umount "$mount" 2>/dev/null || true
  done
  # dockerd leaves its default bridge up, and containerd's shims their socket directory (empty): they made them.
  ip link delete docker0 2>/dev/null || true
  rmdir /run/containerd/s /run/containerd 2>/dev/null || true
}

cmd_down() {
  stop_docker_engine
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
  unmount_storage # the storage's mounts outlive the API service; leave none behind
  say "stopped"
}

cmd_status() {
  eval "$(cmd_env)"
  if docker version >/dev/null 2>&1; then
    echo "engine: $(engine_name), API $(docker version --format '{{.Server.APIVersion}}'), at ${DOCKER_HOST:-the default docker socket}"
  else
    echo "engine: none answers (make engine starts one)"
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  env) cmd_env ;;
  down) cmd_down ;;
  status) cmd_status ;;
  name) eval "$(cmd_env 2>/dev/null)" && engine_name ;;
  *) die "usage: engine.sh up|env|down|status|name" ;;
esac
