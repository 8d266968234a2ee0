//! A LAMMPS process kept alive and driven through its standard input: the commands of one
//! task are written, followed by a `print` of a marker, and its output is read up to the
//! marker. One process serves many small tasks (the end-state relaxations here; the trial
//! relaxations of a Metropolis chain later), so each task pays for its own work only, not
//! for starting LAMMPS and reading the potential (no FFI, no unsafe code: LAMMPS reads
//! stdin line by line and, with `-nonbuf`, writes unbuffered).
//!
//! A LAMMPS `ERROR` ends the process; the task then fails with LAMMPS's message.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::lammps::Lammps;

const MARK: &str = "GCNET_TASK_DONE";

/// One serial LAMMPS process working in `dir`.
pub struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    dir: PathBuf,
    tasks: u64,
    /// Dropped after the child was waited for (fields drop after `Drop::drop`).
    _group: crate::interrupt::Group,
}

impl Session {
    /// Starts `lmp` in `dir` (which must exist): its log goes to `dir/session.log`.
    pub fn start(lammps: &Lammps, dir: &Path) -> Result<Session> {
        let err_path = dir.join("session.err");
        let err = File::create(&err_path).map_err(Error::io(&err_path, "create"))?;
        let mut cmd = lammps.serial_command();
        cmd.args(["-nonbuf", "-echo", "none", "-nocite", "-log", "session.log"])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(err);
        let (mut child, group) = crate::interrupt::spawn(&mut cmd, |e| Error::Lammps {
            what: "a LAMMPS session".into(),
            message: format!("cannot start {}: {e}", lammps.exe().display()),
            dir: dir.to_path_buf(),
        })?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        Ok(Session { child, stdin, stdout, dir: dir.to_path_buf(), tasks: 0, _group: group })
    }

    /// The LAMMPS process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The session's working directory (data files for its tasks go here).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `commands` and returns the lines LAMMPS printed meanwhile. `what` names the
    /// task in errors.
    pub fn run(&mut self, commands: &str, what: &str) -> Result<Vec<String>> {
        self.tasks += 1;
        let mark = format!("{MARK} {}", self.tasks);
        let fail =
            |message: String, dir: &Path| Error::Lammps { what: what.to_string(), message, dir: dir.to_path_buf() };
        let Some(stdin) = self.stdin.as_mut() else {
            return Err(fail("the LAMMPS session has ended".into(), &self.dir));
        };
        let text = format!("{commands}\nprint \"{mark}\"\n");
        if let Err(e) = stdin.write_all(text.as_bytes()).and_then(|_| stdin.flush()) {
            let message = self.ended(format!("cannot send commands ({e})"));
            return Err(fail(message, &self.dir));
        }
        let mut lines = Vec::new();
        let mut tail: VecDeque<String> = VecDeque::new();
        loop {
            let mut line = String::new();
            match self.stdout.read_line(&mut line) {
                Ok(0) => {
                    let first_error = lines.iter().find(|l: &&String| l.contains("ERROR")).cloned();
                    let message = self.ended(first_error.unwrap_or_else(|| {
                        format!("LAMMPS ended without finishing the task; last output: {}", Vec::from(tail).join(" | "))
                    }));
                    return Err(fail(message, &self.dir));
                }
                Ok(_) => {}
                Err(e) => return Err(fail(format!("cannot read LAMMPS's output: {e}"), &self.dir)),
            }
            let line = line.trim_end().to_string();
            if line == mark {
                return Ok(lines);
            }
            if tail.len() == 3 {
                tail.pop_front();
            }
            tail.push_back(line.clone());
            lines.push(line);
        }
    }

    /// After the process ended: the message with its exit status and stderr.
    fn ended(&mut self, message: String) -> String {
        self.stdin = None;
        let status = wait_briefly(&mut self.child).map(|s| format!(" (exit {s})")).unwrap_or_default();
        let err = std::fs::read_to_string(self.dir.join("session.err")).unwrap_or_default();
        let err =
            err.lines().find(|l| !l.trim().is_empty()).map(|l| format!("; stderr: {}", l.trim())).unwrap_or_default();
        format!("{}{status}{err}", message.trim())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // End of input ends LAMMPS; a process that does not end soon is killed.
        self.stdin = None;
        if wait_briefly(&mut self.child).is_none() {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

fn wait_briefly(child: &mut Child) -> Option<std::process::ExitStatus> {
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s),
            Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(10)),
            _ => return None,
        }
    }
}
