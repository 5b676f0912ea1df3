#!/usr/bin/env bash
# Podman 4.3 schedules healthchecks through systemd timers only. Where there is no systemd (a container, a CI
# runner), nothing runs them and every container stays "starting": `depends_on: service_healthy` and `up --wait`
# would never return. This scheduler runs `podman healthcheck run` for each running container at the interval its
# own healthcheck sets, as Docker's daemon does (the first probe one interval after the start); Podman itself applies
# start_period and retries.
#
# It learns of containers from `podman events`, not by asking Podman for the list: polling `podman ps` and
# `podman inspect` twice a second cost this 2-vCPU machine about a quarter of a CPU while the mesh sat idle, CPU that the
# benchmark and the tests then lacked.
#
# Engine plumbing only, started by engine.sh for the project's Podman: never part of what Docker users run.
set -uo pipefail

declare -A probing=() # container id -> pid of its probe loop

# Probes one container every interval until it no longer runs. Exit codes of `podman healthcheck run`: 0 healthy,
# 1 unhealthy; anything else is a question for the engine: is the container still running?
probe() {
  local id=$1 seconds=$2
  while sleep "$seconds"; do
    podman healthcheck run "$id" >/dev/null 2>&1
    (($? <= 1)) && continue
    [[ "$(podman inspect --format '{{.State.Running}}' "$id" 2>/dev/null)" == true ]] || return 0
  done
}

# (Re)starts a container's probe loop: a restart keeps the id, and its first probe is again one interval away.
watch_container() {
  local id=$1 nanoseconds
  nanoseconds=$(podman inspect --format '{{if .Config.Healthcheck}}{{.Config.Healthcheck.Interval.Nanoseconds}}{{end}}' "$id" 2>/dev/null)
  [[ "$nanoseconds" =~ ^[0-9]+$ && "$nanoseconds" -gt 0 ]] || return 0
  [[ -n "${probing[$id]:-}" ]] && kill "${probing[$id]}" 2>/dev/null
  probe "$id" "$(awk -v ns="$nanoseconds" 'BEGIN { printf "%.3f", ns / 1e9 }')" &
  probing[$id]=$!
}

events_pid=''
trap 'kill $(jobs -p) $events_pid 2>/dev/null; exit 0' TERM INT

while true; do
  # Events from just before the list is read: a container started in between is seen twice, never missed.
  since=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
  for id in $(podman ps --quiet --no-trunc 2>/dev/null); do watch_container "$id"; done
  exec {events}< <(exec podman events --since "$since" --filter event=start --format '{{.ID}}' 2>&1)
  events_pid=$!
  while read -r id <&"$events"; do watch_container "$id"; done
  exec {events}<&-
  echo "healthchecks: podman events ended; listening again in 1 s" >&2
  sleep 1
done
