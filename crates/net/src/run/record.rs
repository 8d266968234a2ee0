//! The provenance of a run: the record every checkpoint and result set carries, and the
//! check of a checkpoint's record before it is resumed or evaluated.

use std::path::Path;

use gcnet_files::{Expect, Record};

use super::{Mode, Run};
use crate::error::{Error, Result};

impl Run {
    /// The record of what `producer` made from this run's data set and settings.
    fn base_record(&self, producer: String) -> Record {
        let species: Vec<i64> = self.obj.species.labels().iter().map(|&l| l as i64).collect();
        Record::new(producer, env!("CARGO_PKG_VERSION"))
            .input_hashed("data", self.data.input.clone())
            .input_hashed("crystal", self.crystal_input.clone())
            .setting("species", species)
            .setting("vacancy", self.obj.species.vacancy() as i64)
            .setting("form", self.obj.form_name())
            .setting("all_jumps", self.obj.all_jumps)
            .setting("n_train", self.n_train)
            .setting("num_samples", self.data.data.len())
            .setting("permuted", self.data.permuted)
            .setting("nl", self.net.nl)
            .setting("nch", self.net.nch)
            .setting("ncl", self.net.ncl)
            .setting("a0", self.net.a0)
            .setting("nosym", self.net.nosym)
    }

    /// The record every checkpoint of a training run carries.
    pub fn training_record(&self) -> Record {
        self.base_record("gcnet train".into()).setting("network_dir", self.dir.display().to_string())
    }

    /// A checkpoint's record against this run: a resume continues only the same training
    /// (data set, samples, species, form, network); an evaluation may use other data (the
    /// published transfer), but the network must be the one this run describes.
    pub fn check_checkpoint(&self, path: &Path, resuming: bool) -> Result<()> {
        let Some((record, member)) = Record::of_file(path)? else { return Ok(()) };
        let mine = self.training_record();
        let mut expect = Expect::new().producer("gcnet train").role("checkpoint");
        let mut names = vec!["species", "vacancy", "form", "nl", "nch", "ncl", "a0", "nosym"];
        if resuming {
            let data = &self.data.input;
            expect = expect.input("data", &data.hash, format!("the data set -DP {}", data.path));
            names.extend(["all_jumps", "n_train", "permuted"]);
        }
        for n in names {
            expect = expect.setting(n, &mine.settings[n]);
        }
        expect.check(path, &record, &member).map_err(|e| {
            let what = if resuming { "resume training from" } else { "evaluate" };
            Error::Refused(format!("{e}\n(refusing to {what} a network made for other settings; start a new network with -scr, or use the settings it was trained with)"))
        })
    }

    /// The record of results that `producer` (a workflow beside the published modes, such
    /// as `gcnet onsager`) computed with checkpoint `epoch` of this run's network.
    pub fn network_result_record(&self, producer: &str, epoch: usize) -> Result<Record> {
        Ok(self
            .base_record(producer.into())
            .setting("network_dir", self.dir.display().to_string())
            .setting("epoch", epoch)
            .input("checkpoint", self.checkpoint(epoch))?)
    }

    /// The provenance record of a mode's results at `epoch` (eval: the last epoch; every
    /// evaluated checkpoint is an input).
    pub fn record(&self, epoch: usize) -> Result<Record> {
        let mode = self.cfg.mode;
        let mut r = self
            .base_record(format!("gcnet {}", mode.name()))
            .setting("network_dir", self.dir.display().to_string())
            .setting("epoch", epoch);
        let epochs = if mode == Mode::Eval { self.epochs() } else { vec![epoch] };
        for k in &epochs {
            let role = if epochs.len() == 1 { "checkpoint".to_string() } else { format!("checkpoint_{k}") };
            r = r.input(&role, self.checkpoint(*k))?;
        }
        if mode == Mode::Eval {
            r = r.setting("epochs", epochs);
        }
        if mode == Mode::GetRep {
            r = r.setting("rep_layer", self.cfg.rep_layer).setting("rep_start", self.cfg.rep_start);
        }
        Ok(r)
    }
}
