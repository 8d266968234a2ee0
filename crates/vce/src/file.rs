//! The saved expansion: an HDF5 file of our own (the published tool pickles its Python
//! object), documented here and in the crate README.
//!
//! | dataset | shape, dtype | meaning |
//! |---|---|---|
//! | `format`, `version` | scalar string, scalar i64 | `"gcnet-vce-expansion"`, 1 |
//! | `parameters/MaxOrder`, `ClustCut`, `NSpec`, `VacSpec`, `AllInteracts` | scalars i64, f64, i64, i64, i64 (0/1) | `-mo`, `-cc`, labels (vacancy included), `-vsp`, `-ait` |
//! | `crystal/site_positions` | (Nsites,3) i64 | doubled Cartesian position of each site (2 x / a) |
//! | `crystal/supercell` | (3,3) i64 | doubled Cartesian supercell vectors (columns) |
//! | `crystal/rotations` | (Ng,3,3) i64 | Cartesian point-group operations, the crystal file's order |
//! | `crystal/jump_sites` | (z) i64 | the site of each jump from site 0 |
//! | `clusters/order`, `clusters/points` | (C) i64, (C,mo,3) i64 | site-cluster classes: sites, canonical points (doubled Cartesian, first at the origin; rows past the order are 0) |
//! | `species_clusters/class`, `labels`, `orbit`, `operation` | (S) i64, (S,mo) i64, (S) i64, (S) i64 | every species cluster: its class, the label on each canonical site (-1 past the order), its orbit, and the operation that maps the orbit's representative (its first member, listed first) onto it |
//! | `orbits/num_members`, `stabiliser_size`, `num_vectors`, `first_vector_group` | (O) i64 each | per orbit |
//! | `orbits/vectors` | (O,3,3) f64 | row i: basis vector i of the orbit (orthonormal, fixed by the stabiliser; zero rows past `num_vectors`) |
//! | `vector_groups/orbit`, `vector_groups/vector` | (K) i64 each | vector group k is basis vector `vector[k]` of orbit `orbit[k]`: the order of `etabar` |
//! | `counts/...` | scalars i64 | site_clusters, species_clusters, orbits, interactions, vector_groups |
//!
//! With the index arrays (`-svj`, `JitArrays.h5`) the file also holds the published arrays
//! under their published names and meanings: `numSitesInteracts` (I), `SupSitesInteracts`
//! and `SpecOnInteractSites` (I, mo; sites ascending, -1 past the order),
//! `numInteractsSiteSpec` (Nsites, NSpec), `SiteSpecInterArray` (Nsites, NSpec, max; -1
//! padded), `numVecsInteracts` (I; -1 for an interaction without vectors), `VecsInteracts`
//! (I,3,3), `VecGroupInteracts` (I,3; -1 padded), `NVclus` (1) and `vacSpec` (1), all i64 or
//! f64. One interaction is one species cluster on one translate counted by
//! [`Expansion::counts`].

use std::path::Path;
use std::str::FromStr;

use gcnet_files::{AtomicFile, Overwrite};
use hdf5::H5Type;
use hdf5::types::VarLenUnicode;
use ndarray::{Array, Array1, Array2, Array3, ArrayD, Dimension};

use crate::clusters::SiteCluster;
use crate::error::{Error, Result};
use crate::expansion::Expansion;
use crate::geometry::{Point, SiteGeometry};
use crate::orbits::{BasisParams, ClusterBasis, SpeciesCluster, StoredOrbit, labelings, valid_labels};

/// The `format` string of a saved expansion.
pub const FORMAT: &str = "gcnet-vce-expansion";
/// The `version` of the layout above.
pub const VERSION: i64 = 1;

/// What to write besides the expansion itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contents {
    /// The cluster expansion (`-svc`, `VclusExp.h5`).
    Expansion,
    /// The expansion and the published interaction index arrays (`-svj`, `JitArrays.h5`).
    WithIndexArrays,
}

/// Writes the expansion through an atomic file (a temporary file renamed when complete).
pub fn write_expansion(
    expansion: &Expansion,
    path: impl AsRef<Path>,
    contents: Contents,
    overwrite: Overwrite,
) -> Result<()> {
    let path = path.as_ref();
    let tmp = AtomicFile::new(path, overwrite)?;
    write_expansion_into(expansion, path, tmp.path(), contents)?;
    tmp.commit()?;
    Ok(())
}

/// Writes the expansion as an HDF5 file at `at` (a temporary file of an atomic write;
/// `path` names the target in errors).
pub(crate) fn write_expansion_into(expansion: &Expansion, path: &Path, at: &Path, contents: Contents) -> Result<()> {
    let file = hdf5::File::create(at).map_err(h5(path, "creating the file"))?;
    let w = Writer { file: &file, path };
    write_definitions(&w, expansion)?;
    if contents == Contents::WithIndexArrays {
        write_index_arrays(&w, expansion)?;
    }
    file.close().map_err(h5(path, "closing the file"))?;
    Ok(())
}

fn write_definitions(w: &Writer<'_>, e: &Expansion) -> Result<()> {
    let p = e.params();
    let basis = e.basis();
    let g = e.geometry();
    let mo = basis.classes().max_order().max(1);
    w.string("format", FORMAT)?;
    w.scalar("version", VERSION)?;
    w.group("parameters")?;
    w.scalar("parameters/MaxOrder", p.max_order as i64)?;
    w.scalar("parameters/ClustCut", p.cutoff)?;
    w.scalar("parameters/NSpec", p.num_labels as i64)?;
    w.scalar("parameters/VacSpec", p.vacancy as i64)?;
    w.scalar("parameters/AllInteracts", i64::from(e.all_interactions()))?;
    w.group("crystal")?;
    w.array("crystal/site_positions", &points_array(g.positions()))?;
    w.array("crystal/supercell", &Array2::from_shape_fn((3, 3), |(r, c)| g.supercell()[r][c]))?;
    let rot = g.rotations();
    w.array("crystal/rotations", &Array3::from_shape_fn((rot.len(), 3, 3), |(k, r, c)| rot[k][r][c]))?;
    w.array("crystal/jump_sites", &Array1::from_iter(g.jump_sites().iter().map(|&s| s as i64)))?;
    let classes = basis.classes();
    w.group("clusters")?;
    w.array("clusters/order", &Array1::from_iter(classes.clusters().iter().map(|c| c.order() as i64)))?;
    w.array(
        "clusters/points",
        &Array3::from_shape_fn((classes.len(), mo, 3), |(c, i, k)| classes.get(c).points().get(i).map_or(0, |p| p[k])),
    )?;
    let members: Vec<(usize, &SpeciesCluster, usize)> = basis
        .orbits()
        .iter()
        .enumerate()
        .flat_map(|(o, orbit)| orbit.members.iter().map(move |(m, g)| (o, m, *g)))
        .collect();
    w.group("species_clusters")?;
    w.array("species_clusters/class", &Array1::from_iter(members.iter().map(|m| m.1.class as i64)))?;
    w.array(
        "species_clusters/labels",
        &Array2::from_shape_fn((members.len(), mo), |(s, i)| members[s].1.labels.get(i).map_or(-1, |&l| l as i64)),
    )?;
    w.array("species_clusters/orbit", &Array1::from_iter(members.iter().map(|m| m.0 as i64)))?;
    w.array("species_clusters/operation", &Array1::from_iter(members.iter().map(|m| m.2 as i64)))?;
    let orbits = basis.orbits();
    w.group("orbits")?;
    w.array("orbits/num_members", &Array1::from_iter(orbits.iter().map(|o| o.members.len() as i64)))?;
    w.array("orbits/stabiliser_size", &Array1::from_iter(orbits.iter().map(|o| o.stabiliser.len() as i64)))?;
    w.array("orbits/num_vectors", &Array1::from_iter(orbits.iter().map(|o| o.basis.len() as i64)))?;
    w.array("orbits/first_vector_group", &Array1::from_iter(basis.first_group().into_iter().map(|k| k as i64)))?;
    w.array(
        "orbits/vectors",
        &Array3::from_shape_fn((orbits.len(), 3, 3), |(o, i, c)| orbits[o].basis.get(i).map_or(0.0, |v| v[c])),
    )?;
    let k = basis.num_vector_groups();
    w.group("vector_groups")?;
    w.array("vector_groups/orbit", &Array1::from_iter((0..k).map(|g| basis.vector_group(g).0 as i64)))?;
    w.array("vector_groups/vector", &Array1::from_iter((0..k).map(|g| basis.vector_group(g).1 as i64)))?;
    let counts = e.counts();
    w.group("counts")?;
    w.scalar("counts/site_clusters", counts.site_clusters as i64)?;
    w.scalar("counts/species_clusters", counts.species_clusters as i64)?;
    w.scalar("counts/orbits", counts.orbits as i64)?;
    w.scalar("counts/interactions", counts.interactions as i64)?;
    w.scalar("counts/vector_groups", counts.vector_groups as i64)?;
    Ok(())
}

/// The published JitArrays: one row per interaction (a valid labelling of a counted
/// instance), sites ascending as in the published `tuple(sorted(...))`.
fn write_index_arrays(w: &Writer<'_>, e: &Expansion) -> Result<()> {
    let p = e.params();
    let (nl, n) = (p.num_labels, e.geometry().num_sites());
    let mo = e.basis().classes().max_order().max(1);
    let mut sites_rows: Vec<Vec<(u32, u8)>> = Vec::new();
    let mut vec_rows: Vec<Vec<(u32, [f64; 3])>> = Vec::new();
    for i in e.counted_instances() {
        let (class, sites) = e.instance(i);
        for (code, labels) in labelings(sites.len(), nl).enumerate() {
            if !valid_labels(&labels, p.vacancy) {
                continue;
            }
            let mut row: Vec<(u32, u8)> = sites.iter().copied().zip(labels.iter().copied()).collect();
            row.sort_unstable_by_key(|x| x.0);
            sites_rows.push(row);
            vec_rows.push(e.entries(class, code).to_vec());
        }
    }
    let ni = sites_rows.len();
    w.array("numSitesInteracts", &Array1::from_iter(sites_rows.iter().map(|r| r.len() as i64)))?;
    w.array(
        "SupSitesInteracts",
        &Array2::from_shape_fn((ni, mo), |(i, k)| sites_rows[i].get(k).map_or(-1, |x| x.0 as i64)),
    )?;
    w.array(
        "SpecOnInteractSites",
        &Array2::from_shape_fn((ni, mo), |(i, k)| sites_rows[i].get(k).map_or(-1, |x| x.1 as i64)),
    )?;
    let mut per_site_spec: Vec<Vec<i64>> = vec![Vec::new(); n * nl];
    for (i, row) in sites_rows.iter().enumerate() {
        for &(s, l) in row {
            per_site_spec[s as usize * nl + l as usize].push(i as i64);
        }
    }
    let max = per_site_spec.iter().map(Vec::len).max().unwrap_or(0).max(1);
    w.array("numInteractsSiteSpec", &Array2::from_shape_fn((n, nl), |(s, l)| per_site_spec[s * nl + l].len() as i64))?;
    w.array(
        "SiteSpecInterArray",
        &Array3::from_shape_fn((n, nl, max), |(s, l, k)| per_site_spec[s * nl + l].get(k).copied().unwrap_or(-1)),
    )?;
    w.array(
        "numVecsInteracts",
        &Array1::from_iter(vec_rows.iter().map(|r| if r.is_empty() { -1 } else { r.len() as i64 })),
    )?;
    w.array(
        "VecsInteracts",
        &Array3::from_shape_fn((ni, 3, 3), |(i, k, c)| vec_rows[i].get(k).map_or(0.0, |x| x.1[c])),
    )?;
    w.array(
        "VecGroupInteracts",
        &Array2::from_shape_fn((ni, 3), |(i, k)| vec_rows[i].get(k).map_or(-1, |x| x.0 as i64)),
    )?;
    w.array("NVclus", &Array1::from_vec(vec![e.num_vector_groups() as i64]))?;
    w.array("vacSpec", &Array1::from_vec(vec![p.vacancy as i64]))?;
    Ok(())
}

/// Reads a saved expansion and places it on `geometry`, which must be the crystal it was
/// built for.
pub fn read_expansion(path: impl AsRef<Path>, geometry: SiteGeometry) -> Result<Expansion> {
    let path = path.as_ref();
    if !path.is_file() {
        return Err(Error::ExpansionFile { path: path.to_path_buf(), reason: "no such file".into() });
    }
    crate::saved::check_saved_expansion(path)?;
    let file = hdf5::File::open(path).map_err(h5(path, "opening the saved expansion"))?;
    let r = Reader { file: &file, path };
    let bad = |reason: String| Error::ExpansionFile { path: path.to_path_buf(), reason };
    if !file.link_exists("format") {
        return Err(bad("not an expansion written by gcnet (no `format` dataset; a file of the published tool \
                        cannot be read: rebuild with -scr)"
            .into()));
    }
    let format: VarLenUnicode = r.scalar("format")?;
    if format.as_str() != FORMAT {
        return Err(bad(format!("`format` is {:?}, expected {FORMAT:?}", format.as_str())));
    }
    let version: i64 = r.scalar("version")?;
    if version != VERSION {
        return Err(bad(format!("layout version {version}; this gcnet reads version {VERSION}")));
    }
    let params = BasisParams {
        max_order: r.count("parameters/MaxOrder")?,
        cutoff: r.scalar("parameters/ClustCut")?,
        num_labels: r.count("parameters/NSpec")?,
        vacancy: r.count("parameters/VacSpec")?,
    };
    let all_interactions = r.scalar::<i64>("parameters/AllInteracts")? != 0;
    let positions: Array2<i64> = r.array("crystal/site_positions")?;
    let supercell: Array2<i64> = r.array("crystal/supercell")?;
    let rotations: Array3<i64> = r.array("crystal/rotations")?;
    let jump_sites: Array1<i64> = r.array("crystal/jump_sites")?;
    let other = |what: &str| {
        bad(format!("was built for another crystal than {} ({what} differ); rebuild with -scr", geometry.source()))
    };
    if positions != points_array(geometry.positions()) {
        return Err(other("the site positions"));
    }
    if supercell != Array2::from_shape_fn((3, 3), |(i, j)| geometry.supercell()[i][j]) {
        return Err(other("the supercell vectors"));
    }
    let rot = geometry.rotations();
    if rotations != Array3::from_shape_fn((rot.len(), 3, 3), |(k, i, j)| rot[k][i][j]) {
        return Err(other("the point-group operations or their order"));
    }
    if jump_sites != Array1::from_iter(geometry.jump_sites().iter().map(|&s| s as i64)) {
        return Err(other("the jump sites"));
    }
    let order: Array1<i64> = r.array("clusters/order")?;
    let points: Array3<i64> = r.array("clusters/points")?;
    if points.shape()[0] != order.len() || points.shape()[2] != 3 {
        return Err(bad(format!("clusters/points has shape {:?} for {} clusters", points.shape(), order.len())));
    }
    let mut clusters = Vec::with_capacity(order.len());
    for c in 0..order.len() {
        let k = order[c];
        if k < 1 || k as usize > points.shape()[1] {
            return Err(bad(format!("cluster {c} has order {k}")));
        }
        let pts: Vec<Point> =
            (0..k as usize).map(|i| [points[[c, i, 0]], points[[c, i, 1]], points[[c, i, 2]]]).collect();
        clusters.push(
            SiteCluster::from_canonical_points(pts)
                .ok_or_else(|| bad(format!("cluster {c} is not in canonical form")))?,
        );
    }
    let class: Array1<i64> = r.array("species_clusters/class")?;
    let labels: Array2<i64> = r.array("species_clusters/labels")?;
    let orbit: Array1<i64> = r.array("species_clusters/orbit")?;
    let operation: Array1<i64> = r.array("species_clusters/operation")?;
    let num_members: Array1<i64> = r.array("orbits/num_members")?;
    let vectors: Array3<f64> = r.array("orbits/vectors")?;
    let num_vectors: Array1<i64> = r.array("orbits/num_vectors")?;
    let ns = class.len();
    if labels.nrows() != ns || orbit.len() != ns || operation.len() != ns {
        return Err(bad("the species_clusters datasets have different lengths".into()));
    }
    let no = num_members.len();
    if vectors.shape() != [no, 3, 3] || num_vectors.len() != no {
        return Err(bad("the orbits datasets have different lengths".into()));
    }
    let mut orbits: Vec<StoredOrbit> = (0..no)
        .map(|o| {
            let nv = num_vectors[o].clamp(0, 3) as usize;
            (Vec::new(), (0..nv).map(|i| [vectors[[o, i, 0]], vectors[[o, i, 1]], vectors[[o, i, 2]]]).collect())
        })
        .collect();
    for s in 0..ns {
        let (c, o, g) = (class[s], orbit[s], operation[s]);
        if c < 0 || c as usize >= clusters.len() || o < 0 || o as usize >= no || g < 0 {
            return Err(bad(format!(
                "species cluster {s} refers to a cluster, orbit or operation that does not exist"
            )));
        }
        let k = clusters[c as usize].order();
        let ls: Vec<i64> = (0..k).map(|i| labels.get([s, i]).copied().unwrap_or(-1)).collect();
        if ls.iter().any(|&l| l < 0 || l as usize >= params.num_labels) {
            return Err(bad(format!(
                "species cluster {s} has a label not among the labels {}",
                gcnet_data::label_range(params.num_labels)
            )));
        }
        orbits[o as usize]
            .0
            .push((SpeciesCluster { class: c as usize, labels: ls.iter().map(|&l| l as u8).collect() }, g as usize));
    }
    for (o, (members, _)) in orbits.iter().enumerate() {
        if members.len() as i64 != num_members[o] {
            return Err(bad(format!("orbit {o} lists {} members, num_members says {}", members.len(), num_members[o])));
        }
    }
    let basis = ClusterBasis::from_parts(&geometry, params, clusters, orbits).map_err(|e| bad(format!("{e}")))?;
    let expansion = Expansion::from_basis(geometry, basis, all_interactions)?;
    if file.link_exists("NVclus") {
        let nv: Array1<i64> = r.array("NVclus")?;
        if nv.len() != 1 || nv[0] != expansion.num_vector_groups() as i64 {
            return Err(bad(format!("NVclus is {nv}, the stored orbits give {}", expansion.num_vector_groups())));
        }
    }
    if file.link_exists("numSitesInteracts") {
        let ni = r.shape("numSitesInteracts")?;
        if ni != [expansion.counts().interactions] {
            return Err(bad(format!(
                "numSitesInteracts has shape {ni:?}, the expansion counts {} interactions",
                expansion.counts().interactions
            )));
        }
    }
    Ok(expansion)
}

fn points_array(points: &[Point]) -> Array2<i64> {
    Array2::from_shape_fn((points.len(), 3), |(s, k)| points[s][k])
}

fn h5<'a>(path: &'a Path, action: &'a str) -> impl Fn(hdf5::Error) -> Error + 'a {
    move |source| Error::Hdf5 { path: path.to_path_buf(), action: action.to_string(), source }
}

struct Writer<'a> {
    file: &'a hdf5::File,
    path: &'a Path,
}

impl Writer<'_> {
    fn err(&self, name: &str) -> impl Fn(hdf5::Error) -> Error + '_ {
        let action = format!("writing `{name}`");
        move |source| Error::Hdf5 { path: self.path.to_path_buf(), action: action.clone(), source }
    }

    fn group(&self, name: &str) -> Result<()> {
        self.file.create_group(name).map(|_| ()).map_err(self.err(name))
    }

    fn array<T: H5Type, D: Dimension>(&self, name: &str, a: &Array<T, D>) -> Result<()> {
        self.file.new_dataset_builder().with_data(a).create(name).map(|_| ()).map_err(self.err(name))
    }

    fn scalar<T: H5Type>(&self, name: &str, x: T) -> Result<()> {
        let ds = self.file.new_dataset::<T>().create(name).map_err(self.err(name))?;
        ds.write_scalar(&x).map_err(self.err(name))
    }

    fn string(&self, name: &str, s: &str) -> Result<()> {
        let v = VarLenUnicode::from_str(s).expect("no NUL in the format string");
        self.scalar(name, v)
    }
}

struct Reader<'a> {
    file: &'a hdf5::File,
    path: &'a Path,
}

impl Reader<'_> {
    fn dataset(&self, name: &str) -> Result<hdf5::Dataset> {
        if !self.file.link_exists(name) {
            return Err(Error::MissingDataset { path: self.path.to_path_buf(), dataset: name.to_string() });
        }
        self.file.dataset(name).map_err(|source| Error::Hdf5 {
            path: self.path.to_path_buf(),
            action: format!("opening `{name}`"),
            source,
        })
    }

    fn read_err(&self, name: &str) -> impl Fn(hdf5::Error) -> Error + '_ {
        let action = format!("reading `{name}`");
        move |source| Error::Hdf5 { path: self.path.to_path_buf(), action: action.clone(), source }
    }

    fn scalar<T: H5Type>(&self, name: &str) -> Result<T> {
        self.dataset(name)?.read_scalar::<T>().map_err(self.read_err(name))
    }

    fn count(&self, name: &str) -> Result<usize> {
        let x: i64 = self.scalar(name)?;
        usize::try_from(x)
            .map_err(|_| Error::ExpansionFile { path: self.path.to_path_buf(), reason: format!("`{name}` is {x}") })
    }

    fn shape(&self, name: &str) -> Result<Vec<usize>> {
        Ok(self.dataset(name)?.shape())
    }

    fn array<T: H5Type, D: Dimension>(&self, name: &str) -> Result<Array<T, D>> {
        let ds = self.dataset(name)?;
        let a: ArrayD<T> = ds.read_dyn::<T>().map_err(self.read_err(name))?;
        let shape = a.shape().to_vec();
        a.into_dimensionality::<D>().map_err(|_| Error::ExpansionFile {
            path: self.path.to_path_buf(),
            reason: format!("`{name}` has shape {shape:?}, expected {} dimensions", D::NDIM.unwrap_or(0)),
        })
    }
}
