#!/usr/bin/env bash
# Podman 4.3 schedules healthchecks through systemd timers only. Where there is no systemd (a container, a CI
# runner), nothing runs them and every container stays "starting": `depends_on: service_healthy` and `up --wait`
# would never return. This loop runs `podman healthcheck run` for each running container at the interval its own
# healthcheck sets, as Docker's daemon does; Podman itself applies start_period and retries.
#
# Engine plumbing only, started by engine.sh for the project's Podman: never part of what Docker users run.
set -uo pipefail

declare -A last_run=()
while true; do
  now=$(date +%s%N)
  # ID and interval (nanoseconds) of every running container that has a healthcheck.
  while read -r id interval; do
    [[ -n "$id" && "$interval" =~ ^[0-9]+$ && "$interval" -gt 0 ]] || continue
    # Docker probes first one interval after the start, then every interval.
    [[ -n "${last_run[$id]:-}" ]] || { last_run[$id]=$now; continue; }
    if (( now - last_run[$id] >= interval )); then
      last_run[$id]=$now
      podman healthcheck run "$id" >/dev/null 2>&1 &
    fi
  done < <(podman ps -q --no-trunc 2>/dev/null | xargs -r podman inspect \
    --format '{{if .Config.Healthcheck}}{{.ID}} {{.Config.Healthcheck.Interval.Nanoseconds}}{{end}}' 2>/dev/null)
  sleep 0.5
done
