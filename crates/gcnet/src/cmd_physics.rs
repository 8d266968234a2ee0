//! Physics subcommands: tracer, srb, and the built-in demo.
use std::ffi::OsString;
use std::process::ExitCode;

pub fn run(sub: &str, _args: &[OsString]) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`gcnet {sub}` is being built in this session")
}

pub fn demo(_args: &[OsString]) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`gcnet demo` is being built in this session")
}
