#!/usr/bin/env bash
# As upstream's: flags alone run envoy with them; started as root, Envoy runs as ENVOY_UID (default 101).
set -e
if [[ "${1:0:1}" == "-" ]]; then set -- envoy "$@"; fi
if [[ "$(id -u)" == 0 && "${ENVOY_UID:-101}" != 0 ]]; then
  exec setpriv --reuid="${ENVOY_UID:-101}" --regid="${ENVOY_GID:-101}" --clear-groups "$@"
fi
exec "$@"
