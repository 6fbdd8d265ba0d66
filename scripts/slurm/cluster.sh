#!/usr/bin/env bash
# Installs, starts and stops a single-node Slurm cluster on localhost, for
# pit's Slurm executor tests and for trying the executor on one machine.
#
# Usage:
#   scripts/slurm/cluster.sh install        apt-get the packages (root; Debian/Ubuntu)
#   scripts/slurm/cluster.sh start DIR      start munged, slurmctld and slurmd with a
#                                           config, state and logs in DIR; prints the
#                                           SLURM_CONF line to export (also in DIR/env)
#   scripts/slurm/cluster.sh stop DIR       stop the daemons started in DIR, by PID
#   scripts/slurm/cluster.sh run DIR CMD..  start, run CMD with SLURM_CONF set, stop
#                                           (also when CMD fails or is interrupted)
#
# No systemd is needed. Everything runs as root (SlurmUser=root), so start
# and stop need root. Environment: PIT_SLURM_CPUS (CPUs the node
# advertises, default 8; more than the machine has is allowed).
set -euo pipefail

die() { echo "slurm/cluster.sh: $*" >&2; exit 1; }

install() {
	if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "install needs root"
	command -v apt-get >/dev/null || die "no apt-get: install slurmctld, slurmd, slurm-client and munge yourself"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
}

# alive PID: the process exists and is not a zombie (a daemon we signalled
# lingers as a zombie until its parent reaps it, so kill -0 is not enough).
alive() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

stop_pid() { # stop_pid PIDFILE
	local f=$1 pid i
	[ -s "$f" ] || return 0
	pid=$(cat "$f")
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 50); do alive "$pid" || break; sleep 0.1; done
		alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

stop() {
	local dir=$1
	[ -d "$dir" ] || return 0
	dir=$(cd "$dir" && pwd)
	# Cancel leftover jobs first so no job step outlives the cluster.
	if [ -f "$dir/slurm.conf" ] && [ -s "$dir/slurmctld.pid" ] && alive "$(cat "$dir/slurmctld.pid")"; then
		SLURM_CONF="$dir/slurm.conf" timeout 5 scancel --full --user=root 2>/dev/null || true
	fi
	stop_pid "$dir/slurmd.pid"
	stop_pid "$dir/slurmctld.pid"
	stop_pid "$dir/munged.pid"
	rm -f "/run/munge/pit-$(printf %s "$dir" | cksum | cut -d' ' -f1)".*
}

start() {
	local dir=$1 host cpus i
	[ "$(id -u)" = 0 ] || die "start needs root"
	command -v slurmctld >/dev/null || die "Slurm is not installed (run: $0 install)"
	mkdir -p "$dir/state" "$dir/spool" "$dir/log"
	dir=$(cd "$dir" && pwd)
	host=$(hostname -s)
	cpus=${PIT_SLURM_CPUS:-8}

	# munge: the key comes with the package (mungekey makes one if missing).
	# Each cluster runs its own munged on its own socket, so stopping one
	# cluster never pulls authentication from under another.
	mkdir -p /run/munge /var/log/munge /var/lib/munge
	chown munge:munge /run/munge /var/log/munge /var/lib/munge
	chmod 0755 /run/munge
	if [ ! -s /etc/munge/munge.key ]; then
		mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
		chown munge:munge /etc/munge/munge.key
		chmod 0400 /etc/munge/munge.key
	fi
	id=pit-$(printf %s "$dir" | cksum | cut -d' ' -f1)
	sock=/run/munge/$id.socket
	runuser -u munge -- /usr/sbin/munged --force --socket="$sock" --pid-file="/run/munge/$id.pid" \
		--seed-file="/run/munge/$id.seed" --log-file="/var/log/munge/$id.log"
	for i in $(seq 50); do [ -s "/run/munge/$id.pid" ] && break; sleep 0.1; done
	[ -s "/run/munge/$id.pid" ] || die "munged did not start (see /var/log/munge/$id.log)"
	cp "/run/munge/$id.pid" "$dir/munged.pid"

	cat >"$dir/slurm.conf" <<CONF
ClusterName=pit
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
MinJobAge=3600
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdParameters=config_overrides
MailProg=/bin/true
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=$((6817 + 10 * (${PIT_SLURM_PORT_OFFSET:-0})))
SlurmdPort=$((6818 + 10 * (${PIT_SLURM_PORT_OFFSET:-0})))
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=4096 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
	echo "SLURM_CONF=$dir/slurm.conf" >"$dir/env"
	export SLURM_CONF="$dir/slurm.conf"

	slurmctld -c -f "$SLURM_CONF"   # -c: a fresh state (no jobs of an earlier cluster)
	slurmd -f "$SLURM_CONF" -N "$host"
	for i in $(seq 100); do
		if sinfo -h -o %t 2>/dev/null | grep -Eq '^(idle|mix|alloc)'; then
			echo "SLURM_CONF=$SLURM_CONF"
			return 0
		fi
		sleep 0.1
	done
	echo "slurm did not come up; logs:" >&2
	tail -n 20 "$dir"/log/*.log >&2 || true
	stop "$dir"
	return 1
}

case "${1:-}" in
install) install ;;
start) [ $# = 2 ] || die "usage: $0 start DIR"; start "$2" ;;
stop) [ $# = 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
run)
	[ $# -ge 3 ] || die "usage: $0 run DIR CMD..."
	d=$2; shift 2
	trap 'stop "$d"' EXIT
	trap 'exit 130' INT TERM
	start "$d" >/dev/null
	SLURM_CONF="$d/slurm.conf" "$@"
	;;
*) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
