//! Writing data-set files: [`DataFileWriter`] streams samples into a temporary file next to
//! the target and renames it only once complete; datasets that SPEC section 3 does not name
//! are carried through, block by block, when a file is rewritten
//! ([`DataFileWriter::copy_extras_from`]).

use std::path::{Path, PathBuf};

use gcnet_files::{AtomicFile, Overwrite};

use hdf5::types::{FloatSize, IntSize, TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{H5Type, Hyperslab, Selection, SliceOrIndex};
use ndarray::{ArrayD, s};

use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::file::{BLOCK_SAMPLES, DataFile, Layout, chunk_shape, hdf5_err};

/// Streams samples into a new data-set file. The file appears at its path only when
/// [`DataFileWriter::finish`] has written every sample; dropping the writer earlier
/// leaves nothing behind.
pub struct DataFileWriter {
    // Declared before `tmp` so the HDF5 handle closes before the temporary file goes.
    file: hdf5::File,
    tmp: AtomicFile,
    path: PathBuf,
    layout: Layout,
    written: usize,
}

impl DataFileWriter {
    /// Creates the datasets for `layout.len` samples. Without `force` an existing `path`
    /// is an [`Error::Exists`].
    pub fn create(path: impl AsRef<Path>, layout: Layout, force: bool) -> Result<DataFileWriter> {
        let path = path.as_ref().to_path_buf();
        let tmp = AtomicFile::new(&path, Overwrite::force(force)).map_err(|e| match e {
            gcnet_files::Error::Exists { path } => Error::Exists { path },
            e => Error::Files(e),
        })?;
        let file = hdf5::File::create(tmp.path()).map_err(hdf5_err(&path, "creating the data set"))?;
        let w = DataFileWriter { file, tmp, path, layout, written: 0 };
        let (n, ns, nl, z) = (layout.len, layout.num_sites, layout.num_labels, layout.z);
        w.new_dataset::<i8>("InitStates", &[n, ns])?;
        w.new_dataset::<i8>("FinStates", &[n, ns])?;
        w.new_dataset::<f64>("SpecDisps", &[n, nl, 3])?;
        w.new_dataset::<f64>("rates", &[n])?;
        w.new_dataset::<f64>("AllJumpRates_Init", &[n, z])?;
        w.new_dataset::<f64>("AllJumpRates_Fin", &[n, z])?;
        w.new_dataset::<i64>("JumpSelects", &[n])?;
        if layout.rand_nums {
            w.new_dataset::<f64>("randNums", &[n])?;
        }
        Ok(w)
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Samples written so far.
    pub fn written(&self) -> usize {
        self.written
    }

    /// Writes the next `block.len()` samples.
    pub fn append(&mut self, block: &Dataset) -> Result<()> {
        let l = self.layout;
        let found = Layout { len: l.len, ..Layout::of(block) };
        if found != l {
            return Err(Error::Config(format!(
                "{}: a block with {} sites, {} labels, {} jumps{} does not fit a file with {} sites, {} labels, {} jumps{}",
                self.path.display(),
                found.num_sites,
                found.num_labels,
                found.z,
                if found.rand_nums { " and randNums" } else { "" },
                l.num_sites,
                l.num_labels,
                l.z,
                if l.rand_nums { " and randNums" } else { "" },
            )));
        }
        let (a, b) = (self.written, self.written + block.len());
        if b > l.len {
            return Err(Error::Config(format!(
                "{}: writing samples {a}..{b} into a file sized for {}",
                self.path.display(),
                l.len
            )));
        }
        self.put("InitStates", &block.init_states, s![a..b, ..])?;
        self.put("FinStates", &block.fin_states, s![a..b, ..])?;
        self.put("SpecDisps", &block.spec_disps, s![a..b, .., ..])?;
        self.put("rates", &block.rates, s![a..b])?;
        self.put("AllJumpRates_Init", &block.jump_rates_init, s![a..b, ..])?;
        self.put("AllJumpRates_Fin", &block.jump_rates_fin, s![a..b, ..])?;
        self.put("JumpSelects", &block.jump_selects, s![a..b])?;
        if let Some(r) = &block.rand_nums {
            self.put("randNums", r, s![a..b])?;
        }
        self.written = b;
        Ok(())
    }

    /// Copies every dataset of `source` that SPEC section 3 does not name, block by block,
    /// keeping its type, shape and group.
    pub fn copy_extras_from(&mut self, source: &DataFile) -> Result<()> {
        for name in source.extra_datasets()? {
            let src =
                source.file.dataset(&name).map_err(hdf5_err(&source.path, format!("opening dataset `{name}`")))?;
            // Create intermediate groups first.
            let mut group = self.file.group("/").map_err(hdf5_err(&self.path, "opening the root group"))?;
            let parts: Vec<&str> = name.split('/').collect();
            for part in &parts[..parts.len() - 1] {
                group = if group.link_exists(part) { group.group(part) } else { group.create_group(part) }
                    .map_err(hdf5_err(&self.path, format!("creating group `{part}`")))?;
            }
            copy_dataset(&src, &source.path, &group, parts[parts.len() - 1], &self.path)?;
        }
        Ok(())
    }

    /// Closes the file and moves it to its path; an error if fewer samples than the
    /// layout's were written.
    pub fn finish(self) -> Result<()> {
        if self.written != self.layout.len {
            return Err(Error::Config(format!(
                "{}: only {} of {} samples were written; the file was not created",
                self.path.display(),
                self.written,
                self.layout.len
            )));
        }
        let DataFileWriter { file, tmp, path, .. } = self;
        file.close().map_err(hdf5_err(&path, "closing the data set"))?;
        tmp.commit().map_err(|e| match e {
            gcnet_files::Error::Exists { path } => Error::Exists { path },
            e => Error::Files(e),
        })?;
        Ok(())
    }

    fn new_dataset<T: H5Type>(&self, name: &str, shape: &[usize]) -> Result<()> {
        let mut builder = self.file.new_dataset::<T>().shape(shape.to_vec());
        if let Some(chunk) = chunk_shape(shape, std::mem::size_of::<T>()) {
            builder = builder.chunk(chunk);
        }
        builder.create(name).map_err(hdf5_err(&self.path, format!("creating dataset `{name}`")))?;
        Ok(())
    }

    fn put<T, D, S>(&self, name: &str, data: &ndarray::Array<T, D>, selection: S) -> Result<()>
    where
        T: H5Type,
        D: ndarray::Dimension,
        S: TryInto<Selection>,
        hdf5::Error: From<S::Error>,
    {
        let err = hdf5_err(&self.path, format!("writing dataset `{name}`"));
        let ds = self.file.dataset(name).map_err(&err)?;
        ds.write_slice(data.view(), selection).map_err(err)
    }
}

impl Dataset {
    /// Writes the data set atomically; without `force` an existing `path` is an
    /// [`Error::Exists`].
    pub fn write(&self, path: impl AsRef<Path>, force: bool) -> Result<()> {
        let mut w = DataFileWriter::create(path, Layout::of(self), force)?;
        w.append(self)?;
        w.finish()
    }

    /// Writes the data set and carries every dataset of `source` that SPEC section 3 does
    /// not name into the new file. `source` may be `path` itself (the new file replaces
    /// it only once complete; pass `force`).
    pub fn write_keeping_extras(&self, path: impl AsRef<Path>, source: impl AsRef<Path>, force: bool) -> Result<()> {
        let source = DataFile::open(source)?;
        let mut w = DataFileWriter::create(path, Layout::of(self), force)?;
        w.append(self)?;
        w.copy_extras_from(&source)?;
        drop(source);
        w.finish()
    }
}

fn copy_dataset(src: &hdf5::Dataset, src_path: &Path, dst: &hdf5::Group, name: &str, dst_path: &Path) -> Result<()> {
    let desc = src
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(hdf5_err(src_path, format!("reading the type of `{}`", src.name())))?;
    let copy = Copier { src, src_path, dst, name, dst_path };
    use TypeDescriptor as T;
    match desc {
        T::Integer(IntSize::U1) => copy.typed::<i8>(),
        T::Integer(IntSize::U2) => copy.typed::<i16>(),
        T::Integer(IntSize::U4) => copy.typed::<i32>(),
        T::Integer(IntSize::U8) => copy.typed::<i64>(),
        T::Unsigned(IntSize::U1) => copy.typed::<u8>(),
        T::Unsigned(IntSize::U2) => copy.typed::<u16>(),
        T::Unsigned(IntSize::U4) => copy.typed::<u32>(),
        T::Unsigned(IntSize::U8) => copy.typed::<u64>(),
        T::Float(FloatSize::U4) => copy.typed::<f32>(),
        T::Float(FloatSize::U8) => copy.typed::<f64>(),
        T::Boolean => copy.typed::<bool>(),
        T::VarLenUnicode => copy.typed::<VarLenUnicode>(),
        T::VarLenAscii => copy.typed::<VarLenAscii>(),
        other => Err(Error::Invalid {
            path: src_path.to_path_buf(),
            dataset: src.name(),
            reason: format!("cannot carry a dataset of type {other} into the rewritten file"),
        }),
    }
}

struct Copier<'a> {
    src: &'a hdf5::Dataset,
    src_path: &'a Path,
    dst: &'a hdf5::Group,
    name: &'a str,
    dst_path: &'a Path,
}

impl Copier<'_> {
    fn typed<T: H5Type>(&self) -> Result<()> {
        let what = self.src.name();
        let read_err = hdf5_err(self.src_path, format!("reading dataset `{what}`"));
        let write_err = hdf5_err(self.dst_path, format!("writing dataset `{what}`"));
        let shape = self.src.shape();
        let mut builder = self.dst.new_dataset::<T>().shape(shape.clone());
        if !shape.is_empty()
            && let Some(chunk) = chunk_shape(&shape, std::mem::size_of::<T>())
        {
            builder = builder.chunk(chunk);
        }
        let out = builder.create(self.name).map_err(&write_err)?;
        if shape.is_empty() {
            let v: T = self.src.read_scalar().map_err(&read_err)?;
            return out.write_scalar(&v).map_err(&write_err);
        }
        let row: usize = shape[1..].iter().product::<usize>().max(1) * std::mem::size_of::<T>();
        let rows = ((BLOCK_SAMPLES * 1024) / row).max(1);
        for a in (0..shape[0]).step_by(rows) {
            let b = (a + rows).min(shape[0]);
            let sel = || {
                let mut axes = vec![SliceOrIndex::from(a..b)];
                axes.extend((1..shape.len()).map(|_| SliceOrIndex::from(..)));
                Selection::from(Hyperslab::from(axes))
            };
            let block: ArrayD<T> = self.src.read_slice(sel()).map_err(&read_err)?;
            out.write_slice(block.view(), sel()).map_err(&write_err)?;
        }
        Ok(())
    }
}
