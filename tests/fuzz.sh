#!/bin/bash
# Runs the libFuzzer targets of a build made with --enable-fuzz for a bounded time.
# usage: tests/fuzz.sh BUILD_DIR SECONDS
set -u
build=$1 secs=${2:-60}
top=$(cd "$(dirname "$0")/.." && pwd)
fz=$build/fuzz/fuzz_control
if [[ ! -x $fz ]]; then
	(cd "$build" && make -s fuzz/fuzz_control) || { echo "fuzz: cannot build $fz"; exit 1; }
fi
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp "$top"/fuzz/corpus/* "$corpus"/ 2>/dev/null
ASAN_OPTIONS=detect_leaks=1 "$fz" -max_total_time="$secs" -max_len=70000 -rss_limit_mb=2048 \
	-print_final_stats=1 "$corpus" >"$build/fuzz.log" 2>&1
rc=$?
tail -n 12 "$build/fuzz.log"
if [[ $rc == 0 ]]; then echo "fuzz: fuzz_control ran ${secs}s clean"; else echo "fuzz: FAILED (see $build/fuzz.log)"; fi

# ---- mscope: the spec reader and the transformer over every built-in spec, 15 s each ----
msecs=$(( secs < 15 ? secs : 15 ))
for t in mscope_spec mscope_parse; do
	fz=$build/fuzz/fuzz_$t
	if [[ ! -x $fz ]]; then
		(cd "$build" && make -s "fuzz/fuzz_$t") || { echo "fuzz: cannot build $fz"; exit 1; }
	fi
	c=$(mktemp -d)
	cp "$top/fuzz/corpus-${t/_/-}"/* "$c"/ 2>/dev/null
	VSCOPE_MSCOPE_SPECS=$top/mscope/specs ASAN_OPTIONS=detect_leaks=1 "$fz" \
		-max_total_time="$msecs" -max_len=16384 -rss_limit_mb=2048 -print_final_stats=1 \
		"$c" >"$build/fuzz_$t.log" 2>&1
	r=$?
	rm -rf "$c"
	tail -n 4 "$build/fuzz_$t.log"
	if [[ $r == 0 ]]; then echo "fuzz: fuzz_$t ran ${msecs}s clean"
	else echo "fuzz: FAILED (see $build/fuzz_$t.log)"; rc=$r; fi
done
# ---- intake: the guest intake's decoder and validator, 15 s ------------------------------
fz=$build/fuzz/fuzz_intake
if [[ ! -x $fz ]]; then
	(cd "$build" && make -s fuzz/fuzz_intake) || { echo "fuzz: cannot build $fz"; exit 1; }
fi
c=$(mktemp -d)
cp "$top"/fuzz/corpus-intake/* "$c"/ 2>/dev/null
ASAN_OPTIONS=detect_leaks=1 "$fz" -max_total_time="$msecs" -max_len=70000 -rss_limit_mb=2048 \
	-print_final_stats=1 "$c" >"$build/fuzz_intake.log" 2>&1
r=$?
rm -rf "$c"
tail -n 4 "$build/fuzz_intake.log"
if [[ $r == 0 ]]; then echo "fuzz: fuzz_intake ran ${msecs}s clean"
else echo "fuzz: FAILED (see $build/fuzz_intake.log)"; rc=$r; fi
# ---- guest-agent: the hsperfdata parser and the StatsD parser, 15 s each ----
asecs=$(( secs < 15 ? secs : 15 ))
for t in hsperf statsd; do
	fz=$build/fuzz/fuzz_$t
	if [[ ! -x $fz ]]; then
		(cd "$build" && make -s "fuzz/fuzz_$t") || { echo "fuzz: cannot build $fz"; exit 1; }
	fi
	c=$(mktemp -d)
	cp "$top/fuzz/corpus-$t"/* "$c"/ 2>/dev/null
	ASAN_OPTIONS=detect_leaks=1 "$fz" -max_total_time="$asecs" -max_len=70000 \
		-rss_limit_mb=2048 -print_final_stats=1 "$c" >"$build/fuzz_$t.log" 2>&1
	r=$?
	rm -rf "$c"
	tail -n 4 "$build/fuzz_$t.log"
	if [[ $r == 0 ]]; then echo "fuzz: fuzz_$t ran ${asecs}s clean"
	else echo "fuzz: FAILED (see $build/fuzz_$t.log)"; rc=$r; fi
done
# ---- dpg: the DPG protocol's decoder (control and data frames), 15 s ----
dsecs=$(( secs < 15 ? secs : 15 ))
fz=$build/fuzz/fuzz_dpgwire
if [[ ! -x $fz ]]; then
	(cd "$build" && make -s fuzz/fuzz_dpgwire) || { echo "fuzz: cannot build $fz"; exit 1; }
fi
c=$(mktemp -d)
cp "$top"/fuzz/corpus-dpg/* "$c"/ 2>/dev/null
ASAN_OPTIONS=detect_leaks=1 "$fz" -max_total_time="$dsecs" -max_len=70000 -rss_limit_mb=2048 \
	-print_final_stats=1 "$c" >"$build/fuzz_dpgwire.log" 2>&1
r=$?
rm -rf "$c"
tail -n 4 "$build/fuzz_dpgwire.log"
if [[ $r == 0 ]]; then echo "fuzz: fuzz_dpgwire ran ${dsecs}s clean"
else echo "fuzz: FAILED (see $build/fuzz_dpgwire.log)"; rc=$r; fi
# ---- dpg: partial results from peers, entropy windows, K-means and PCA inputs, 15 s ----
fz=$build/fuzz/fuzz_dpg_part
if [[ ! -x $fz ]]; then
	(cd "$build" && make -s fuzz/fuzz_dpg_part) || { echo "fuzz: cannot build $fz"; exit 1; }
fi
c=$(mktemp -d)
cp "$top"/fuzz/corpus-dpg-part/* "$c"/ 2>/dev/null
ASAN_OPTIONS=detect_leaks=1 "$fz" -max_total_time="$asecs" -max_len=4096 -rss_limit_mb=2048 \
	-timeout=10 -print_final_stats=1 "$c" >"$build/fuzz_dpg_part.log" 2>&1
r=$?
rm -rf "$c"
tail -n 4 "$build/fuzz_dpg_part.log"
if [[ $r == 0 ]]; then echo "fuzz: fuzz_dpg_part ran ${asecs}s clean"
else echo "fuzz: FAILED (see $build/fuzz_dpg_part.log)"; rc=$r; fi
exit $rc
