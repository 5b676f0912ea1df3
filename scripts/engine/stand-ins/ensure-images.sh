#!/usr/bin/env bash
# Makes sure the engine has every upstream image the compose files and services/Dockerfile name. Each is pulled;
# only where the pull fails (no registry reachable, as on this project's CI machines) is a stand-in built under the
# exact upstream name and tag, from a Debian base made with debootstrap and the same releases `make tools`
# installs. Never used where a pull works. Run by engine.sh up, with the docker CLI pointed at the engine.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
here="$repo_root/scripts/engine/stand-ins"
work="$repo_root/.tools/engine/stand-ins"
tools="$repo_root/.tools"
set -a; source "$repo_root/.env"; set +a

BASE_IMAGE=localhost/traced-envoy-mesh-stand-in-base:bookworm
# npm in the node stand-in: Node 24 bundles an npm 11; which 11.x is the stand-in's own choice (the image build
# only runs `npm ci` with it).
NPM_VERSION=11.21.2

say() { echo "images: $*" >&2; }
die() { echo "images: $*" >&2; exit 1; }

# Every upstream image, as compose resolves the names (.env interpolated), plus the base images of the images the
# project builds: each FROM of its Dockerfiles, the ${VERSION}s filled in from .env.
upstream_images() {
  (cd "$repo_root" && docker compose -f docker-compose.yaml config --images \
    && docker compose -f docker-compose.yaml -f docker-compose.jaeger.yaml config --images \
    && docker compose -f docker-compose.yaml -f docker-compose.collector.yaml config --images) \
    | grep -v '^traced-envoy-mesh' | sort -u
  local image name
  sed -n 's/^FROM \([^ ]*\).*/\1/p' "$repo_root/services/Dockerfile" "$repo_root/collector/Dockerfile" | sort -u \
    | while read -r image; do
      while [[ "$image" =~ \$\{([A-Za-z_]+)\} ]]; do
        name="${BASH_REMATCH[1]}"
        image="${image//"\${$name}"/${!name:-}}"
      done
      echo "$image"
    done
}

base_image() {
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return 0
  command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
  mkdir -p "$work"
  if [[ ! -x "$work/rootfs/bin/bash" ]]; then
    say "making a Debian bookworm base with debootstrap (about a minute)"
    rm -rf "$work/rootfs"
    debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
      || { tail -n 5 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  fi
  tar -C "$work/rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null || die "docker import of the base failed"
}

# Copies what the stand-in carries into its build context.
context_files() {
  local kind="$1" context="$2"
  case "$kind" in
    envoy) cp "$(find "$tools/venv" -path '*/envoy/_bin/envoy' -type f | head -n1)" "$context/envoy" ;;
    zipkin) cp "$tools/zipkin-server-$ZIPKIN_VERSION-exec.jar" "$context/zipkin.jar" ;;
    jaeger) cp "$tools/bin/jaeger" "$context/jaeger" ;;
    otel-collector)
      cp "$tools/bin/otelcol-contrib" "$context/otelcol-contrib"
      cp "$repo_root/collector/otel-collector.yaml" "$context/config.yaml" # the image's default config; compose mounts its own
      ;;
    node)
      # The binary the project itself runs on (npm's `node` package: a real file, wherever npm put it).
      cp "$(readlink -f "$repo_root/node_modules/.bin/node")" "$context/node"
      (cd "$context" && npm pack --silent "npm@$NPM_VERSION" >/dev/null && mkdir npm \
        && tar -xzf "npm-$NPM_VERSION.tgz" -C npm --strip-components=1 && rm "npm-$NPM_VERSION.tgz")
      cp /etc/ssl/certs/ca-certificates.crt "$context/"
      ;;
  esac
}

stand_in_kind() {
  case "$1" in
    envoyproxy/envoy:*) echo envoy ;;
    openzipkin/zipkin:*) echo zipkin ;;
    jaegertracing/jaeger:*) echo jaeger ;;
    otel/opentelemetry-collector-contrib:*) echo otel-collector ;;
    node:*) echo node ;;
    *) die "no stand-in for $1: it must be pulled" ;;
  esac
}

# What a stand-in is made from besides its tag's release: its folder here and, for the collector, the component set
# `make tools` built (collector/ocb-manifest.yaml changes it, not the release). A stand-in made from other inputs is
# rebuilt; an image pulled from a registry carries no such label and is left alone.
stand_in_inputs() {
  local kind
  kind="$(stand_in_kind "$1")"
  { cat "$here/$kind"/*; [[ "$kind" != otel-collector ]] || cat "$tools/bin/otelcol-contrib.version" 2>/dev/null; } \
    | sha256sum | cut -c1-16
}
INPUTS_LABEL=traced-envoy-mesh.stand-in-inputs

stand_in() {
  local image="$1" kind
  kind="$(stand_in_kind "$image")"
  base_image
  local context="$work/$kind"
  rm -rf "$context" && mkdir -p "$context"
  cp -r "$here/$kind/." "$context/"
  context_files "$kind" "$context" || die "a file for the $kind stand-in is missing: run make install tools"
  say "building the stand-in $image"
  docker build --quiet --build-arg "BASE=$BASE_IMAGE" --label "$INPUTS_LABEL=$(stand_in_inputs "$image")" \
    -t "$image" "$context" >"$context.log" 2>&1 \
    || { tail -n 20 "$context.log" >&2; die "building the stand-in $image failed"; }
}

for image in $(upstream_images); do
  if docker image inspect "$image" >/dev/null 2>&1; then
    made_from="$(docker image inspect --format "{{ index .Config.Labels \"$INPUTS_LABEL\" }}" "$image")"
    [[ -z "$made_from" || "$made_from" == "<no value>" || "$made_from" == "$(stand_in_inputs "$image")" ]] && continue
    say "the stand-in $image was made from other inputs: rebuilding it"
    stand_in "$image"
    continue
  fi
  if timeout 60 docker pull --quiet "$image" >/dev/null 2>&1; then
    say "pulled $image"
  else
    say "cannot pull $image: no registry answers"
    stand_in "$image"
  fi
done
