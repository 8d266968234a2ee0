//! Reading and writing crystal data files (HDF5, SPEC section 2).

use std::path::Path;

use hdf5::H5Type;
use ndarray::{Array, Dimension};

use crate::crystal_data::CrystalData;
use crate::error::{Error, Result};

impl CrystalData {
    /// Reads and validates a crystal data file. Integer datasets may be stored with any
    /// integer type (e.g. `GroupNNPermutation` as u8); datasets not in SPEC section 2 are
    /// ignored.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if !path.is_file() {
            // A directory given for the file is a different mistake from a missing file.
            let source = if path.is_dir() {
                std::io::Error::new(std::io::ErrorKind::IsADirectory, "it is a directory, not a crystal data file")
            } else {
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")
            };
            return Err(Error::Io { path: path.to_path_buf(), action: "open the crystal data file", source });
        }
        let file = hdf5::File::open(path).map_err(|source| Error::Hdf5 {
            path: path.to_path_buf(),
            action: "opening the crystal data file".into(),
            source,
        })?;
        let r = DatasetReader { file: &file, path };
        let data = CrystalData {
            path: Some(path.to_path_buf()),
            lattice_vectors: r.required("Lattice_basis_vectors")?,
            superlattice: r.required("SuperLatt")?,
            basis_sites: r.optional("basis_sites")?,
            site_lattice_coords: r.optional("SiteIndToR")?,
            lattice_coords_to_site: r.optional("RToSiteInd")?,
            site_cartesian: r.optional("superCellSiteToCart")?,
            group_rotations: r.required("GroupOpLatticeCartRotMatrices")?,
            jump_vectors: r.required("dxList_1nn")?,
            nn_sites: r.required("NNsiteList_sitewise")?,
            jump_site_permutation: r.required("JumpSiteIndexPermutation")?,
            group_nn_permutation: r.required("GroupNNPermutation")?,
        };
        data.validate()?;
        Ok(data)
    }

    /// Writes the file atomically (through [`gcnet_files::AtomicFile`]: a temporary file in
    /// the same directory, renamed over `path` only once complete). An existing file is
    /// replaced; callers that must not replace one check first.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let tmp = gcnet_files::AtomicFile::new(path, gcnet_files::Overwrite::Replace)?;
        {
            let h5 = |action: String| move |source| Error::Hdf5 { path: path.to_path_buf(), action, source };
            let file = hdf5::File::create(tmp.path()).map_err(h5("creating the file".into()))?;
            let w = DatasetWriter { file: &file, path };
            w.put("Lattice_basis_vectors", &self.lattice_vectors)?;
            w.put("SuperLatt", &self.superlattice)?;
            if let Some(a) = &self.basis_sites {
                w.put("basis_sites", a)?;
            }
            if let Some(a) = &self.site_lattice_coords {
                w.put("SiteIndToR", a)?;
            }
            if let Some(a) = &self.lattice_coords_to_site {
                w.put("RToSiteInd", a)?;
            }
            if let Some(a) = &self.site_cartesian {
                w.put("superCellSiteToCart", a)?;
            }
            w.put("GroupOpLatticeCartRotMatrices", &self.group_rotations)?;
            w.put("dxList_1nn", &self.jump_vectors)?;
            w.put("NNsiteList_sitewise", &self.nn_sites)?;
            w.put("JumpSiteIndexPermutation", &self.jump_site_permutation)?;
            w.put("GroupNNPermutation", &self.group_nn_permutation)?;
            file.close().map_err(h5("closing the file".into()))?;
        }
        tmp.commit()?;
        Ok(())
    }
}

struct DatasetReader<'a> {
    file: &'a hdf5::File,
    path: &'a Path,
}

impl DatasetReader<'_> {
    fn required<T: H5Type, D: Dimension>(&self, name: &'static str) -> Result<Array<T, D>> {
        self.optional(name)?.ok_or_else(|| Error::MissingDataset { path: self.path.to_path_buf(), dataset: name })
    }

    fn optional<T: H5Type, D: Dimension>(&self, name: &'static str) -> Result<Option<Array<T, D>>> {
        if !self.file.link_exists(name) {
            return Ok(None);
        }
        let hdf5_err =
            |source| Error::Hdf5 { path: self.path.to_path_buf(), action: format!("reading dataset `{name}`"), source };
        let ds = self.file.dataset(name).map_err(hdf5_err)?;
        let shape = ds.shape();
        if let Some(ndim) = D::NDIM
            && shape.len() != ndim
        {
            return Err(Error::Shape {
                path: self.path.to_path_buf(),
                dataset: name,
                expected: format!("{ndim} dimensions"),
                found: shape,
            });
        }
        ds.read::<T, D>().map(Some).map_err(hdf5_err)
    }
}

struct DatasetWriter<'a> {
    file: &'a hdf5::File,
    path: &'a Path,
}

impl DatasetWriter<'_> {
    fn put<T: H5Type, D: Dimension>(&self, name: &str, data: &Array<T, D>) -> Result<()> {
        self.file.new_dataset_builder().with_data(data).create(name).map(|_| ()).map_err(|source| Error::Hdf5 {
            path: self.path.to_path_buf(),
            action: format!("writing dataset `{name}`"),
            source,
        })
    }
}
