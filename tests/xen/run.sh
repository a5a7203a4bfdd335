#!/bin/sh
# make check-xen: the xen backend and vscoped against a real Xen 4.17, booted once under
# QEMU software emulation (notes/xen-under-qemu.md).  TAP on stdout.
#
#   top_srcdir=... top_builddir=... sh tests/xen/run.sh
#
# The hypervisor, the Dom0 kernel and the Dom0 initramfs (with the DomU's kernel and
# initramfs inside) are built by mkimages.sh into $top_builddir/tests/xen/cache/ and rebuilt
# when their inputs change.  Each run appends a small cpio: the vscoped, vscope and hvprobe
# binaries built on this host with their libraries, dom0-test.sh, domu.cfg, and the DomU's
# initramfs (cache/domu.cpio with a second cpio appended, gzip'ed: guest-agent/vscope-agent, its
# libraries and tests/xen/agent.conf).  QEMU's serial
# console goes to $top_builddir/tests/xen/console.log; the Dom0 prints "VSCOPE-TAP: <line>"
# there and this script passes those lines on.
#
# Environment: VSCOPE_XEN_TIMEOUT (seconds for boot and test, default 300), VSCOPE_XEN_CMDLINE
# (extra Dom0 kernel command line words, see below), CC, CFLAGS.
set -u
LC_ALL=C
export LC_ALL

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
src=$top_srcdir/tests/xen
out=$top_builddir/tests/xen
cache=$out/cache
log=$out/console.log
timeout_s=${VSCOPE_XEN_TIMEOUT:-300}
xenbin=/usr/lib/xen-4.17/bin

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}
bail() {
	echo "1..1"
	echo "not ok 1 - $*"
	exit 1
}

# ---- what this needs --------------------------------------------------------------------
missing=
need() {        # need PACKAGE FILE...: PACKAGE is missing unless every FILE is there
	p=$1
	shift
	for f in "$@"; do
		[ -e "$f" ] || { missing="$missing $p"; return; }
	done
}
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing="$missing qemu-system-x86"
need xen-hypervisor-4.17-amd64 /boot/xen-4.17-amd64.gz
need xen-utils-4.17 $xenbin/xl $xenbin/xenstored $xenbin/xenconsoled $xenbin/xen-init-dom0 \
	$xenbin/libxl-save-helper /etc/xen/scripts/vif-bridge
need xenstore-utils /usr/bin/xenstore-read
kver=
for k in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's,^/boot/vmlinuz-,,' | sort -rV); do
	if [ -r "/boot/vmlinuz-$k" ] && [ -e "/lib/modules/$k/modules.dep" ]; then
		kver=$k
		break
	fi
done
[ -n "$kver" ] || missing="$missing linux-image-amd64"
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
	missing="$missing busybox-static"
fi
command -v cpio >/dev/null 2>&1 || missing="$missing cpio"
command -v xz >/dev/null 2>&1 || missing="$missing xz-utils"
command -v bash >/dev/null 2>&1 || missing="$missing bash"
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
command -v tc >/dev/null 2>&1 || missing="$missing iproute2"
command -v gzip >/dev/null 2>&1 || missing="$missing gzip"
[ -z "$missing" ] || skip "missing:$missing"
grep -q '^#define HAVE_XEN 1' "$top_builddir/config.h" 2>/dev/null ||
	skip "the xen backend is not compiled in (configure found no libxen-dev)"

tmp=$(mktemp -d /tmp/vscope-xen.XXXXXX) || bail "mktemp"
qemu_pid=
cleanup() {
	[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$cache"

# ---- the cached images --------------------------------------------------------------------
# Inputs: the recipe and templates (by content), the packages' files (by size and mtime).
stamp=$(
	cat "$src/mkimages.sh" "$src/dom0-init" "$src/domu-init"
	echo "$kver"
	for f in /boot/xen-4.17-amd64.gz "/boot/vmlinuz-$kver" $xenbin/xl $xenbin/xenstored \
		/usr/bin/xenstore /bin/busybox "$(command -v bash)" "$(command -v ip)" \
		"$(command -v tc)"; do
		stat -L -c '%n %s %Y' "$f" 2>/dev/null
	done
)
stamp=$(printf '%s\n' "$stamp" | cksum)
build_images() {
	if [ -s "$cache/dom0.cpio" ] && [ -s "$cache/domu.cpio" ] && [ "$(cat "$cache/inputs" 2>/dev/null)" = "$stamp" ]; then
		return 0
	fi
	rm -f "$cache/inputs"
	t=$(date +%s)
	sh "$src/mkimages.sh" "$src" "$cache" "$kver" >"$tmp/mkimages.log" 2>&1 || return 1
	echo "$stamp" >"$cache/inputs"
	echo "# built the images in $cache in $(($(date +%s) - t)) s"
}
if command -v flock >/dev/null 2>&1; then
	# two runs sharing a build directory take turns at the cache
	exec 9>"$cache/.lock"
	flock -w 600 9 || bail "cache lock $cache/.lock"
fi
if ! build_images; then
	sed 's/^/# /' "$tmp/mkimages.log"
	bail "building the Xen/Dom0 images (mkimages.sh)"
fi

# ---- the per-run cpio: binaries under test, their libraries, the test -----------------------
run=$tmp/run
mkdir -p "$run/test/bin"
: >"$tmp/libs"
addbin() {
	cp -L "$1" "$run/test/bin/$(basename "$1")" || return 1
	ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' >>"$tmp/libs"
}
for b in "$top_builddir/dom0d/vscoped" "$top_builddir/tools/vscope"; do
	if [ -x "$b" ]; then
		addbin "$b"
	else
		echo "# $b not built: the vscoped checks will fail"
	fi
done

# hvprobe: the backend alone, linked with the same objects as vscoped (dom0d/libvscoped.a:
# backends/xen.o, hv.o); from source with a stand-in vs_hv_fail when the tree is not built
mk() { sed -n "s/^$1 = //p" "$top_builddir/Makefile" 2>/dev/null; }
cc=${CC:-$(mk CC)}
xenlibs=$(mk XEN_LIBS)
[ -n "$xenlibs" ] || xenlibs=$(pkg-config --libs xencontrol xenstore 2>/dev/null)
if [ -e "$top_builddir/dom0d/libvscoped.a" ]; then
	hvsrc=$src/hvprobe.c
	hvlibs="$top_builddir/dom0d/libvscoped.a $top_builddir/lib/libvscore.a $(mk LIBVIRT_LIBS)
		$(mk NL_LIBS) $(mk ZMQ_LIBS) $(mk PROTOBUF_C_LIBS) -lpthread"
else
	echo "# $top_builddir/dom0d/libvscoped.a not built: hvprobe from dom0d/backends/xen.c"
	cat >"$tmp/hvshim.c" <<-'EOF'
	#include <stdarg.h>
	#include <stdio.h>
	#include "hv.h"
	int vs_hv_fail(vs_hv_t *hv, int rc, const char *fmt, ...)
	{
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(hv->error, sizeof(hv->error), fmt, ap);
		va_end(ap);
		return rc;
	}
	EOF
	hvsrc="$src/hvprobe.c $top_srcdir/dom0d/backends/xen.c $tmp/hvshim.c"
	hvlibs=
fi
# shellcheck disable=SC2086
${cc:-cc} -std=gnu11 -O2 -Wall -D_GNU_SOURCE -include "$top_builddir/config.h" \
	-I"$top_srcdir/lib" -I"$top_builddir/lib" -I"$top_srcdir/dom0d" ${CFLAGS:-} \
	-o "$tmp/hvprobe" $hvsrc -Wl,--as-needed $hvlibs ${xenlibs:--lxenctrl -lxenstore} \
	>"$tmp/cc.log" 2>&1 || {
	sed 's/^/# /' "$tmp/cc.log"
	bail "compiling tests/xen/hvprobe.c"
}
addbin "$tmp/hvprobe"
for l in $(sort -u "$tmp/libs"); do
	mkdir -p "$run$(dirname "$l")"
	cp -L "$l" "$run$l"
done

# the DomU's part: vscope-agent, its libraries (ldd), its configuration; appended to the cached
# DomU initramfs as a second cpio; one gzip stream over both (Linux unpacks concatenated
# archives in order; two concatenated gzip streams were not unpacked past the first)
domu=$tmp/domu
mkdir -p "$domu/agent" "$domu/etc/vscope"
agent=$top_builddir/guest-agent/vscope-agent
if [ -x "$agent" ]; then
	cp -L "$agent" "$domu/agent/vscope-agent"
	for l in $(ldd "$agent" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		mkdir -p "$domu$(dirname "$l")"
		cp -L "$l" "$domu$l"
	done
	cp "$src/agent.conf" "$domu/etc/vscope/agent.conf"
	nm -D "$agent" 2>/dev/null | grep -q ' xs_open$' ||
		echo "# $agent is built without libxenstore: the agent checks will fail"
else
	echo "# $agent not built: the agent checks will fail"
fi
(cd "$domu" && find . | sort | cpio -o -H newc -R 0:0 --quiet) >"$tmp/domu.cpio" ||
	bail "cpio of the DomU's agent"
cat "$cache/domu.cpio" "$tmp/domu.cpio" | gzip -1 >"$run/test/domu-initrd.gz"
install -m 755 "$src/dom0-test.sh" "$run/test/dom0-test.sh"
cp "$src/domu.cfg" "$run/test/domu.cfg"
(cd "$run" && find . | sort | cpio -o -H newc -R 0:0 --quiet) >"$tmp/run.cpio" ||
	bail "cpio of the binaries under test"
# Linux takes concatenated cpio archives as one initramfs
cat "$cache/dom0.cpio" "$tmp/run.cpio" >"$tmp/initrd"
ln -s "$cache/xen.elf" "$tmp/xen"
ln -s "$cache/vmlinux" "$tmp/vmlinux"

# ---- boot -------------------------------------------------------------------------------------
# Words of VSCOPE_XEN_CMDLINE reach the Dom0's /init as environment variables, e.g.
# VSCOPED_ARGS=-d for vscoped's debug log (shown in console.log); no commas.
dom0_extra=$(printf '%s' "${VSCOPE_XEN_CMDLINE:-}" | tr ',' ' ')
# Xen drops the first word of a module's command line; -no-reboot turns a Dom0 crash (Xen
# reboots) into QEMU exiting; the Dom0 powers off at the end (Xen enters S5, QEMU exits 0).
t_start=$(date +%s)
timeout -k 5 "$timeout_s" qemu-system-x86_64 -accel tcg,thread=multi -cpu qemu64 -m 1024 \
	-smp 1 -nographic -monitor none -serial stdio -nic none -no-reboot -vga none \
	-kernel "$tmp/xen" \
	-append "dom0_mem=512M,max:512M dom0_max_vcpus=1 console=com1 com1=115200,8n1" \
	-initrd "$tmp/vmlinux console=hvc0 earlyprintk=xen quiet panic=1 $dom0_extra,$tmp/initrd" \
	</dev/null >"$log" 2>&1 &
qemu_pid=$!
wait "$qemu_pid"
qemu_rc=$?
qemu_pid=
t_end=$(date +%s)

# ---- results ----------------------------------------------------------------------------------
tr -d '\r' <"$log" | sed -n 's/^.*VSCOPE-TAP: //p' >"$tmp/tap"
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$tmp/tap" | head -1)
boot=$(tr -d '\r' <"$log" | sed -n 's/^.*VSCOPE-BOOT: //p')
if [ -z "$plan" ]; then
	echo "1..1"
	echo "not ok 1 - Xen boots under QEMU and the Dom0 runs the tests (see $log)"
	[ -z "$boot" ] || printf '%s\n' "$boot" | sed 's/^/# /'
	echo "# qemu exit status $qemu_rc after $((t_end - t_start)) s"
	[ "$qemu_rc" -ne 124 ] || echo "# timed out after $timeout_s s"
	exit 1
fi
echo "1..$plan"
printf '%s\n' "$boot" | sed 's/^/# /'
grep -v '^1\.\.' "$tmp/tap"
ran=$(grep -cE '^(not )?ok ' "$tmp/tap")
i=$((ran + 1))
while [ "$i" -le "$plan" ]; do
	echo "not ok $i - did not run (the Dom0 stopped early; see $log)"
	i=$((i + 1))
done
echo "# QEMU (boot, tests, poweroff) took $((t_end - t_start)) s, exit status $qemu_rc"
[ "$qemu_rc" -ne 124 ] || echo "# timed out after $timeout_s s"
if grep -q '^not ok' "$tmp/tap" || [ "$ran" -lt "$plan" ] || [ "$qemu_rc" -ne 0 ]; then
	exit 1
fi
exit 0
