#!/usr/bin/env bash
# The app container's healthcheck (installed as /usr/local/bin/healthcheck): asks the app on its LISTEN address
# whether it serves. HTTP role: GET /healthz. gRPC role: the standard grpc.health.v1 Check of the whole server.
# Exit 0 when healthy, 1 otherwise, with the reason on stderr.
#
# curl, not a Node script: a probe runs in every app container every few seconds for as long as the mesh runs, and
# starting Node for each one was a burst that held one of a small machine's cores while requests waited behind it
# (docs/profiling.md, the tail at half load, has the figures). The roles are config.ts's ROLES (the test holds them).
set -uo pipefail

listen=${LISTEN:-127.0.0.1:8080} # services/src/config.ts's default (services/test/healthcheck.test.ts holds the two together)

case "${ROLE:-}" in
  http)
    curl --fail --silent --show-error --max-time 2 --output /dev/null "http://$listen/healthz" || exit 1
    ;;
  grpc)
    # gRPC over HTTP/2 without TLS (what the app serves). A gRPC message is framed as one flag byte and a 4-byte
    # length, so the empty HealthCheckRequest (service "": the whole server) is five zero bytes, and a SERVING
    # answer is 00 00000002 08 01: two bytes of protobuf, field 1 (status) = 1 (SERVING).
    answer=$(printf '\0\0\0\0\0' | curl --silent --show-error --max-time 2 --http2-prior-knowledge \
      --header 'content-type: application/grpc' --header 'te: trailers' --data-binary @- \
      "http://$listen/grpc.health.v1.Health/Check" | od -An -tx1 | tr -d ' \n')
    if [[ "$answer" != 00000000020801 ]]; then
      echo "unhealthy: grpc.health.v1 Check on $listen answered '${answer}', not SERVING (00000000020801)" >&2
      exit 1
    fi
    ;;
  *)
    echo "unhealthy: ROLE must be http or grpc, not '${ROLE:-}'" >&2
    exit 1
    ;;
esac
