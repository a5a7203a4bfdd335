#!/bin/bash
# The checks of `make check-xen`, run by /init inside the Dom0 that tests/xen/run.sh boots
# under QEMU, once xenstored, xenconsoled and xenbr0 (10.0.0.1/24) are up.  Results go to the
# serial console as "VSCOPE-TAP: <TAP line>"; run.sh turns them into its TAP output.
# Every wait is bounded; times come from bash's $EPOCHREALTIME (microseconds).
set -u
export PATH=/test/bin:/usr/lib/xen-4.17/bin:/bin
SOCK=ipc:///run/vscoped.sock
DOMU=vscope-domu
MAC=00:16:3e:5c:0e:01
LIMIT_MS=1000           # a domain must show up in / leave `vscope list` within this
IEP=tcp://10.0.0.1:7790 # vscoped's guest intake, on the bridge (the DomU learns it from xenstore)
PROBE=dom0echo          # the agent's tcp probe (tests/xen/agent.conf) against nc -e cat on :7
SHAPE_BPS=1000000       # vscope shape --rate 1mbit: well below what the DomU's flood does under TCG
FLOOD_MIN_BPS=$((4 * SHAPE_BPS))        # the unshaped flood must reach this
PLAN=28

n=0
tap() { echo "VSCOPE-TAP: $*"; }
note() { tap "# $*"; }
# check STATUS DESCRIPTION: STATUS 0 is ok
check() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then tap "ok $n - $2"; else tap "not ok $n - $2"; fi
}
# now_ms: milliseconds into $NOW, without a subshell (a fork costs ~10 ms under TCG)
now_ms() { local t=${EPOCHREALTIME/[.,]/}; NOW=$((t / 1000)); }
# the JSON an object per line, blanks dropped: '{"name":"vif1.0","devid":0,...'
flat() { tr -d ' \t\r\n' | tr '{' '\n'; }
vscope_q() { timeout 5 vscope -s "$SOCK" "$@" 2>>/tmp/vscope.err; }
dump() {
	local f
	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "VSCOPE-LOG: ---- $f"
		tail -n 60 "$f" | sed 's/^/VSCOPE-LOG: /'
	done
}

tap "1..$PLAN"
have_vscoped=0
[ -x /test/bin/vscoped ] && [ -x /test/bin/vscope ] && have_vscoped=1
# the TCP echo server of the agent's probe: one cat per connection (the probe keeps one open)
nc -ll -p 7 -e cat </dev/null >/dev/null 2>&1 &
echo_pid=$!

# ---- the backend alone ------------------------------------------------------------------
hvprobe -t 200 >/tmp/hvprobe-start.log 2>&1
rc=$?
grep -q '^hvprobe: dom id=0 name=Domain-0 .* vifs=$' /tmp/hvprobe-start.log
check $((rc | $?)) "xen backend opens and lists Domain-0 (hvprobe)"
sed -n 's/^hvprobe: timing \(.*\)/xen backend \1 (under TCG)/p' /tmp/hvprobe-start.log |
	while read -r l; do note "$l"; done
[ $rc -eq 0 ] || dump /tmp/hvprobe-start.log

hvprobe -u 65534 -t 0 >/tmp/hvprobe-user.log 2>&1
rc=$?
grep -q 'open failed rc=-13 .*needs root' /tmp/hvprobe-user.log
st=$?
[ $rc -eq 1 ] && [ $st -eq 0 ]
check $? "unprivileged open fails with -EACCES and says why, no crash"
[ $st -eq 0 ] || dump /tmp/hvprobe-user.log

hvprobe -t 0 -w 240 >/tmp/hvprobe.log 2>&1 &
probe_pid=$!

# ---- vscoped ------------------------------------------------------------------------------
vscoped_pid=
if [ $have_vscoped = 1 ]; then
	# the guest intake on the bridge; no provisioned keys: the DomU's comes through xenstore
	mkdir -p /run/vscope/agent-keys
	cat >/run/vscope/vscoped.conf <<-EOF
	intake-endpoint = $IEP
	intake-key = /run/vscope/intake.key
	agent-keys = /run/vscope/agent-keys
	intake-stats-interval = 500ms
	EOF
	vscoped -f -c /run/vscope/vscoped.conf -H xen -s "$SOCK" -i 100ms -p /run/vscoped.pid \
		--stderr ${VSCOPED_ARGS:-} >/tmp/vscoped.log 2>&1 &
	vscoped_pid=$!
	found=1
	for _ in $(seq 100); do
		vscope_q list --json | flat | grep -q '"name":"Domain-0"' && { found=0; break; }
		kill -0 $vscoped_pid 2>/dev/null || break
		sleep 0.1
	done
	check $found "vscoped -H xen starts and vscope list shows Domain-0"
	now_ms; ts=$NOW
	vscope_q list --json >/dev/null
	now_ms
	note "one vscope list --json round trip, idle Dom0: $((NOW - ts)) ms"
	[ $found -eq 0 ] || dump /tmp/vscoped.log /tmp/vscope.err
else
	check 1 "vscoped starts (vscoped/vscope were not built: not in the per-run cpio)"
fi

# ---- a DomU comes --------------------------------------------------------------------------
# Latency = when the first `vscope list` that shows it was sent, after xl create returned;
# its reply comes later by the CLI's own cost (process start, IPC; slow under TCG with the
# DomU booting on the same emulated CPU), reported alongside.  Polling starts right after
# xl create, before anything else costs time.
# poll_list WANT: poll `vscope list` until $DOMU is there (WANT=1) or not (WANT=0), 5 s at
# most; FOUND_AT = send time of the request that showed it, or empty; REPLY_AT its reply.
poll_list() {
	local ts has
	FOUND_AT=
	REPLY_AT=
	for _ in $(seq 50); do
		now_ms; ts=$NOW
		list=$(vscope_q list --json | flat)
		now_ms
		has=0
		grep -q "\"name\":\"$DOMU\"" <<<"$list" && has=1
		echo "t1+$((ts - t1)) ms: reply after $((NOW - ts)) ms:" \
			"$(grep -o '"name":"[^"]*"' <<<"$list" | tr '\n' ' ')" >>/tmp/poll.log
		if [ -n "$list" ] && [ $has = "$1" ]; then
			FOUND_AT=$ts
			REPLY_AT=$NOW
			return 0
		fi
		sleep 0.1
	done
	return 1
}

now_ms; t0=$NOW
timeout 120 xl create /test/domu.cfg >/tmp/xl-create.log 2>&1
rc=$?
now_ms; t1=$NOW
list=
[ $have_vscoped = 1 ] && [ $rc -eq 0 ] && poll_list 1
check $rc "xl create $DOMU"
note "xl create took $((t1 - t0)) ms"
[ $rc -eq 0 ] || dump /tmp/xl-create.log /var/log/xen/xl-$DOMU.log
domid=$(xl domid $DOMU 2>/dev/null)
domid=${domid:-1}
vif=vif$domid.0

if [ $have_vscoped = 1 ] && [ $rc -eq 0 ]; then
	if [ -n "$FOUND_AT" ]; then
		note "vscope list showed $DOMU in a request sent $((FOUND_AT - t1)) ms after" \
			"xl create returned (reply after $((REPLY_AT - t1)) ms)"
		[ $((FOUND_AT - t1)) -le $LIMIT_MS ]
		check $? "vscope list shows $DOMU within $LIMIT_MS ms of xl create returning"
	else
		check 1 "vscope list shows $DOMU within $LIMIT_MS ms of xl create returning (never)"
	fi
	# the vif may be written just after the name; give it a second
	for _ in $(seq 10); do
		grep "\"name\":\"$vif\"" <<<"$list" | grep -q "\"mac\":\"$MAC\"" && break
		sleep 0.1
		list=$(vscope_q list --json | flat)
	done
	grep "\"name\":\"$vif\"" <<<"$list" | grep -q "\"mac\":\"$MAC\""
	check $? "vscope list shows $vif of $DOMU with MAC $MAC"
	# the domain's own line: state, memory (128 MiB in domu.cfg), VCPUs
	dline=$(grep "\"name\":\"$DOMU\"" <<<"$list")
	mem=$(sed -n 's/.*"mem_kib":\([0-9]*\).*/\1/p' <<<"$dline")
	note "vscope list: ${dline:0:200}"
	grep -q '"state":"[rbp]"' <<<"$dline" && grep -q '"vcpus":1[,}]' <<<"$dline" &&
		[ "${mem:-0}" -ge 120000 ] && [ "${mem:-0}" -le 140000 ]
	check $? "vscope list shows $DOMU's state (r, b or p), ~128 MiB and 1 VCPU"
else
	check 1 "vscope list shows $DOMU within $LIMIT_MS ms of xl create returning (skipped)"
	check 1 "vscope list shows $vif with its MAC (skipped)"
	check 1 "vscope list shows $DOMU's state, memory and VCPUs (skipped)"
fi

# ---- its traffic ---------------------------------------------------------------------------
if [ $have_vscoped = 1 ] && [ $rc -eq 0 ]; then
	rate=
	now_ms; t2=$NOW
	for _ in $(seq 300); do
		line=$(vscope_q vifs --json | flat | grep "\"name\":\"$vif\"")
		rate=$(sed -n 's/.*"rx_bytes_rate":\([-0-9.eE+]*\).*/\1/p' <<<"$line")
		awk -v r="${rate:-0}" 'BEGIN { exit !(r + 0 > 0) }' && break
		now_ms
		[ $((NOW - t2)) -lt 30000 ] || break
		sleep 0.1
	done
	now_ms
	note "$vif: rx_bytes_rate=${rate:-none} after $((NOW - t2)) ms; line: ${line:0:300}"
	awk -v r="${rate:-0}" 'BEGIN { exit !(r + 0 > 0) }'
	check $? "vscope vifs shows a non-zero rx_bytes_rate on $vif (the DomU's pings)"
else
	check 1 "vscope vifs shows a non-zero rx_bytes_rate on $vif (skipped)"
fi
if [ -e /sys/class/net/"$vif"/statistics/rx_bytes ]; then
	note "kernel: $vif rx_bytes=$(cat /sys/class/net/"$vif"/statistics/rx_bytes)" \
		"tx_bytes=$(cat /sys/class/net/"$vif"/statistics/tx_bytes)"
fi

# ---- the agent in the DomU (issue 3): endpoint and keys through xenstore -----------------
# vscoped writes data/vscope/endpoint and serverkey into the DomU's own xenstore subtree; the
# DomU's vscope-agent reads them and publishes its public key at data/vscope/agent-key;
# vscoped binds that key to the domain, and the probe's samples become the domain's metrics.
xs_dir=/local/domain/$domid/data/vscope
created=$rc
# mval JSON METRIC: the value of METRIC in flat `vscope metrics --json` output
mval() { grep "\"metric\":\"$2\"" <<<"$1" | sed -n 's/.*"value":\([-0-9.eE+]*\).*/\1/p' | head -1; }
if [ $have_vscoped = 1 ] && [ $created -eq 0 ]; then
	spub=$(sed -n 's/^public-key = //p' /run/vscope/intake.key 2>/dev/null)
	ep=
	sk=
	for _ in $(seq 50); do
		ep=$(xenstore-read "$xs_dir/endpoint" 2>/dev/null)
		sk=$(xenstore-read "$xs_dir/serverkey" 2>/dev/null)
		[ "$ep" = "$IEP" ] && [ -n "$spub" ] && [ "$sk" = "$spub" ] && break
		sleep 0.1
	done
	note "xenstore $xs_dir: endpoint=${ep:-none} serverkey=${sk:-none}" \
		"(the intake's public key: ${spub:-unknown})"
	[ "$ep" = "$IEP" ] && [ -n "$spub" ] && [ "$sk" = "$spub" ]
	check $? "vscoped wrote its intake endpoint and server key into $DOMU's data/vscope/"
	# "(n<domid>)": owned by the DomU, no access for any other domain (Dom0 has it anyway)
	perms=$(xenstore-ls -p "$xs_dir" 2>/dev/null | grep -E '^(endpoint|serverkey) ')
	note "xenstore-ls -p $xs_dir: $(tr -s ' \n' ' ' <<<"$perms")"
	[ "$(grep -c "(n$domid)\$" <<<"$perms")" -eq 2 ]
	check $? "those nodes are $DOMU's own: readable by it, by no other guest (n$domid)"

	now_ms; ta=$NOW
	akey=
	while :; do
		akey=$(xenstore-read "$xs_dir/agent-key" 2>/dev/null)
		[ ${#akey} -eq 40 ] && break
		now_ms
		[ $((NOW - ta)) -lt 60000 ] || break
		sleep 0.2
	done
	now_ms
	note "agent-key '${akey:-none}' after $((NOW - ta)) ms"
	[ ${#akey} -eq 40 ]
	check $? "the DomU's vscope-agent published its public key at data/vscope/agent-key"

	m=
	cnt=
	while :; do
		m=$(vscope_q metrics "$DOMU" --json | flat)
		cnt=$(mval "$m" "app.latency.$PROBE.count")
		msgs=$(mval "$m" intake.msgs)
		# the intake's counters come once a second, the agent's summaries on their own
		awk -v c="${cnt:-0}" -v n="${msgs:-0}" 'BEGIN { exit !(c + 0 > 0 && n + 0 >= 1) }' &&
			break
		now_ms
		[ $((NOW - ta)) -lt 45000 ] || break
		sleep 0.5
	done
	now_ms
	msgs=$(mval "$m" intake.msgs)
	p50=$(mval "$m" "app.latency.$PROBE.p50_us")
	p99=$(mval "$m" "app.latency.$PROBE.p99_us")
	note "vscope metrics $DOMU after $((NOW - ta)) ms: intake.msgs=${msgs:-none}" \
		"app.latency.$PROBE: count=${cnt:-none} p50_us=${p50:-none} p99_us=${p99:-none}"
	awk -v c="${msgs:-0}" 'BEGIN { exit !(c + 0 >= 1) }'
	check $? "vscoped bound the published key to $DOMU and took the agent's messages"
	awk -v c="${cnt:-0}" -v a="${p50:-0}" -v b="${p99:-0}" \
		'BEGIN { exit !(c + 0 > 0 && a + 0 > 0 && a + 0 <= b + 0) }'
	check $? "vscope metrics $DOMU: the agent's tcp probe of 10.0.0.1:7 (count > 0, 0 < p50 <= p99)"
else
	for d in "vscoped writes the endpoint and server key into data/vscope/" \
		"data/vscope/ is the DomU's own" "the agent publishes its key" \
		"vscoped binds it" "the agent's probe samples reach vscoped"; do
		check 1 "$d (skipped: no vscoped or no DomU)"
	done
fi

# ---- shaping the DomU's vif in the real Dom0 (issue 6) ----------------------------------------
# The DomU sends zeros over TCP to a listener on 10.0.0.1:5001 whenever there is one
# (domu-init); its rate is read from the rx counter of $vif (what the DomU sends).
tcstate() {
	tc qdisc show
	tc filter show dev "$vif" ingress
	ip -o link show type ifb | sed 's/^[0-9]*: //'
}
# measure SECS: RATE (bit/s) on $vif's rx counter over SECS
measure() {
	local b0 b1 t0
	read -r b0 <"/sys/class/net/$vif/statistics/rx_bytes"
	now_ms; t0=$NOW
	sleep "$1"
	read -r b1 <"/sys/class/net/$vif/statistics/rx_bytes"
	now_ms
	RATE=$(((b1 - b0) * 8000 / (NOW - t0 > 0 ? NOW - t0 : 1)))
}
mbit() { awk -v r="$1" 'BEGIN { printf "%.2f Mbit/s", r / 1e6 }'; }
st=0
for m in ifb sch_ingress act_mirred cls_u32 sch_htb; do
	args=
	[ $m = ifb ] && args=numifbs=0  # no ifb0/ifb1 of the module's own: every IFB is vscope's
	grep -q "^$m " /proc/modules || insmod "/modules/tc/$m.ko" $args 2>>/tmp/tc.log
	grep -q "^$m " /proc/modules || st=1
done
check $st "tc modules loaded in Dom0: ifb (numifbs=0), sch_ingress, act_mirred, cls_u32, sch_htb"
if [ $have_vscoped = 1 ] && [ $created -eq 0 ] && [ -e "/sys/class/net/$vif" ]; then
	base_tc=$(tcstate)
	# the sink: busybox nc -e execs it with the connection as stdin (nc itself would stop
	# at the EOF of its own stdin)
	printf '#!/bin/sh\nexec cat >/dev/null\n' >/tmp/sink.sh
	chmod 755 /tmp/sink.sh
	nc -l -p 5001 -e /tmp/sink.sh </dev/null >/dev/null 2>&1 &
	sink_pid=$!
	now_ms; tf=$NOW
	RATE=0
	while [ $((NOW - tf)) -lt 15000 ]; do
		measure 0.5
		[ $RATE -ge $FLOOD_MIN_BPS ] && break
	done
	now_ms
	note "the flood showed after $((NOW - tf)) ms"
	measure 3
	before=$RATE
	vl=$(vscope_q vifs --json | flat | grep "\"name\":\"$vif\"")
	vrate=$(sed -n 's/.*"rx_bytes_rate":\([-0-9.eE+]*\).*/\1/p' <<<"$vl")
	note "flood before shaping: $(mbit $before) on $vif over 3 s;" \
		"vscope vifs rx_bytes_rate=${vrate:-none} B/s"
	[ $before -ge $FLOOD_MIN_BPS ]
	check $? "the DomU's TCP flood reaches $(mbit $FLOOD_MIN_BPS) on $vif ($(mbit $before))"
	awk -v r="${vrate:-0}" -v m=$FLOOD_MIN_BPS 'BEGIN { exit !(r * 8 >= m) }'
	check $? "vscope vifs shows the flood on $vif (rx_bytes_rate ${vrate:-none} B/s)"

	out=$(vscope_q shape "$DOMU" --rate 1mbit --ttl 5m 2>&1)
	st=$?
	note "vscope shape $DOMU --rate 1mbit: $out"
	check $st "vscope shape $DOMU --rate 1mbit"
	ifb=$(ip -o link show type ifb | sed -n 's/^[0-9]*: \([^:@]*\).*/\1/p' | head -1)
	{
		echo "---- shaped: tc -s qdisc show"; tc -s qdisc show
		echo "---- tc -s filter show dev $vif ingress"; tc -s filter show dev "$vif" ingress
	} >>/tmp/tc.log 2>&1
	q=$(tc qdisc show dev "$vif")
	f=$(tc filter show dev "$vif" ingress)
	c=$(tc class show dev "${ifb:-none}" 2>/dev/null)
	grep -q "^qdisc ingress ffff: " <<<"$q" && grep -q "u32" <<<"$f" &&
		grep -q "mirred" <<<"$f" && grep -q "Redirect to device $ifb" <<<"$f" &&
		grep -q "^qdisc htb " <<<"$(tc qdisc show dev "${ifb:-none}" 2>/dev/null)" &&
		grep -q "rate 1Mbit" <<<"$c"
	check $? "tc: ingress qdisc + u32/mirred redirect on $vif to IFB ${ifb:-none}, htb rate 1Mbit there"
	sleep 2                         # TCP finds the new rate
	measure 4
	shaped=$RATE
	note "flood while shaped to 1mbit: $(mbit $shaped) on $vif over 4 s"
	[ $shaped -ge $((SHAPE_BPS / 4)) ] && [ $shaped -le $((SHAPE_BPS * 2)) ]
	check $? "shaped: the flood falls to about 1 Mbit/s ($(mbit $shaped); 0.25..2 allowed)"
	cs=$(tc -s class show dev "${ifb:-none}" 2>/dev/null)
	echo "---- tc -s class show dev $ifb"$'\n'"$cs" >>/tmp/tc.log
	sent=$(sed -n 's/^ *Sent \([0-9]*\) bytes.*/\1/p' <<<"$cs" | head -1)
	drop=$(sed -n 's/.*(dropped \([0-9]*\), overlimits \([0-9]*\).*/\1 \2/p' <<<"$cs" | head -1)
	note "htb class on ${ifb:-none}: Sent ${sent:-none} bytes, dropped/overlimits ${drop:-none}"
	[ "${sent:-0}" -gt 100000 ] && [ -n "$drop" ] && [ $((${drop% *} + ${drop#* })) -gt 0 ]
	check $? "tc -s class show: the flood went through the htb class and was held back"
	lj=$(vscope_q shape --list --json | flat)
	note "vscope shape --list --json: $(grep "\"vif\":\"$vif\"" <<<"$lj" | head -c 300)"
	grep "\"vif\":\"$vif\"" <<<"$lj" | grep -q '"rate_bps":1000000' &&
		grep -q '"bytes":[1-9]' <<<"$lj"
	check $? "vscope shape --list shows the rule on $vif at 1 Mbit/s with live counters"

	out=$(vscope_q unshape "$DOMU" 2>&1)
	st=$?
	note "vscope unshape $DOMU: $out"
	after_tc=$(tcstate)
	[ $st -eq 0 ] && [ "$after_tc" = "$base_tc" ] && [ -z "$(ip -o link show type ifb)" ] &&
		! tc qdisc show dev "$vif" | grep -q ingress
	check $? "vscope unshape: no IFB, no ingress qdisc or filter left, tc as before the shaping"
	[ "$after_tc" = "$base_tc" ] || { echo "---- before"; echo "$base_tc"; echo "---- after";
		echo "$after_tc"; } >>/tmp/tc.log
	sleep 1.5
	measure 3
	after=$RATE
	note "flood after unshaping: $(mbit $after) on $vif over 3 s"
	[ $after -ge $FLOOD_MIN_BPS ]
	check $? "unshaped: the flood is back above $(mbit $FLOOD_MIN_BPS) ($(mbit $after))"
	kill $sink_pid 2>/dev/null
	wait $sink_pid 2>/dev/null
	note "flood rate before/shaped/after: $(mbit $before) / $(mbit $shaped) / $(mbit $after)"
else
	for d in "the flood reaches the vif" "vscope vifs shows the flood" "vscope shape" \
		"tc shows the rule" "the flood falls to the rate" "the htb class holds it back" \
		"vscope shape --list" "vscope unshape leaves no trace" "the flood comes back"; do
		check 1 "$d (skipped: no vscoped or no DomU)"
	done
fi

grep -q "ev=added domid=$domid\$" /tmp/hvprobe.log &&
	grep -q "^hvprobe: dom id=$domid name=$DOMU .* vifs=$vif/0/$MAC\$" /tmp/hvprobe.log
check $? "xen backend: ADDED event for domain $domid, then $DOMU listed with $vif and its MAC"
hvprobe -t 100 >/tmp/hvprobe-2.log 2>&1
sed -n 's/^hvprobe: timing \(.*\)/xen backend, DomU running: \1 (under TCG)/p' /tmp/hvprobe-2.log |
	while read -r l; do note "$l"; done

# ---- and goes -------------------------------------------------------------------------------
now_ms; t0=$NOW
timeout 60 xl destroy $DOMU >/tmp/xl-destroy.log 2>&1
rc=$?
now_ms; t1=$NOW
[ $have_vscoped = 1 ] && poll_list 0
check $rc "xl destroy $DOMU"
note "xl destroy took $((t1 - t0)) ms"
if [ $have_vscoped = 1 ]; then
	if [ -n "$FOUND_AT" ]; then
		note "$DOMU was gone from vscope list in a request sent $((FOUND_AT - t1)) ms" \
			"after xl destroy returned (reply after $((REPLY_AT - t1)) ms)"
		[ $((FOUND_AT - t1)) -le $LIMIT_MS ]
		check $? "$DOMU leaves vscope list within $LIMIT_MS ms of xl destroy returning"
	else
		check 1 "$DOMU leaves vscope list within $LIMIT_MS ms of xl destroy returning (never)"
	fi
else
	check 1 "$DOMU leaves vscope list within $LIMIT_MS ms (skipped)"
fi

for _ in $(seq 30); do
	grep -q "ev=removed domid=$domid\$" /tmp/hvprobe.log && break
	sleep 0.1
done
ev=$(sed -n "s/^hvprobe: event t=\([0-9]*\).* ev=removed domid=$domid\$/\1/p" /tmp/hvprobe.log)
[ -n "$ev" ] && note "xen backend: REMOVED event $((ev - t1)) ms after xl destroy returned"
[ -n "$ev" ]
check $? "xen backend: REMOVED event for domain $domid"

# ---- shutdown ------------------------------------------------------------------------------
kill -TERM $probe_pid $echo_pid 2>/dev/null
if [ -n "$vscoped_pid" ]; then
	st=0
	kill -0 $vscoped_pid 2>/dev/null || st=1
	kill -TERM $vscoped_pid 2>/dev/null
	for _ in $(seq 50); do
		kill -0 $vscoped_pid 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $vscoped_pid 2>/dev/null; then
		st=1
		kill -KILL $vscoped_pid
	fi
	wait $vscoped_pid
	[ $? -eq 0 ] || st=1
	check $st "vscoped ran through the test and exits 0 on SIGTERM within 5 s"
else
	check 1 "vscoped exits 0 on SIGTERM (skipped)"
fi
wait $probe_pid 2>/dev/null

dump /tmp/poll.log /tmp/hvprobe.log /tmp/vscoped.log /tmp/vscope.err /tmp/tc.log \
	/var/log/xen/console/guest-$DOMU.log
exit 0
