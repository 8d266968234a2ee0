#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, to try the cluster scripts in docs/ (and for
# the tests): munge, slurmctld and slurmd started without systemd, every file under one
# folder, every daemon stopped by its PID.
#   bash scripts/slurm_local.sh install   # Debian's slurmctld slurmd slurm-client munge
#   bash scripts/slurm_local.sh start     # prints the folder; ready when it returns
#   bash scripts/slurm_local.sh stop
#   bash scripts/slurm_local.sh status
# The folder is $GCNET_SLURM_DIR (default /tmp/gcnet-slurm). Needs root (or sudo): the
# daemons run as root and munged as the munge user, as Debian's packages set them up.
# The node claims 4 CPUs whatever the machine has (SlurmdParameters=config_overrides):
# an NEB needs at least 3 ranks, and the tests' NEBs are small.
set -euo pipefail
DIR=${GCNET_SLURM_DIR:-/tmp/gcnet-slurm}
CPUS=${GCNET_SLURM_CPUS:-4}
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
say() { printf '\033[1m[slurm]\033[0m %s\n' "$*" >&2; }

running() { # pid file -> alive?
  [ -f "$1" ] && $SUDO kill -0 "$(cat "$1")" 2>/dev/null
}

install() {
  local need=()
  for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if ((${#need[@]})); then
    say "installing Debian packages: ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

write_conf() {
  local host mem
  host=$(hostname -s)
  mem=$(($(awk '/^MemTotal/ {print $2}' /proc/meminfo) / 1024)) # MB, so that --mem-per-cpu fits
  cat >"$DIR/slurm.conf" <<EOF
ClusterName=gcnet-local
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=300
KillWait=10
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
SlurmctldPort=${GCNET_SLURM_PORT:-6817}
SlurmdPort=$(( ${GCNET_SLURM_PORT:-6817} + 1 ))
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  install
  if running "$DIR/slurmctld.pid" && running "$DIR/slurmd.pid"; then
    say "already running in $DIR"
    echo "$DIR"
    return
  fi
  stop >/dev/null 2>&1 || true
  # A fresh cluster: no jobs of an earlier start come back.
  $SUDO rm -rf "$DIR/state" "$DIR/spool"
  $SUDO mkdir -p "$DIR/state" "$DIR/spool" "$DIR/munge"
  $SUDO chown munge: "$DIR/munge"
  write_conf
  # munge: the package's key, its default socket (where SLURM looks), the daemon as the
  # munge user; its PID, log and seed files in our folder.
  [ -f /etc/munge/munge.key ] || $SUDO /usr/sbin/mungekey --create
  $SUDO mkdir -p /run/munge
  $SUDO chown munge: /run/munge
  $SUDO chmod 0755 /run/munge "$DIR/munge"
  if ! running "$DIR/munge/munged.pid"; then
    $SUDO setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged \
      --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed"
  fi
  # The clients (sbatch, srun, sinfo) find the configuration through SLURM_CONF.
  export SLURM_CONF="$DIR/slurm.conf"
  $SUDO env SLURM_CONF="$SLURM_CONF" /usr/sbin/slurmctld -i -f "$SLURM_CONF" &
  $SUDO env SLURM_CONF="$SLURM_CONF" /usr/sbin/slurmd -f "$SLURM_CONF" &
  for _ in $(seq 1 100); do
    if sinfo -h -o '%t' 2>/dev/null | grep -qx 'idle'; then
      say "one-node SLURM ready in $DIR (export SLURM_CONF=$SLURM_CONF)"
      echo "$DIR"
      return
    fi
    sleep 0.2
  done
  say "SLURM did not become ready; logs in $DIR"
  tail -5 "$DIR/slurmctld.log" "$DIR/slurmd.log" >&2 || true
  stop || true
  exit 1
}

stop() {
  for f in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munge/munged.pid"; do
    if running "$f"; then
      local pid
      pid=$(cat "$f")
      $SUDO kill "$pid"
      for _ in $(seq 1 50); do $SUDO kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      $SUDO kill -9 "$pid" 2>/dev/null || true
    fi
  done
  say "stopped ($DIR)"
}

status() {
  export SLURM_CONF="$DIR/slurm.conf"
  for f in munge/munged slurmctld slurmd; do
    if running "$DIR/$f.pid"; then echo "$f: running (pid $(cat "$DIR/$f.pid"))"; else echo "$f: stopped"; fi
  done
  sinfo 2>/dev/null || true
}

case ${1:-} in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
