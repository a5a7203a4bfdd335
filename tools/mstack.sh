# tools/mstack.sh: milliScope's very-short-bottleneck scenario on the SIMULATED Dom0, sourced
# by tests/mstack.test. Network namespaces stand in for the VMs
# (tools/testbed); the servers are the real Debian packages, run with configurations written
# here into $RUN (the system's own configurations and services are not touched):
#
#   remote (10.77.1.1)  tests/httpload: open-loop load at a fixed rate
#   vm1 (10.77.1.11)    nginx: makes a request ID ($request_id), passes it as X-Request-ID
#   vm2 (10.77.1.12)    Apache httpd + mod_php: logs the ID (REQ_ID), the PHP page puts it
#                       in an SQL comment /* ID=... */ and commits one INSERT per request
#   vm3 (10.77.1.13)    PostgreSQL: logs every statement with its duration
#   Dom0 side           collectl -i 0.05 (CPU, per CPU, disks, memory with Dirty) in plot files
#
# Namespaces share one kernel and one file system, so CPU, disk and memory figures are the
# machine's, not a VM's (that is what is simulated). To give each injection a tier of its own,
# Apache runs on CPU 1 and everything else on CPU 0. The web tiers' files and every server's
# log are on a tmpfs ($RUN/mem). The database VM gets a virtual disk of its own: an ext4 file
# system on a loop device whose image is on that tmpfs, capped at MS_DISK_BPS bytes/s of writes
# for vm3's processes (a blkio cgroup, v1 blkio.throttle.write_bps_device or v2 io.max), as a
# hypervisor caps a VM's disk. The cap, not the machine's own disk (whose speed varies from one
# machine to the next, and which /tmp may not even be on), is then what the database waits for.
# The kernel's writeback workers are held to CPU 0 while the stack runs
# (/sys/bus/workqueue/devices/writeback/cpumask, put back by ms_down).
#
# Injections: ms_inject_disk (a batch job in vm3 writes a few MB with O_DIRECT onto the capped
# disk: the database's WAL flushes queue behind it for a few hundred ms), ms_inject_cpu (a busy
# loop at real-time priority on Apache's CPU).
#
# The caller sets: top (source tree), build (build tree), P (testbed prefix), RUN (a state
# directory of its own, removed by ms_down). Functions return non-zero with a message on
# stderr; none of them exits.

MS_FRONT=10.77.1.11
MS_APP=10.77.1.12
MS_DB=10.77.1.13
MS_APP_CPU=1
MS_OTHER_CPU=0
ms_pids=
MS_WBMASK=/sys/bus/workqueue/devices/writeback/cpumask
MS_DISK_BPS=$((20 * 1024 * 1024))
MS_DISK_MB=1024
ms_loop=
ms_cg=

MS_TESTBED=$top/tools/testbed
ms_tb() { "$MS_TESTBED" --prefix "$P" "$@"; }
ms_err() { echo "mstack: $*" >&2; return 1; }

ms_pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# ms_check: every program the scenario runs is installed (bootstrap's TEST_PKGS)
ms_check() {
	local c
	for c in nginx apache2 collectl taskset setpriv chrt setsid losetup mkfs.ext4; do
		command -v "$c" >/dev/null || { ms_err "needs $c"; return 1; }
	done
	[ -x "$(ms_pgbin)/postgres" ] || { ms_err "needs postgresql"; return 1; }
	ls /usr/lib/apache2/modules/libphp*.so >/dev/null 2>&1 || { ms_err "needs libapache2-mod-php"; return 1; }
	for c in "$build/tools/vscope" "$build/tests/httpload"; do
		[ -x "$c" ] || { ms_err "$c is not built"; return 1; }
	done
}

# ms_wait_port VM HOST PORT: until something accepts on HOST:PORT (10 s)
ms_wait_port() {
	local vm=$1 host=$2 port=$3
	for _ in $(seq 100); do
		ms_tb exec "$vm" bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ms_disk_up: vm3's virtual disk (see the header): a loop device on an image in the tmpfs,
# ext4 on it mounted at $RUN/pg, and the blkio cgroup $ms_cg whose writes to it are capped
ms_disk_up() {
	local dev v1=/sys/fs/cgroup/blkio v2=/sys/fs/cgroup
	truncate -s ${MS_DISK_MB}M "$RUN/mem/vm3-disk.img" &&
	ms_loop=$(losetup -f --show "$RUN/mem/vm3-disk.img") ||
		{ ms_err "no free loop device for vm3's disk"; return 1; }
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$ms_loop" >"$RUN/mkfs.log" 2>&1 &&
	mkdir -p "$RUN/pg" && mount "$ms_loop" "$RUN/pg" ||
		{ ms_err "vm3's disk: $(tail -3 "$RUN/mkfs.log")"; return 1; }
	dev=$(cat "/sys/block/${ms_loop#/dev/}/dev")
	if [ -e "$v1/blkio.throttle.write_bps_device" ]; then
		ms_cg=$v1/vscope-mstack-$P
		mkdir -p "$ms_cg" && echo "$dev $MS_DISK_BPS" >"$ms_cg/blkio.throttle.write_bps_device"
	elif grep -qw io "$v2/cgroup.controllers" 2>/dev/null; then
		ms_cg=$v2/vscope-mstack-$P
		grep -qw io "$v2/cgroup.subtree_control" || echo +io >"$v2/cgroup.subtree_control"
		mkdir -p "$ms_cg" && echo "$dev wbps=$MS_DISK_BPS" >"$ms_cg/io.max"
	else
		ms_err "no blkio (cgroup v1) or io (cgroup v2) controller to cap vm3's disk"
		return 1
	fi || { ms_err "cannot cap $ms_loop ($dev) in $ms_cg"; return 1; }
}

# ms_disk_down: the cgroup (once empty), the file system and the loop device
ms_disk_down() {
	local p
	if [ -n "$ms_cg" ] && [ -d "$ms_cg" ]; then
		for p in $(cat "$ms_cg/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		for _ in $(seq 50); do rmdir "$ms_cg" 2>/dev/null && break; sleep 0.1; done
	fi
	mountpoint -q "$RUN/pg" && umount "$RUN/pg" 2>/dev/null || umount -l "$RUN/pg" 2>/dev/null
	[ -n "$ms_loop" ] && losetup -d "$ms_loop" 2>/dev/null
	ms_cg=
	ms_loop=
	return 0
}

# ms_in_vm3 CMD...: CMD in vm3's namespace and in its disk's cgroup
MS_JOIN_CG='echo $$ >"$0/cgroup.procs" && exec "$@"'
ms_in_vm3() {
	"$MS_TESTBED" --prefix "$P" exec vm3 bash -c "$MS_JOIN_CG" "$ms_cg" "$@"
}

ms_db_up() {
	local bin pg=$RUN/pg
	bin=$(ms_pgbin)
	mkdir -p "$pg/data" "$pg/sock" && chown -R postgres:postgres "$pg" && chmod 700 "$pg/data" || return 1
	setpriv --reuid=postgres --regid=postgres --init-groups "$bin/initdb" -D "$pg/data" -U postgres --auth=trust -E UTF8 \
		--no-sync >"$RUN/initdb.log" 2>&1 || { ms_err "initdb: $(tail -3 "$RUN/initdb.log")"; return 1; }
	echo "host all all 10.77.1.0/24 trust" >>"$pg/data/pg_hba.conf"
	# not through ms_in_vm3: $! must be the server itself (the testbed and bash exec into it),
	# which a background function's subshell is not
	"$MS_TESTBED" --prefix "$P" exec vm3 bash -c "$MS_JOIN_CG" "$ms_cg" taskset -c $MS_OTHER_CPU \
		setpriv --reuid=postgres --regid=postgres --init-groups \
		"$bin/postgres" -D "$pg/data" -c listen_addresses=$MS_DB -c port=5432 \
		-c unix_socket_directories="$pg/sock" -c max_connections=60 -c shared_buffers=16MB \
		-c fsync=on -c synchronous_commit=on -c max_wal_size=256MB -c log_destination=stderr -c logging_collector=off \
		-c log_min_duration_statement=0 -c "log_line_prefix=%m [%p] " -c log_timezone=UTC \
		>/dev/null 2>"$RUN/mem/postgres.log" &
	ms_pgpid=$!
	for _ in $(seq 100); do
		"$bin/pg_isready" -q -h "$pg/sock" -p 5432 && break
		sleep 0.1
	done
	setpriv --reuid=postgres --regid=postgres --init-groups "$bin/psql" -h "$pg/sock" -p 5432 -qAt -v ON_ERROR_STOP=1 -c \
		"CREATE TABLE hits (n bigserial PRIMARY KEY, rid text, t timestamptz)" postgres \
		>/dev/null 2>"$RUN/psql.log" || { ms_err "postgres: $(tail -3 "$RUN/mem/postgres.log" "$RUN/psql.log")"; return 1; }
}

ms_app_up() {
	local a=$RUN/mem/apache php
	php=$(ls /usr/lib/apache2/modules/libphp*.so | sort -V | tail -n 1)
	mkdir -p "$a" "$RUN/mem/www" || return 1
	cat >"$RUN/mem/www/app.php" <<'EOF'
<?php
// One request: the ID nginx made (X-Request-ID) in an SQL comment, one committed INSERT.
$id = $_SERVER['HTTP_X_REQUEST_ID'] ?? '';
if (!preg_match('/^[0-9A-Za-z_-]{1,64}$/', $id))
	$id = 'none';
$db = pg_pconnect('host=10.77.1.13 port=5432 dbname=postgres user=postgres');
if ($db === false) {
	http_response_code(503);
	exit;
}
$r = pg_query($db, "/* ID=$id */ INSERT INTO hits (rid, t) VALUES ('$id', now()) RETURNING n");
echo $r === false ? "error\n" : pg_fetch_result($r, 0, 0), "\n";
EOF
	# prefork, every child forked up front, five times nginx's pool of idle keep-alive
	# connections: a child that holds one takes no other connection. With 12 children
	# spawning up to 40 and a pool of 32, requests on connections past the free children
	# waited in the listen queue for seconds at the start of a run (seen in a --plot), and
	# that merged with the disk injection's cluster.
	cat >"$a/httpd.conf" <<EOF
ServerRoot /usr/lib/apache2
ServerName vm2
PidFile $a/httpd.pid
DefaultRuntimeDir $a
Mutex file:$a default
Listen $MS_APP:8080
User www-data
Group www-data
LoadModule mpm_prefork_module modules/mod_mpm_prefork.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule setenvif_module modules/mod_setenvif.so
LoadModule unique_id_module modules/mod_unique_id.so
LoadModule php_module $php
StartServers 40
MinSpareServers 40
MaxSpareServers 40
ServerLimit 40
MaxRequestWorkers 40
MaxConnectionsPerChild 0
KeepAlive On
DocumentRoot $RUN/mem/www
<Directory $RUN/mem/www>
	Require all granted
</Directory>
<FilesMatch "\.php\$">
	SetHandler application/x-httpd-php
</FilesMatch>
SetEnvIf X-Request-ID "^([0-9A-Za-z_-]{1,64})\$" REQ_ID=\$1
ErrorLog $a/error.log
LogFormat "%{%Y-%m-%dT%H:%M:%S}t.%{usec_frac}t %{UNIQUE_ID}e %{REQ_ID}e \"%r\" %>s %b %D %{begin:usec}t %{end:usec}t" mscope
CustomLog $a/access.log mscope
EOF
	chmod 755 "$RUN" "$RUN/mem/www" && chmod 644 "$RUN/mem/www/app.php" || return 1
	# setsid: when it stops, httpd signals its whole process group, which would be ours
	"$MS_TESTBED" --prefix "$P" exec vm2 setsid taskset -c $MS_APP_CPU apache2 -f "$a/httpd.conf" \
		-DFOREGROUND >/dev/null 2>"$RUN/apache.stderr" &
	ms_pids="$ms_pids $!"
	ms_wait_port vm2 $MS_APP 8080 ||
		{ ms_err "apache: $(tail -3 "$RUN/apache.stderr" "$a/error.log" 2>/dev/null)"; return 1; }
}

ms_front_up() {
	local n=$RUN/mem/nginx
	mkdir -p "$n/logs" || return 1
	cat >"$n/nginx.conf" <<EOF
worker_processes 1;
pid $n/nginx.pid;
error_log $n/error.log warn;
events { worker_connections 512; }
http {
	log_format mscope '\$msec \$request_id \$request_time \$upstream_response_time \$status '
	                  '\$body_bytes_sent "\$request"';
	access_log $n/access.log mscope;
	client_body_temp_path $n/body;
	proxy_temp_path $n/proxy;
	fastcgi_temp_path $n/fastcgi;
	uwsgi_temp_path $n/uwsgi;
	scgi_temp_path $n/scgi;
	upstream app {
		server $MS_APP:8080;
		keepalive 8;
	}
	server {
		listen $MS_FRONT:80;
		location / {
			proxy_pass http://app;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header X-Request-ID \$request_id;
			proxy_read_timeout 30s;
		}
	}
}
EOF
	"$MS_TESTBED" --prefix "$P" exec vm1 setsid taskset -c $MS_OTHER_CPU nginx -p "$n" -c "$n/nginx.conf" \
		-g "daemon off;" >/dev/null 2>"$RUN/nginx.stderr" &
	ms_pids="$ms_pids $!"
	ms_wait_port vm1 $MS_FRONT 80 ||
		{ ms_err "nginx: $(tail -3 "$RUN/nginx.stderr" "$n/error.log" 2>/dev/null)"; return 1; }
}

# ms_get: one request through the stack from the remote host; prints the reply, fails unless
# it is a 200 with the new row's number
ms_get() {
	local out
	out=$(ms_tb remote timeout 5 bash -c "exec 3<>/dev/tcp/$MS_FRONT/80 &&
		printf 'GET /app.php HTTP/1.0\\r\\nHost: vm1\\r\\n\\r\\n' >&3 && cat <&3" 2>&1)
	echo "$out"
	case $out in
	"HTTP/1.1 200"*) [ -n "$(echo "$out" | tail -n 1 | tr -dc 0-9)" ] ;;
	*) return 1 ;;
	esac
}

# ms_up: the testbed with 3 VMs and the three tiers, answering through nginx
ms_up() {
	local out
	ms_check || return 1
	ms_tb down >/dev/null 2>&1
	ms_disk_down
	mountpoint -q "$RUN/mem" && umount -l "$RUN/mem"
	rm -rf "$RUN"
	mkdir -p "$RUN/mem" && mount -t tmpfs -o size=2g,mode=755 vscope-mstack "$RUN/mem" ||
		{ ms_err "cannot mount a tmpfs on $RUN/mem"; return 1; }
	ms_disk_up || return 1
	if [ -w "$MS_WBMASK" ] && [ -z "${ms_wbsaved:-}" ]; then
		ms_wbsaved=$(cat "$MS_WBMASK")
		echo 1 >"$MS_WBMASK" || ms_wbsaved=
	fi
	ms_tb up --vms 3 >"$RUN/testbed.log" 2>&1 ||
		{ ms_err "testbed up failed: $(tail -3 "$RUN/testbed.log")"; return 1; }
	ms_db_up && ms_app_up && ms_front_up || return 1
	out=$(ms_get) && return 0
	ms_err "the stack does not answer: $out"
}

# ms_monitor_start: collectl at 50 ms into $RUN/mem/collectl (plot files, uncompressed, ms times)
ms_monitor_start() {
	mkdir -p "$RUN/mem/collectl" || return 1
	taskset -c $MS_OTHER_CPU collectl -i 0.05 -scdmCD --rawdskfilt '+loop\d+ ' -P -f "$RUN/mem/collectl" -ozm \
		>"$RUN/mem/collectl.log" 2>&1 &
	ms_cpid=$!
	ms_pids="$ms_pids $ms_cpid"
}

ms_monitor_stop() {
	[ -n "${ms_cpid:-}" ] && kill -INT "$ms_cpid" 2>/dev/null && wait "$ms_cpid" 2>/dev/null
	ms_cpid=
	return 0
}

# ms_load SECS RATE OUT: RATE requests a second from the remote host for SECS seconds, open
# loop (background; the pid in $ms_lpid, the summary line in OUT)
ms_load() {
	"$MS_TESTBED" --prefix "$P" remote taskset -c $MS_OTHER_CPU "$build/tests/httpload" \
		-r "$2" -d "$1" -m 2000 $MS_FRONT 80 /app.php >"$3" 2>&1 &
	ms_lpid=$!
}

# ms_inject_disk MB: a batch job in vm3 writes MB megabytes in 4 MB O_DIRECT blocks onto
# vm3's capped disk (MB / 20 s at the cap). Its blocks and the database's WAL flushes queue in
# the same cgroup: each flush waits behind a block, about 200 ms at the cap.
ms_inject_disk() {
	ms_in_vm3 taskset -c $MS_OTHER_CPU dd if=/dev/zero of="$RUN/pg/hog" bs=4M count=$(($1 / 4)) \
		oflag=direct 2>"$RUN/dd.log" || { ms_err "dd: $(tail -2 "$RUN/dd.log")"; return 1; }
	rm -f "$RUN/pg/hog"
}

# ms_inject_cpu SECS: a busy loop at real-time priority (SCHED_FIFO 1) on Apache's CPU for SECS
# seconds. Real-time, not nice -19: with autogroup scheduling a niced loop in another session
# only gets its session's fair share of the CPU.
ms_inject_cpu() {
	# timeout outside: a SCHED_FIFO timeout on the loop's CPU would never run to stop it
	ms_tb exec vm2 timeout "$1" taskset -c $MS_APP_CPU chrt -f 1 bash -c 'while :; do :; done'
	return 0
}

# ms_snapshot DIR: the run's logs and collectl files, copied into DIR (the PostgreSQL log goes
# on growing: a warehouse on that server logs its own statements)
ms_snapshot() {
	mkdir -p "$1" &&
	cp "$RUN/mem/nginx/access.log" "$1/nginx-access.log" &&
	cp "$RUN/mem/apache/access.log" "$1/apache-access.log" &&
	cp "$RUN/mem/postgres.log" "$1/postgres.log" &&
	cp "$RUN"/mem/collectl/*.tab "$RUN"/mem/collectl/*.cpu "$RUN"/mem/collectl/*.dsk "$1/"
}

# ms_ingest URL DIR: a snapshot (ms_snapshot) into warehouse URL, run "mstack"
ms_ingest() {
	"$build/tools/vscope" mscope ingest -w "$1" --run mstack \
		--format nginx-mscope --host vm1 "$2/nginx-access.log" &&
	"$build/tools/vscope" mscope ingest -w "$1" --run mstack \
		--format apache-milliscope --host vm2 "$2/apache-access.log" &&
	"$build/tools/vscope" mscope ingest -w "$1" --run mstack \
		--format postgres-mscope --host vm3 "$2/postgres.log" &&
	"$build/tools/vscope" mscope ingest -w "$1" --run mstack "$2"/*.tab "$2"/*.cpu "$2"/*.dsk
}

# ms_down: stop everything and remove the testbed
ms_down() {
	local p
	ms_monitor_stop
	[ -n "${ms_lpid:-}" ] && kill "$ms_lpid" 2>/dev/null
	for p in $ms_pids; do kill "$p" 2>/dev/null; done
	for p in $ms_pids; do wait "$p" 2>/dev/null; done
	# SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for its clients)
	[ -n "${ms_pgpid:-}" ] && kill -INT "$ms_pgpid" 2>/dev/null && wait "$ms_pgpid" 2>/dev/null
	ms_pids=
	ms_pgpid=
	ms_tb down >/dev/null 2>&1
	ms_disk_down
	mountpoint -q "$RUN/mem" && umount -l "$RUN/mem"
	rm -rf "$RUN"
	[ -n "${ms_wbsaved:-}" ] && echo "$ms_wbsaved" >"$MS_WBMASK"
	ms_wbsaved=
	return 0
}
