#!/usr/bin/env bash
# Podman 4.3 schedules healthchecks through systemd timers only. Where there is no systemd (a container, a CI
# runner), nothing runs them and every container stays "starting": `depends_on: service_healthy` and `up --wait`
# would never return. This scheduler asks Podman to run each running container's healthcheck at the interval the
# container sets, as Docker's daemon does; Podman itself runs the probe and applies start_period and retries.
#
#   healthchecks.sh PODMAN_SOCKET      (started by engine.sh; runs until it is killed)
#
# While a container is in its start_period and not yet healthy, it is probed every START_INTERVAL seconds: what
# Docker 25+ does with a healthcheck's start_interval. The compose files cannot ask for that themselves: compose
# refuses start_interval on an engine below API 1.44, and Podman's Docker-compatible API is 1.41. Without it every
# start or recreate waited a whole interval (the compose files' `interval`) for its first probe. Probing every
# container at a short interval throughout is no substitute: the probes then take a small machine's CPUs from
# everything else (docs/engine.md has the measurement).
#
# It learns of containers from `podman events`, not by polling `podman ps` (a quarter of a CPU while the mesh sat
# idle), and runs each probe through Podman's API, not the podman CLI (about half the CPU per probe here).
#
# Engine plumbing only, started by engine.sh for the project's Podman: never part of what Docker users run.
set -uo pipefail

socket=${1:?usage: healthchecks.sh PODMAN_SOCKET}
START_INTERVAL=1

declare -A probing=() # container id -> pid of its probe loop

# Probes one container until it no longer runs. Podman's API answers 200 with the container's health after the
# probe, 404 when the container is gone and 409 when it no longer runs (its next start starts a new loop).
probe() {
  local id=$1 interval=$2 start_period=$3 started=$SECONDS status=starting answer
  while :; do
    if [[ "$status" != healthy ]] && ((SECONDS - started < start_period)); then
      sleep "$START_INTERVAL"
    else
      sleep "$interval"
    fi
    answer=$(curl -s --max-time 60 --unix-socket "$socket" -w '\n%{http_code}' \
      "http://podman/v4.0.0/libpod/containers/$id/healthcheck")
    case "${answer##*$'\n'}" in
      200) [[ "$answer" =~ \"Status\":\"([a-z]+)\" ]] && status=${BASH_REMATCH[1]} ;;
      404 | 409) return 0 ;;
    esac
  done
}

# (Re)starts a container's probe loop: a restart keeps the id, and it is again in its start period.
watch_container() {
  local id=$1 timings
  # Interval and start period in whole seconds (at least 1), or nothing for a container without a healthcheck.
  timings=$(podman inspect --format \
    '{{with .Config.Healthcheck}}{{.Interval.Nanoseconds}} {{.StartPeriod.Nanoseconds}}{{end}}' "$id" 2>/dev/null \
    | awk 'NF == 2 && $1 > 0 { printf "%d %d", ($1 < 1e9 ? 1 : $1 / 1e9), $2 / 1e9 }')
  [[ -n "$timings" ]] || return 0
  [[ -n "${probing[$id]:-}" ]] && kill "${probing[$id]}" 2>/dev/null
  # shellcheck disable=SC2086 # two numbers, split on purpose
  probe "$id" $timings &
  probing[$id]=$!
}

events_pid=''
trap 'kill $(jobs -p) $events_pid 2>/dev/null; exit 0' TERM INT

while true; do
  # Events from just before the list is read: a container started in between is seen twice, never missed.
  since=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
  # A container whose loop still runs keeps it (restarting it would put it back in its start period).
  for id in $(podman ps --quiet --no-trunc 2>/dev/null); do
    [[ -n "${probing[$id]:-}" ]] && kill -0 "${probing[$id]}" 2>/dev/null && continue
    watch_container "$id"
  done
  exec {events}< <(exec podman events --since "$since" --filter event=start --format '{{.ID}}' 2>&1)
  events_pid=$!
  while read -r id <&"$events"; do watch_container "$id"; done
  exec {events}<&-
  echo "healthchecks: podman events ended; listening again in 1 s" >&2
  sleep 1
done
