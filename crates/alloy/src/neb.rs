//! One nudged-elastic-band run of one jump (SPEC section 8): the LAMMPS input, the data
//! files of the initial and final replicas, the run (one MPI rank per image, one image per
//! partition) and the barrier read from LAMMPS's own report.

use std::fs::File;
use std::path::Path;
use std::process::Stdio;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::geometry::Geometry;
use crate::lammps::{Lammps, LaunchOptions};
use crate::potential::Potential;

/// NEB settings; the defaults are those of the published Cantor data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NebSettings {
    /// Images (replicas), end points included; odd.
    pub images: usize,
    /// Parallel spring constant (eV/Å^2), "ideal" form.
    pub spring_parallel: f64,
    /// Perpendicular spring constant (eV/Å^2).
    pub spring_perp: f64,
    /// Force tolerance (eV/Å, max-norm) of the NEB and of the end-state relaxations.
    pub force_tol: f64,
    /// Energy tolerance (relative) of the NEB and of the end-state relaxations.
    pub energy_tol: f64,
    /// FIRE time step (ps).
    pub timestep: f64,
    /// Most steps of the regular stage.
    pub max_steps: usize,
    /// Most steps of the climbing-image stage; 0 (published) = no climbing image.
    pub climb_steps: usize,
    /// Steps between NEB reports (LAMMPS requires both stages to be multiples of it).
    pub print_every: usize,
}

impl Default for NebSettings {
    fn default() -> Self {
        NebSettings {
            images: 11,
            spring_parallel: 10.0,
            spring_perp: 10.0,
            force_tol: 1e-3,
            energy_tol: 0.0,
            timestep: 0.001,
            max_steps: 20_000,
            climb_steps: 0,
            print_every: 50,
        }
    }
}

impl NebSettings {
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if self.images < 3 || self.images.is_multiple_of(2) {
            return bad(format!("the number of NEB images must be odd and at least 3, got {}", self.images));
        }
        if !positive(self.force_tol) || !non_negative(self.energy_tol) || !positive(self.timestep) {
            return bad(format!(
                "the force tolerance and time step must be positive and the energy tolerance non-negative (got {}, {}, {})",
                self.force_tol, self.timestep, self.energy_tol
            ));
        }
        if !positive(self.spring_parallel) || !non_negative(self.spring_perp) {
            return bad("the parallel spring constant must be positive and the perpendicular one non-negative".into());
        }
        if self.print_every == 0
            || !self.max_steps.is_multiple_of(self.print_every)
            || !self.climb_steps.is_multiple_of(self.print_every)
        {
            return bad(format!(
                "the regular ({}) and climbing ({}) step limits must be multiples of the report interval {} (LAMMPS requires it)",
                self.max_steps, self.climb_steps, self.print_every
            ));
        }
        Ok(())
    }

    /// The FIRE lines shared by the NEB and the end-state relaxations.
    pub(crate) fn fire_lines(&self) -> String {
        format!("min_style fire\ntimestep {}\nmin_modify norm max abcfire yes tmax 5 dmax 0.01\n", self.timestep)
    }

    /// The NEB input: reads `initial.data` and `final.data` from the run directory.
    pub fn script(&self, potential: &Potential, elements: &[String]) -> String {
        format!(
            "{SETUP}read_data initial.data\n{pair}fix 1 all neb {k} parallel ideal perp {p}\n{fire}neb {etol} {ftol} {n1} {n2} {every} final final.data\n",
            pair = potential.pair_lines(elements),
            k = self.spring_parallel,
            p = self.spring_perp,
            fire = self.fire_lines(),
            etol = self.energy_tol,
            ftol = self.force_tol,
            n1 = self.max_steps,
            n2 = self.climb_steps,
            every = self.print_every,
        )
    }
}

/// x > 0 (false for NaN).
fn positive(x: f64) -> bool {
    x > 0.0
}

/// x >= 0 (false for NaN).
fn non_negative(x: f64) -> bool {
    x >= 0.0
}

/// The lines that open every gcnet LAMMPS input (SPEC section 8): atoms are never
/// re-sorted, so ids stay tied to sites.
pub(crate) const SETUP: &str =
    "units metal\natom_style atomic\natom_modify map array\nboundary p p p\natom_modify sort 0 0.0\n";

/// What one NEB gave: the values of LAMMPS's last report of the regular stage (or of the
/// climbing stage, when there is one).
#[derive(Clone, Debug, PartialEq)]
pub struct NebResult {
    /// Forward barrier (eV): EBF, the highest image energy minus the first image's.
    pub barrier: f64,
    /// PE1..PEn (eV).
    pub image_energies: Vec<f64>,
    /// RD1..RDn: reaction coordinates, 0 to 1.
    pub reaction_coords: Vec<f64>,
    /// MaxAtomForce (eV/Å).
    pub max_atom_force: f64,
    /// The step of that report.
    pub iterations: usize,
    /// False when the regular stage ran into its step limit.
    pub converged: bool,
}

/// The inputs of one NEB run.
#[derive(Clone, Copy)]
pub struct NebInput<'a> {
    pub geometry: &'a Geometry,
    pub potential: &'a Potential,
    /// The element of label 1, 2, ...
    pub elements: &'a [String],
    pub settings: &'a NebSettings,
}

impl NebInput<'_> {
    /// Writes `in.neb`, `initial.data` and `final.data` of jump `jump` of the state
    /// `labels` (vacancy on `vacancy`) into `dir`.
    pub fn write(&self, dir: &Path, labels: &[u8], vacancy: usize, jump: usize) -> Result<()> {
        let files = [
            ("in.neb", self.settings.script(self.potential, self.elements)),
            ("initial.data", self.geometry.data_file(labels, self.elements.len(), None)),
            ("final.data", self.geometry.neb_final_file(vacancy, jump)),
        ];
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(Error::io(&path, "write the LAMMPS input"))?;
        }
        Ok(())
    }

    /// Runs the NEB whose inputs are in `dir` and reads its result; `what` names the
    /// state and jump in errors.
    pub fn run(&self, lammps: &Lammps, launch: &LaunchOptions, dir: &Path, what: &str) -> Result<NebResult> {
        self.run_timed(lammps, launch, dir, what).map(|(r, _)| r)
    }

    /// [`NebInput::run`], also returning how long the launched LAMMPS process took (the
    /// rest of the call is gcnet's own work: the benchmark's overhead).
    pub fn run_timed(
        &self,
        lammps: &Lammps,
        launch: &LaunchOptions,
        dir: &Path,
        what: &str,
    ) -> Result<(NebResult, std::time::Duration)> {
        let n = self.settings.images;
        let out_path = dir.join("launcher.out");
        let out = File::create(&out_path).map_err(Error::io(&out_path, "create"))?;
        let err = out.try_clone().map_err(Error::io(&out_path, "open"))?;
        let mut cmd = lammps.parallel_command(n, launch)?;
        cmd.args(["-p", &format!("{n}x1"), "-in", "in.neb", "-log", "neb.log", "-screen", "none", "-nocite"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let fail = |message: String| Error::Lammps { what: what.to_string(), message, dir: dir.to_path_buf() };
        let started = std::time::Instant::now();
        let (mut child, group) =
            crate::interrupt::spawn(&mut cmd, |e| fail(format!("cannot start {}: {e}", launch.launcher.name())))?;
        let status = child.wait().map_err(|e| fail(format!("cannot wait for {}: {e}", launch.launcher.name())))?;
        // Every rank has ended before the result is read (or the run stops).
        drop(group);
        crate::interrupt::check(|| format!("during {what}"))?;
        let lammps_time = started.elapsed();
        let log = std::fs::read_to_string(dir.join("neb.log")).unwrap_or_default();
        if !status.success() {
            return Err(fail(format!("{} exited with {status}: {}", launch.launcher.name(), error_lines(dir))));
        }
        parse_neb_log(&log, n, self.settings.climb_steps > 0, self.settings.max_steps)
            .map(|r| (r, lammps_time))
            .map_err(|e| fail(format!("{e}; {}", error_lines(dir))))
    }
}

/// The first LAMMPS `ERROR` line of a run directory's logs, else the end of the launcher's
/// output.
pub(crate) fn error_lines(dir: &Path) -> String {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_else(|_| Vec::new());
    names.sort();
    for p in &names {
        if let Ok(text) = std::fs::read_to_string(p)
            && let Some(line) = text.lines().find(|l| l.contains("ERROR"))
        {
            return format!("{} ({})", line.trim(), p.file_name().unwrap_or_default().to_string_lossy());
        }
    }
    let out = std::fs::read_to_string(dir.join("launcher.out")).unwrap_or_default();
    let tail: Vec<&str> = out.lines().rev().take(3).collect();
    if tail.is_empty() { "no error message".into() } else { tail.into_iter().rev().collect::<Vec<_>>().join(" | ") }
}

/// Reads the universe log of a NEB run: the last report before "Climbing replica" (the end
/// of the regular stage) or, with `climbing`, the last report of the climbing stage.
pub fn parse_neb_log(
    text: &str,
    images: usize,
    climbing: bool,
    max_steps: usize,
) -> std::result::Result<NebResult, String> {
    let mut header: Option<Vec<String>> = None;
    let mut regular: Option<Vec<f64>> = None;
    let mut climb: Option<Vec<f64>> = None;
    let mut climbing_started = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("Climbing replica") {
            climbing_started = true;
            continue;
        }
        let words: Vec<&str> = t.split_whitespace().collect();
        if words.first() == Some(&"Step") && words.contains(&"MaxReplicaForce") {
            header = Some(words.iter().map(|w| w.to_string()).collect());
            continue;
        }
        let Some(h) = &header else { continue };
        if words.len() != h.len() || words[0].parse::<u64>().is_err() {
            continue;
        }
        let Ok(values) = words.iter().map(|w| w.parse::<f64>()).collect::<std::result::Result<Vec<f64>, _>>() else {
            continue;
        };
        if climbing_started {
            climb = Some(values);
        } else {
            regular = Some(values);
        }
    }
    let header = header.ok_or("the NEB log has no report (no `Step MaxReplicaForce ...` header)")?;
    if !climbing_started {
        return Err("the NEB log ends before the end of the regular stage".into());
    }
    let row = if climbing {
        climb.ok_or("the NEB log has no report of the climbing stage")?
    } else {
        regular.clone().ok_or("the NEB log has no report of the regular stage")?
    };
    let col = |name: &str| -> std::result::Result<f64, String> {
        header.iter().position(|h| h == name).map(|i| row[i]).ok_or_else(|| format!("the NEB log has no {name} column"))
    };
    let found = header.iter().filter(|h| h.starts_with("PE")).count();
    if found != images {
        return Err(format!("the NEB log reports {found} images, {images} were asked for"));
    }
    let image_energies = (1..=images).map(|i| col(&format!("PE{i}"))).collect::<std::result::Result<Vec<_>, _>>()?;
    let reaction_coords = (1..=images).map(|i| col(&format!("RD{i}"))).collect::<std::result::Result<Vec<_>, _>>()?;
    let iterations = col("Step")? as usize;
    let regular_steps = regular.as_ref().map_or(0, |r| r[0] as usize);
    Ok(NebResult {
        barrier: col("EBF")?,
        image_energies,
        reaction_coords,
        max_atom_force: col("MaxAtomForce")?,
        iterations,
        converged: regular_steps < max_steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
Running on 3 partitions of processors
    Step     MaxReplicaForce  MaxAtomForce      GradV0         GradV1         GradVc          EBF            EBR            RDT            RD1            PE1            RD2            PE2            RD3            PE3
         0   4.49             3.349          0.46           0.46           4.49           2.011669       2.011669       2.54           0              -472.07795     0.5            -470.06628     1              -472.07795
        67   0.0036343068     8.4329728e-07  0.0003145837   0.0003145837   0.055915452    1.3035306      1.3035306      2.742992       0              -472.08934     0.5            -470.78581     1              -472.08934
Climbing replica = 2
    Step     MaxReplicaForce  MaxAtomForce      GradV0         GradV1         GradVc          EBF            EBR            RDT            RD1            PE1            RD2            PE2            RD3            PE3
        67   0.0036343068     8.4329728e-07  0.0003145837   0.0003145837   0.055915452    1.3035306      1.3035306      2.742992       0              -472.08934     0.5            -470.78581     1              -472.08934
       100   0.001            5e-07          0.0003         0.0003         0.05           1.30           1.30           2.74           0              -472.09        0.49           -470.79        1              -472.09
";

    #[test]
    fn the_regular_stage_report_is_read() {
        let r = parse_neb_log(LOG, 3, false, 20000).unwrap();
        assert_eq!(r.barrier, 1.3035306);
        assert_eq!(r.image_energies, [-472.08934, -470.78581, -472.08934]);
        assert_eq!(r.reaction_coords, [0.0, 0.5, 1.0]);
        assert_eq!((r.iterations, r.max_atom_force, r.converged), (67, 8.4329728e-07, true));
        let c = parse_neb_log(LOG, 3, true, 20000).unwrap();
        assert_eq!((c.barrier, c.iterations, c.reaction_coords[1]), (1.30, 100, 0.49));
        assert!(!parse_neb_log(LOG, 3, false, 67).unwrap().converged);
    }

    #[test]
    fn broken_logs_are_errors() {
        assert!(parse_neb_log("", 3, false, 1).unwrap_err().contains("no report"));
        let cut: String = LOG.lines().take(3).collect::<Vec<_>>().join("\n");
        assert!(parse_neb_log(&cut, 3, false, 20000).unwrap_err().contains("before the end of the regular stage"));
        assert!(parse_neb_log(LOG, 5, false, 20000).unwrap_err().contains("3 images, 5 were asked"));
    }

    #[test]
    fn settings_are_checked() {
        assert!(NebSettings::default().validate().is_ok());
        let even = NebSettings { images: 10, ..NebSettings::default() };
        assert!(even.validate().unwrap_err().to_string().contains("odd"));
        let climb = NebSettings { climb_steps: 75, ..NebSettings::default() };
        assert!(climb.validate().unwrap_err().to_string().contains("multiples"));
    }
}
