# tools/naughty.sh: the naughty-VM scenario of VScope §4.2 on the SIMULATED Dom0, sourced by
# tools/demo and bench/shaping. Network namespaces stand in for the VMs (tools/testbed); every
# VM runs the real vscope-agent, unprivileged, probing an echo server on the remote host every
# 10 ms and reporting through vscoped's real CURVE intake; vm2 is the naughty VM, vm1 the good.
#
# The caller sets: top (source tree), build (build tree), P (testbed prefix), RUN (a state
# directory of its own, removed by nv_down). Functions return non-zero with a message on
# stderr; none of them exits.

NV_VMS=${NV_VMS:-4}
NV_REMOTE=10.77.1.1             # the remote host behind the shared NIC (tools/testbed)
NV_DOM0=10.77.1.2               # Dom0's address on xenbr0: the intake listens there
NV_ECHO_PORT=7000
NV_IPERF_PORT=5201
NV_PROBE=rr                     # the agents' probe: 64-byte TCP request/response
NV_AGENT_STATSD=${NV_AGENT_STATSD:-0}       # the agents' StatsD port (0: off)
NV_AGENT_HSPERF=${NV_AGENT_HSPERF:-none}    # where they look for JVMs (none: off)
NV_NOBODY=65534
NV_VSCOPED_CONF=${NV_VSCOPED_CONF:-}      # more lines for vscoped.conf (e.g. master-endpoint)
NV_AGENT_CONF=${NV_AGENT_CONF:-}          # more lines for every agent.conf (e.g. log = ...)
nv_vpid=
nv_apids=

# Background jobs call "$NV_TESTBED" directly, not nv_tb: a function would run in a subshell
# and $! would be that subshell, not the program (testbed execs nsenter, which execs it).
NV_TESTBED=$top/tools/testbed
nv_tb() { "$NV_TESTBED" --prefix "$P" "$@"; }
nv_vs() { "$build/tools/vscope" -s "ipc://$RUN/vscoped.sock" --timeout 5 "$@"; }
nv_err() { echo "naughty: $*" >&2; return 1; }

# nv_up: testbed with NV_VMS VMs, vscoped (intake on, shaping state in $RUN/shaping) in
# Dom0, the echo and iperf3 servers on the remote host, an agent in every VM
nv_up() {
	local d pub
	for c in "$build/dom0d/vscoped" "$build/tools/vscope" "$build/guest-agent/vscope-agent" \
	    "$build/tests/tcprr"; do
		[ -x "$c" ] || { nv_err "$c is not built"; return 1; }
	done
	command -v iperf3 >/dev/null || { nv_err "needs iperf3"; return 1; }
	nv_tb down >/dev/null 2>&1
	rm -rf "$RUN"
	mkdir -p "$RUN/keys" && chmod 755 "$RUN" || return 1
	nv_tb up --vms "$NV_VMS" >"$RUN/testbed.log" 2>&1 ||
		{ nv_err "testbed up failed: $(tail -3 "$RUN/testbed.log")"; return 1; }
	for d in $(seq "$NV_VMS"); do
		"$build/guest-agent/vscope-agent" -g "$RUN/vm$d.key" >/dev/null &&
			chown "$NV_NOBODY" "$RUN/vm$d.key" &&
			"$build/tools/vscope" agent-key -D "$RUN/keys" add "vm$d" "$RUN/vm$d.key" \
				>/dev/null || { nv_err "agent key for vm$d"; return 1; }
	done
	cat >"$RUN/vscoped.conf" <<EOF
interval = 100ms
intake-endpoint = tcp://$NV_DOM0:7790
intake-key = $RUN/intake.key
agent-keys = $RUN/keys
$NV_VSCOPED_CONF
EOF
	"$NV_TESTBED" --prefix "$P" dom0 "$build/dom0d/vscoped" -f --stderr -c "$RUN/vscoped.conf" \
		-H "libvirt:test://$(nv_tb xml)" -s "ipc://$RUN/vscoped.sock" -p "$RUN/vscoped.pid" \
		--shaping-dir "$RUN/shaping" 2>"$RUN/vscoped.log" &
	nv_vpid=$!
	for _ in $(seq 100); do
		nv_vs list >/dev/null 2>&1 && grep -q "intake: child .* ready" "$RUN/vscoped.log" &&
			break
		sleep 0.1
	done
	grep -q "intake: child .* ready" "$RUN/vscoped.log" ||
		{ nv_err "vscoped or its intake did not start: $(tail -5 "$RUN/vscoped.log")"; return 1; }
	pub=$(sed -n 's/^public-key = //p' "$RUN/intake.key")
	[ -n "$pub" ] || { nv_err "no public key in $RUN/intake.key"; return 1; }
	"$NV_TESTBED" --prefix "$P" remote "$build/tests/tcprr" -l "$NV_ECHO_PORT" >/dev/null 2>&1 &
	nv_tb remote iperf3 -s -D -p "$NV_IPERF_PORT" >/dev/null || { nv_err "iperf3 -s"; return 1; }
	for d in $(seq "$NV_VMS"); do
		cat >"$RUN/vm$d.conf" <<EOF
endpoint = tcp://$NV_DOM0:7790
server-key = "$pub"
key-file = $RUN/vm$d.key
interval = 1s
xenstore = no
statsd-port = $NV_AGENT_STATSD
hsperf-dir = $NV_AGENT_HSPERF
probe = $NV_PROBE tcp interval=10ms timeout=2s send=64 expect=64 $NV_REMOTE:$NV_ECHO_PORT
$NV_AGENT_CONF
EOF
		chmod 644 "$RUN/vm$d.conf"
		"$NV_TESTBED" --prefix "$P" exec "vm$d" setpriv --reuid=$NV_NOBODY --regid=$NV_NOBODY --clear-groups \
			"$build/guest-agent/vscope-agent" -f -c "$RUN/vm$d.conf" 2>"$RUN/vm$d.log" &
		nv_apids="$nv_apids $!"
	done
	# every agent's first summary has arrived
	for _ in $(seq 50); do
		nv_reporting && return 0
		sleep 0.2
	done
	nv_err "not every agent reports: $(tail -n 3 "$RUN"/vm*.log "$RUN/vscoped.log")"
}

# nv_reporting: every VM's agent has delivered a latency summary
nv_reporting() {
	local d
	for d in $(seq "$NV_VMS"); do
		nv_vs metrics "vm$d" "app.latency.$NV_PROBE.p99_us" 2>/dev/null |
			grep -q "app.latency.$NV_PROBE.p99_us" || return 1
	done
}

# nv_flood KIND SECS OUT: the naughty VM floods the shared NIC (tcp: iperf3 TCP; udp: iperf3
# UDP at 400 Mbit/s, four times the NIC) for SECS seconds in the background; iperf3's JSON
# report goes to OUT; the pid is in $nv_fpid
nv_flood() {
	local opts=
	[ "$1" = udp ] && opts="-u -b 400M -l 1400"
	# shellcheck disable=SC2086
	"$NV_TESTBED" --prefix "$P" exec vm2 iperf3 -c "$NV_REMOTE" -p "$NV_IPERF_PORT" $opts -t "$2" -J >"$3" 2>&1 &
	nv_fpid=$!
}

# nv_down: stop everything and remove the testbed
nv_down() {
	local p
	for p in $nv_apids; do kill "$p" 2>/dev/null; done
	[ -n "$nv_vpid" ] && kill "$nv_vpid" 2>/dev/null && wait "$nv_vpid" 2>/dev/null
	nv_vpid=
	nv_apids=
	nv_tb down >/dev/null 2>&1
	rm -rf "$RUN"
}
