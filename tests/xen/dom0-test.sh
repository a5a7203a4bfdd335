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
PLAN=13

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
	vscoped -f -H xen -s "$SOCK" -i 100ms -p /run/vscoped.pid --stderr ${VSCOPED_ARGS:-} \
		>/tmp/vscoped.log 2>&1 &
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
kill -TERM $probe_pid 2>/dev/null
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

dump /tmp/poll.log /tmp/hvprobe.log /tmp/vscoped.log /tmp/vscope.err /var/log/xen/console/guest-$DOMU.log
exit 0
