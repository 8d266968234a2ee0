//! The MEAM potential: a directory holding `library.meam` (element parameters) and
//! `params.meam` (alloy parameters), and the `pair_style`/`pair_coeff` lines that map atom
//! types (= species labels 1, 2, ...) to elements.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fingerprint::fnv1a;

/// The element of label 1, 2, ... of the published Cantor data (label 0 is the vacancy).
pub const CANTOR_ELEMENTS: [&str; 5] = ["Co", "Ni", "Cr", "Fe", "Mn"];

/// A MEAM potential found on disk.
#[derive(Clone, Debug)]
pub struct Potential {
    dir: PathBuf,
    library: PathBuf,
    params: PathBuf,
    /// Elements of `library.meam` in file order: the order `params.meam` indexes them by.
    library_elements: Vec<String>,
    hash: u64,
}

impl Potential {
    pub const LIBRARY: &'static str = "library.meam";
    pub const PARAMS: &'static str = "params.meam";

    /// Checks that `dir` holds both files and reads the element names of the library.
    pub fn new(dir: impl AsRef<Path>) -> Result<Potential> {
        let given = dir.as_ref();
        let dir = given.canonicalize().map_err(Error::io(given, "open the potential directory"))?;
        let library = dir.join(Self::LIBRARY);
        let params = dir.join(Self::PARAMS);
        for f in [&library, &params] {
            if !f.is_file() {
                return Err(Error::Potential {
                    path: given.join(f.file_name().unwrap_or_default()),
                    reason: format!(
                        "missing: the potential directory must hold {} and {}",
                        Self::LIBRARY,
                        Self::PARAMS
                    ),
                });
            }
            let s = f.to_string_lossy();
            if s.contains('\'') || s.contains('\n') {
                return Err(Error::Potential {
                    path: f.clone(),
                    reason: "the path contains a quote or a line break, which LAMMPS input cannot carry".into(),
                });
            }
        }
        let lib_text = std::fs::read(&library).map_err(Error::io(&library, "read"))?;
        let par_text = std::fs::read(&params).map_err(Error::io(&params, "read"))?;
        let library_elements = library_elements(&String::from_utf8_lossy(&lib_text));
        if library_elements.is_empty() {
            return Err(Error::Potential {
                path: library,
                reason: "no element entries (lines such as `'Ni' 'fcc' 12 1 58.69`) found".into(),
            });
        }
        let hash = fnv1a(&[lib_text.as_slice(), par_text.as_slice()].concat());
        Ok(Potential { dir, library, params, library_elements, hash })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn library_elements(&self) -> &[String] {
        &self.library_elements
    }

    /// FNV-1a hash of both files' contents (recorded with the results).
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Checks that every element of `elements` (the element of label 1, 2, ...) is in the
    /// library.
    pub fn check_elements(&self, elements: &[String]) -> Result<()> {
        if elements.is_empty() {
            return Err(Error::Config("at least one element is needed".into()));
        }
        for e in elements {
            if !self.library_elements.contains(e) {
                return Err(Error::Potential {
                    path: self.library.clone(),
                    reason: format!("has no element `{e}` (it has {})", self.library_elements.join(" ")),
                });
            }
        }
        Ok(())
    }

    /// `pair_style meam` and the `pair_coeff` line giving atom type k the element
    /// `elements[k-1]`.
    pub fn pair_lines(&self, elements: &[String]) -> String {
        format!(
            "pair_style meam\npair_coeff * * '{}' {} '{}' {}\n",
            self.library.display(),
            self.library_elements.join(" "),
            self.params.display(),
            elements.join(" ")
        )
    }
}

/// Element names of a MEAM library file: the first word of each entry's first line
/// (`'Co' 'hcp' 12 1 58.933`), in file order.
fn library_elements(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let (Some(a), Some(b)) = (words.next(), words.next()) else { continue };
        let quoted = |w: &str| w.len() >= 2 && w.starts_with('\'') && w.ends_with('\'');
        if quoted(a) && quoted(b) {
            let name = a.trim_matches('\'').to_string();
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_elements_in_file_order() {
        let text = "# comment 'X' 'y'\n'Co'\t'hcp'\t12\t1\t58.933\n5.2 3.5\n1 3.0\n'Ni' 'fcc' 12 1 58.69\n1 2\n";
        assert_eq!(library_elements(text), ["Co", "Ni"]);
    }
}
