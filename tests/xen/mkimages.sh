#!/bin/sh
# mkimages.sh SRC_DIR OUT_DIR KVER
#
# Builds what tests/xen/run.sh boots, from Debian's packages (notes/xen-under-qemu.md):
#   OUT_DIR/xen.elf    the hypervisor: /boot/xen-4.17-amd64.gz unpacked (QEMU's -kernel takes
#                      this ELF32 multiboot image, not the .gz or the .efi)
#   OUT_DIR/vmlinux    the Dom0 kernel: the ELF inside /boot/vmlinuz-KVER (saves ~2.7 s a boot);
#                      vmlinuz itself when it cannot be extracted
#   OUT_DIR/dom0.cpio  the Dom0 initramfs (uncompressed newc): busybox, the Xen tools and
#                      daemons, the hotplug scripts, tc, the kernel modules in load order,
#                      SRC_DIR/dom0-init as /init, the DomU's kernel under /domu, and the
#                      traffic-control modules the shaping checks load under /modules/tc
#   OUT_DIR/domu.cpio  the DomU's initramfs (uncompressed): busybox, xen-netfront, domu-init
# Nothing of the project is in these: run.sh appends the binaries under test per run (to the
# DomU's initramfs too: vscope-agent and its libraries, a second cpio in the same gzip).
# Writes into a temporary directory and moves the results into OUT_DIR at the end.
set -eu
LC_ALL=C
export LC_ALL

src=$1
out=$2
kver=$3
xenbin=/usr/lib/xen-4.17/bin
moddir=/lib/modules/$kver
# Dom0 modules in load order; the DomU needs only the netfront.
dom0_modules="xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-netback xen-blkback \
llc stp bridge"
domu_modules="xen-netfront"
# Loaded by dom0-test.sh (a check of their own), not by /init: what vscope shape needs (IFB,
# ingress qdisc, mirred redirect, u32 filter, htb); none of them depends on another module.
tc_modules="ifb sch_ingress act_mirred cls_u32 sch_htb"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vscope-xenimg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# ---- the hypervisor ---------------------------------------------------------------------
zcat /boot/xen-4.17-amd64.gz >"$tmp/xen.elf"

# ---- the Dom0 kernel: the first XZ stream in the bzImage that unpacks to an ELF ----------
is_elf() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }
vmlinuz=/boot/vmlinuz-$kver
for off in $(grep -abo "$(printf '\3757zXZ')" "$vmlinuz" | cut -d: -f1 | head -5); do
	tail -c +"$((off + 1))" "$vmlinuz" | xz -dc >"$tmp/vmlinux" 2>/dev/null || true
	is_elf "$tmp/vmlinux" && break
done
if [ ! -s "$tmp/vmlinux" ] || ! is_elf "$tmp/vmlinux"; then
	echo "mkimages: no XZ-compressed ELF in $vmlinuz; booting it compressed" >&2
	cp "$vmlinuz" "$tmp/vmlinux"
fi

# ---- helpers ------------------------------------------------------------------------------
libs="$tmp/libs"
: >"$libs"
# copy_bin FILE DEST: FILE (dereferenced) to DEST in the image; its libraries are noted
copy_bin() {
	mkdir -p "$(dirname "$root$2")"
	cp -L "$1" "$root$2"
	chmod 755 "$root$2"
	ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' \
		>>"$libs" || true
}
copy_libs() {
	for l in $(sort -u "$libs"); do
		mkdir -p "$(dirname "$root$l")"
		cp -L "$l" "$root$l"
	done
}
# copy_module NAME DEST: the module as an uncompressed .ko (busybox insmod reads no .xz)
copy_module() {
	m=$(awk -v n="$1" -F: '{ f = $1; sub(/.*\//, "", f); sub(/\.ko.*/, "", f);
		if (f == n) { print $1; exit } }' "$moddir/modules.dep")
	[ -n "$m" ] || { echo "mkimages: module $1 not in $moddir" >&2; exit 1; }
	case $m in
	*.ko.xz) xz -dc "$moddir/$m" >"$2" ;;
	*.ko.zst) zstd -qdc "$moddir/$m" >"$2" ;;
	*.ko.gz) gzip -dc "$moddir/$m" >"$2" ;;
	*) cp "$moddir/$m" "$2" ;;
	esac
}
mkcpio() { (cd "$1" && find . | sort | cpio -o -H newc -R 0:0 --quiet); }

# ---- the DomU initramfs: busybox, xen-netfront, /init ---------------------------------------
root=$tmp/domu
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/modules" "$root/tmp" \
	"$root/run" "$root/etc/vscope"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
for m in $domu_modules; do copy_module "$m" "$root/modules/$m.ko"; done
install -m 755 "$src/domu-init" "$root/init"
mkcpio "$root" >"$tmp/domu.cpio"

# ---- the Dom0 initramfs ----------------------------------------------------------------------
root=$tmp/dom0
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/run" "$root/tmp" \
	"$root/root" "$root/etc/xen" "$root/modules" "$root/domu" "$root/usr/lib" \
	"$root/lib64" "$root/var/lib/xen" "$root/var/lib/xenstored" "$root/var/log/xen"
# one flat bin: scripts find their tools under any of the usual names
ln -s bin "$root/sbin"
ln -s ../bin "$root/usr/bin"
ln -s ../bin "$root/usr/sbin"
ln -s ../run "$root/var/run"

for t in xl xenstored xenconsoled xen-init-dom0 libxl-save-helper; do
	copy_bin "$xenbin/$t" "$xenbin/$t"
	ln -s "$xenbin/$t" "$root/bin/$t"
done
for t in xenstore xenstore-read xenstore-write xenstore-ls xenstore-list xenstore-rm \
	xenstore-exists xenstore-watch xenstore-chmod xenstore-control; do
	[ -e "/usr/bin/$t" ] && copy_bin "/usr/bin/$t" "/bin/$t"
done
# the real tools the hotplug scripts need (busybox's differ); brctl is optional:
# without it vif-bridge uses `ip link set master`
# tc: for the checks to read back what vscope shape made (vscope itself uses libnl only)
for t in bash ip flock stat brctl tc; do
	p=$(command -v "$t" 2>/dev/null) || continue
	copy_bin "$p" "/bin/$t"
done
cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" != brctl ] || continue           # the real one or none
	[ -e "$root/bin/$a" ] || [ -L "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
done
# glibc dlopens libgcc_s for pthread_cancel; without it xl aborts at exit
gcc_s=$(ldconfig -p 2>/dev/null | awk '/libgcc_s\.so\.1 .*x86-64/ { print $NF; exit }')
[ -n "$gcc_s" ] || gcc_s=/lib/x86_64-linux-gnu/libgcc_s.so.1
echo "$gcc_s" >>"$libs"
copy_libs

cp -rL /etc/xen/scripts "$root/etc/xen/scripts"
cp -L /etc/xen/xl.conf "$root/etc/xen/xl.conf"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' \
	>"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
i=10
for m in $dom0_modules; do
	copy_module "$m" "$root/modules/$i-$m.ko"
	i=$((i + 1))
done
mkdir -p "$root/modules/tc"
for m in $tc_modules; do copy_module "$m" "$root/modules/tc/$m.ko"; done
cp -L "$vmlinuz" "$root/domu/vmlinuz"
install -m 755 "$src/dom0-init" "$root/init"
mkcpio "$root" >"$tmp/dom0.cpio"

mkdir -p "$out"
for f in xen.elf vmlinux domu.cpio dom0.cpio; do
	mv -f "$tmp/$f" "$out/$f"
done
