# shellcheck shell=bash
# tests/lib.sh: a small TAP library for vscope's integration test scripts (bash). Source it:
#
#	. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
#	need_root
#	plan 3                      # or call done_testing at the end without a plan
#	ok "bridge exists" tb dom0 ip link show xenbr0
#	ok '[ -e /run/netns/x ]'    # one argument: a shell condition, also the description
#	is "$(tb xml)" "$want" "xml path"
#	done_testing
#
# Every test prints "ok N - desc" or "not ok N - desc" on stdout (Automake's tap-driver.sh
# reads it). cleanup_add registers commands run in reverse order on EXIT, INT and TERM, so a
# test tears down its testbed however it ends. `tb` runs tools/testbed with this test's own
# prefix ($TB_PREFIX), so tests running in parallel never share namespaces.
#
# Sourcing this file sets the EXIT/INT/TERM traps: register teardown with cleanup_add rather
# than with a trap of your own. ok/nok capture the command's output, so start background
# processes (servers) outside them, with `&`, and cleanup_add their kill.

top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir

TB_PREFIX=${TB_PREFIX:-T$$}
export TB_PREFIX

_tap_n=0
_tap_failed=0
_tap_plan=
_tap_cleanups=()

plan() {
	_tap_plan=$1
	echo "1..$1"
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

diag() {
	local line

	while IFS= read -r line; do
		echo "# $line"
	done <<<"$*"
}

bail_out() {
	echo "Bail out! $*"
	exit 99
}

# _tap_result STATUS DESC: STATUS 0 is a pass.
_tap_result() {
	local status=$1 desc=$2

	_tap_n=$((_tap_n + 1))
	desc=${desc//#/\\#}
	if [ "$status" -eq 0 ]; then
		echo "ok $_tap_n - $desc"
		return 0
	fi
	echo "not ok $_tap_n - $desc"
	_tap_failed=$((_tap_failed + 1))
	return 1
}

# ok DESC CMD [ARG...]: passes when CMD exits 0; its output is shown as diagnostics if it fails.
# ok CONDITION: one argument is evaluated by the shell and is its own description.
ok() {
	local desc=$1 out status
	shift

	if [ $# -eq 0 ]; then
		out=$(eval "$desc" 2>&1)
	else
		out=$("$@" 2>&1)
	fi
	status=$?
	_tap_result "$status" "$desc" && return 0
	diag "exit status $status${out:+, output:}"
	[ -z "$out" ] || diag "$out"
	return 1
}

# nok DESC CMD [ARG...]: passes when CMD fails.
nok() {
	local desc=$1 out status
	shift

	if [ $# -eq 0 ]; then
		out=$(eval "$desc" 2>&1)
	else
		out=$("$@" 2>&1)
	fi
	status=$?
	if [ "$status" -ne 0 ]; then
		_tap_result 0 "$desc"
		return 0
	fi
	_tap_result 1 "$desc"
	diag "expected failure, got exit status 0${out:+, output:}"
	[ -z "$out" ] || diag "$out"
	return 1
}

# is GOT EXPECTED DESC
is() {
	local got=$1 want=$2 desc=${3:-}

	[ "$got" = "$want" ]
	_tap_result $? "$desc" && return 0
	diag "     got: '$got'"
	diag "expected: '$want'"
	return 1
}

# like GOT ERE DESC
like() {
	local got=$1 re=$2 desc=${3:-}

	[[ $got =~ $re ]]
	_tap_result $? "$desc" && return 0
	diag "     got: '$got'"
	diag "expected to match: $re"
	return 1
}

pass() { _tap_result 0 "$*"; }
fail() { _tap_result 1 "$*"; }

# skip DESC REASON: a test that cannot run here, counted as passed with a reason.
skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - ${1//#/\\#} # SKIP ${2:-}"
}

# done_testing: print the plan if none was given, check the count, exit 0 only if all passed.
done_testing() {
	if [ -z "$_tap_plan" ]; then
		echo "1..$_tap_n"
	elif [ "$_tap_plan" -ne "$_tap_n" ]; then
		diag "planned $_tap_plan tests but ran $_tap_n"
		exit 1
	fi
	if [ "$_tap_failed" -ne 0 ]; then
		diag "failed $_tap_failed of $_tap_n tests"
		exit 1
	fi
	exit 0
}

# need_cmd CMD...: skip the whole script when a program is missing.
need_cmd() {
	local c

	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_all "$c not installed"
	done
}

# need_root: skip the whole script unless we are root and can make a network namespace.
need_root() {
	local ns="${TB_PREFIX}nscheck"

	[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces)"
	need_cmd ip tc
	ip netns add "$ns" >/dev/null 2>&1 || skip_all "cannot create a network namespace here"
	ip netns del "$ns" >/dev/null 2>&1
}

# cleanup_add CMD [ARG...]: run CMD when the script ends, however it ends (last added first).
cleanup_add() {
	local q

	printf -v q '%q ' "$@"
	_tap_cleanups+=("$q")
}

_tap_run_cleanups() {
	local i

	for ((i = ${#_tap_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_tap_cleanups[$i]}" >/dev/null 2>&1
	done
	_tap_cleanups=()
}

_tap_on_exit() {
	local rc=$?

	trap - EXIT INT TERM
	_tap_run_cleanups
	exit "$rc"
}

trap _tap_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# tb ARGS...: tools/testbed with this test's prefix. $TB is the script itself, for wrappers
# that need a program rather than a function (timeout 30 "$TB" up); it gets the prefix from
# the exported $TESTBED_PREFIX.
TB=$top_srcdir/tools/testbed
TESTBED_PREFIX=$TB_PREFIX
export TB TESTBED_PREFIX
tb() {
	TESTBED_PREFIX=$TB_PREFIX "$TB" "$@"
}

# wait_for SECONDS CMD [ARG...]: poll CMD every 0.1 s until it succeeds; fail after SECONDS.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift

	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}
