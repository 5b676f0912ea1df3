#!/usr/bin/env bash
# Removes the network a container engine left behind when it was killed instead of stopped (its processes killed
# with the machine's session, say, and the kernel's state kept): the containers' network namespaces, netavark's
# bridge with the mesh's subnet still routed on it, and netavark's firewall rules, whose port forwards would still
# send :8000 to the dead containers' addresses. A new Podman refuses the mesh's network while that route is there
# ("subnet 172.31.81.0/24 is already used on the host or by another config").
#
# It touches nothing while any engine process runs on this machine (podman, conmon, netavark, dockerd, containerd, a
# shim): then whatever is there may be someone's. Prints what it removed; safe to repeat.
#
#   scripts/engine/reclaim-dead-network.sh
set -euo pipefail
shopt -s nullglob

say() { echo "engine: $*" >&2; }

# A process that runs (a zombie, which some killed parents leave, does not). containerd-shim is how the kernel names
# containerd-shim-runc-v2 (15 characters).
runs() { ps -eo stat=,comm= | awk -v name="$1" '$1 !~ /^Z/ && $2 == name { found = 1 } END { exit !found }'; }
for process in podman conmon netavark dockerd containerd containerd-shim; do
  runs "$process" && exit 0
done

# netavark keeps its DNS records and address allocations for every rootful Podman on the machine in one place, by
# network name, whatever the storage: a killed engine's containers stay there, and the next mesh's names answer
# with two addresses, the dead one first as often as not (Envoy then connects to nothing: "connection timeout").
# With no container running on the machine, none of them is valid: its DNS server (which outlives its engine while
# it has records) and all of them go.
netavark_run=/run/containers/networks
if [[ -d "$netavark_run/aardvark-dns" ]]; then
  if runs aardvark-dns; then
    pkill -x aardvark-dns && say "stopped the DNS server (aardvark-dns) a dead engine left"
  fi
  for records in "$netavark_run"/aardvark-dns/*; do
    [[ "$records" == */aardvark.pid ]] && continue
    rm -f "$records" && say "removed a dead engine's DNS records (${records##*/})"
  done
  rm -f "$netavark_run/ipam.db" # the dead containers' addresses, still allocated
fi

# Podman names its network namespaces netns-<uuid>; a namespace no process is in is a dead container's.
for namespace in /run/netns/netns-*; do
  name="${namespace##*/}"
  [[ -z "$(ip netns pids "$name" 2>/dev/null)" ]] || continue
  ip netns delete "$name" 2>/dev/null && say "removed a dead container's network namespace ($name)"
done

# With its containers' namespaces gone, a Podman bridge has nothing attached: the kernel destroys their veth pairs
# a moment after the namespace (up to 5 s here).
for bridge in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | grep -E '^podman[0-9]+$' || true); do
  for _ in $(seq 1 50); do
    [[ -z "$(ip -o link show master "$bridge" 2>/dev/null)" ]] && break
    sleep 0.1
  done
  [[ -z "$(ip -o link show master "$bridge" 2>/dev/null)" ]] || continue
  ip link delete "$bridge" && say "removed the dead engine's bridge $bridge"
done

# netavark's rules: every jump into a NETAVARK chain from the tables' own chains, then the chains themselves.
command -v iptables >/dev/null || exit 0
for table in nat filter; do
  rules="$(iptables -t "$table" -S 2>/dev/null || true)"
  grep -q NETAVARK <<<"$rules" || continue
  grep -E '^-A [A-Z]+ .*-j NETAVARK' <<<"$rules" | grep -vE '^-A NETAVARK' | sed 's/^-A /-D /' |
    while read -r rule; do eval "iptables -t $table $rule"; done
  for chain in $(grep -oE '^-N NETAVARK[-_A-Z0-9]*' <<<"$rules" | cut -d' ' -f2); do
    iptables -t "$table" -F "$chain"
  done
  for chain in $(grep -oE '^-N NETAVARK[-_A-Z0-9]*' <<<"$rules" | cut -d' ' -f2); do
    iptables -t "$table" -X "$chain"
  done
  say "removed the dead engine's firewall rules (table $table)"
done
