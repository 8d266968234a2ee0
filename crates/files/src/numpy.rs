//! NumPy arrays in files: `.npy` (what `np.save` writes) and `.npz` (named arrays),
//! written through [`AtomicFile`], and a reader that takes either form.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use ndarray::{ArrayD, Dimension};
use ndarray_npy::{NpzReader, NpzWriter, ReadNpyExt, ReadableElement, WriteNpyExt};

use crate::atomic::{AtomicFile, Overwrite};
use crate::error::{Error, Result};

/// An array to write: f64, i64 or i8 (labels), any shape.
#[derive(Clone, Debug, PartialEq)]
pub enum NpArray {
    F64(ArrayD<f64>),
    I64(ArrayD<i64>),
    I8(ArrayD<i8>),
}

impl NpArray {
    pub fn shape(&self) -> &[usize] {
        match self {
            NpArray::F64(a) => a.shape(),
            NpArray::I64(a) => a.shape(),
            NpArray::I8(a) => a.shape(),
        }
    }
}

impl<D: Dimension> From<ndarray::Array<f64, D>> for NpArray {
    fn from(a: ndarray::Array<f64, D>) -> Self {
        NpArray::F64(a.into_dyn())
    }
}

impl<D: Dimension> From<ndarray::Array<i64, D>> for NpArray {
    fn from(a: ndarray::Array<i64, D>) -> Self {
        NpArray::I64(a.into_dyn())
    }
}

impl<D: Dimension> From<ndarray::Array<i8, D>> for NpArray {
    fn from(a: ndarray::Array<i8, D>) -> Self {
        NpArray::I8(a.into_dyn())
    }
}

fn array_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Array { path: path.to_path_buf(), reason: e.to_string() }
}

/// Writes one bare array as `np.save` does (C order, little-endian header).
pub fn write_npy(path: impl AsRef<Path>, array: &NpArray, overwrite: Overwrite) -> Result<()> {
    let path = path.as_ref();
    let mut f = AtomicFile::new(path, overwrite)?;
    write_npy_into(path, f.file(), array)?;
    f.commit()
}

/// The `.npy` bytes of `array` into an open file (`path` names it in errors).
pub(crate) fn write_npy_into(path: &Path, file: &mut File, array: &NpArray) -> Result<()> {
    let written = match array {
        NpArray::F64(a) => a.as_standard_layout().write_npy(file),
        NpArray::I64(a) => a.as_standard_layout().write_npy(file),
        NpArray::I8(a) => a.as_standard_layout().write_npy(file),
    };
    written.map_err(|e| array_err(path, format!("cannot write the array: {e}")))
}

/// Writes named arrays as an uncompressed `.npz` archive (what `np.savez` writes).
pub fn write_npz(path: impl AsRef<Path>, arrays: &[(&str, NpArray)], overwrite: Overwrite) -> Result<()> {
    let path = path.as_ref();
    let mut f = AtomicFile::new(path, overwrite)?;
    write_npz_into(path, f.file(), arrays)?;
    f.commit()
}

/// The `.npz` archive of `arrays` into an open file (`path` names it in errors).
pub(crate) fn write_npz_into(path: &Path, file: &mut File, arrays: &[(&str, NpArray)]) -> Result<()> {
    let mut npz = NpzWriter::new(file);
    for (name, array) in arrays {
        let added = match array {
            NpArray::F64(a) => npz.add_array(*name, &a.as_standard_layout()),
            NpArray::I64(a) => npz.add_array(*name, &a.as_standard_layout()),
            NpArray::I8(a) => npz.add_array(*name, &a.as_standard_layout()),
        };
        added.map_err(|e| array_err(path, format!("cannot write array `{name}`: {e}")))?;
    }
    npz.finish().map_err(|e| array_err(path, format!("cannot finish the archive: {e}")))?;
    Ok(())
}

/// Reads an array from a `.npy` file, or the array `name` from a `.npz` archive: the
/// form is told by the file's first bytes, not its name. The element type must match the
/// file's dtype exactly (an f64 reader refuses an f32 file).
pub fn read<T: ReadableElement>(path: impl AsRef<Path>, name: &str) -> Result<ArrayD<T>> {
    let path = path.as_ref();
    let mut file = File::open(path).map_err(Error::io(path, "open"))?;
    let mut magic = [0u8; 6];
    let n = file.read(&mut magic).map_err(Error::io(path, "read"))?;
    drop(file);
    let file = File::open(path).map_err(Error::io(path, "open"))?;
    if n == 6 && &magic == b"\x93NUMPY" {
        ArrayD::<T>::read_npy(file).map_err(|e| array_err(path, format!("not a readable .npy array: {e}")))
    } else if n >= 4 && &magic[..4] == b"PK\x03\x04" {
        let mut npz = NpzReader::new(file).map_err(|e| array_err(path, format!("not a readable .npz archive: {e}")))?;
        npz.by_name(name).map_err(|e| array_err(path, format!("cannot read array `{name}` of the .npz archive: {e}")))
    } else {
        Err(array_err(path, "neither a .npy file nor a .npz archive"))
    }
}
