//! GCNet (SPEC section 4): a stack of group convolutions whose last layer gives a scalar
//! per channel and site, turned into a vector per site by the jump vectors.

use std::cell::RefCell;
use std::collections::HashMap;

use gcnet_crystal::CrystalData;
use ndarray::ArrayView2;
use tch::{Device, Kind, Tensor, nn};

use gcnet_kernels::Products;

use crate::error::{Error, Result, StateMismatch};
use crate::gconv::GConv;
use crate::geometry::Geometry;
use crate::side_by_side;

/// The shape of a GCNet and its initialisation (the published `-nl -nch -ncL -a0 -wm -ws
/// -nosym` options).
#[derive(Clone, Debug, PartialEq)]
pub struct NetConfig {
    /// Hidden layers between the first and the last GConv (`-nl`); -1: one GConv only.
    pub nl: i64,
    /// Channels of the hidden layers (`-nch`).
    pub nch: i64,
    /// Channels of the last layer (`-ncL`): 1 for collective training, z for boundary training.
    pub ncl: i64,
    /// Input channels: the number of non-vacancy species labels.
    pub num_species: i64,
    /// Lattice parameter multiplying the jump vectors (`-a0`).
    pub a0: f64,
    /// Mean of the normal initialisation of `Psi` and `bias` (`-wm`).
    pub mean_wt: f64,
    /// Standard deviation of the initialisation (`-ws`).
    pub std_wt: f64,
    /// Keep only the identity operation (`-nosym`).
    pub nosym: bool,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig { nl: 1, nch: 4, ncl: 1, num_species: 2, a0: 1.0, mean_wt: 0.02, std_wt: 0.2, nosym: false }
    }
}

impl NetConfig {
    /// `(Cin, Cout)` of every GConv, in stack order.
    pub fn layer_channels(&self) -> Vec<(i64, i64)> {
        if self.nl < 0 {
            return vec![(self.num_species, self.ncl)];
        }
        let mut v = vec![(self.num_species, self.nch)];
        v.extend((0..self.nl).map(|_| (self.nch, self.nch)));
        v.push((self.nch, self.ncl));
        v
    }

    /// Number of modules of the stack (GConv, softplus, group average per layer).
    pub fn stack_len(&self) -> usize {
        3 * self.layer_channels().len()
    }

    fn validate(&self) -> Result<()> {
        if self.nl < -1 || self.nch < 1 || self.ncl < 1 || self.num_species < 1 {
            return Err(Error::Config(format!(
                "network shape nl={} nch={} ncL={} with {} species is not valid (nl >= -1, channels >= 1)",
                self.nl, self.nch, self.ncl, self.num_species
            )));
        }
        Ok(())
    }
}

/// The network, its variables and the index tensors it needs, all on one device.
pub struct Gcnet {
    vs: nn::VarStore,
    layers: Vec<GConv>,
    cfg: NetConfig,
    geometry: Geometry,
    group_nn: Tensor,
    /// `a0 * dx^T` (3, z) in the working kind.
    jump_vecs: Tensor,
    /// `NN[k, s]` in (s, k) order, flattened (S*(z+1)), i64.
    site_gather: Tensor,
    /// Gather index for the largest batch seen: entry `(b*S + s)*(z+1) + k = b*S + NN[k,s]`.
    gather_cache: RefCell<Option<(i64, Tensor)>>,
    /// Inverse neighbour tables `(z+1, S)`: `NNinv[k, NN[k,s]] = s`.
    inverse_nn: Tensor,
    /// Inverse gather index `(z+1, 1, B*S)` for the largest batch seen:
    /// `b*S + NNinv[k, t]`; it turns the gather's backward into a gather and a sum.
    inverse_cache: RefCell<Option<(i64, Tensor)>>,
    /// The inverse rows `(B*S, z+1)` (entry `[b*S + t, k] = b*S + NNinv[k, t]`) for the
    /// largest batch seen, for the site-first backward.
    inverse_rows_cache: RefCell<Option<(i64, Tensor)>>,
    kind: Kind,
    /// Which code multiplies in the layers (the `gemm` crate on the CPU by default).
    products: Products,
}

/// The lock under which networks draw their initial weights from libtorch's global
/// generator (see [`Gcnet::from_crystal_seeded`]).
fn weight_draws() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

impl std::fmt::Debug for Gcnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gcnet")
            .field("cfg", &self.cfg)
            .field("device", &self.device())
            .field("kind", &self.kind)
            .finish()
    }
}

impl Gcnet {
    /// A freshly initialised network for a crystal, in f64 on `device`, its weights drawn
    /// from libtorch's global generator. [`Gcnet::from_crystal_seeded`] for reproducible
    /// weights.
    pub fn from_crystal(crystal: &CrystalData, cfg: &NetConfig, device: Device) -> Result<Self> {
        Self::new(Geometry::from_crystal(crystal), cfg, device)
    }

    /// [`Gcnet::from_crystal`] with the weights libtorch draws after `tch::manual_seed(seed)`
    /// (as the published code's `torch.manual_seed`). Seeding and drawing happen under one
    /// process-wide lock, which every network construction takes: networks built on other
    /// threads at the same time cannot take draws from between the seed and these weights.
    pub fn from_crystal_seeded(crystal: &CrystalData, cfg: &NetConfig, device: Device, seed: i64) -> Result<Self> {
        let _draws = weight_draws();
        tch::manual_seed(seed);
        Self::build(Geometry::from_crystal(crystal), cfg, device)
    }

    pub fn new(geometry: Geometry, cfg: &NetConfig, device: Device) -> Result<Self> {
        let _draws = weight_draws();
        Self::build(geometry, cfg, device)
    }

    fn build(geometry: Geometry, cfg: &NetConfig, device: Device) -> Result<Self> {
        cfg.validate()?;
        if let Some(e) = crate::device_env_error() {
            return Err(crate::Error::Config(e));
        }
        let vs = nn::VarStore::new(device);
        let group_nn = geometry.group_nn_tensor(cfg.nosym, device);
        let root = vs.root();
        let layers = cfg
            .layer_channels()
            .iter()
            .enumerate()
            .map(|(m, &(cin, cout))| {
                GConv::new(&(&root / "net" / (3 * m)), cin, cout, &group_nn, cfg.mean_wt, cfg.std_wt)
            })
            .collect();
        let (s, k) = (geometry.num_sites as i64, (geometry.z + 1) as i64);
        let site_gather = geometry.nn_tensor(device).transpose(0, 1).contiguous().view([s * k]);
        let jump_vecs = geometry.jump_vecs_tensor(cfg.a0, Kind::Double, device);
        let sites = geometry.num_sites;
        let mut inv = vec![0i64; (geometry.z + 1) * sites];
        for k in 0..=geometry.z {
            for site in 0..sites {
                inv[k * sites + geometry.nn[k * sites + site] as usize] = site as i64;
            }
        }
        let inverse_nn = Tensor::from_slice(&inv).view([k, s]).to_device(device);
        let mut net = Gcnet {
            vs,
            layers,
            cfg: cfg.clone(),
            geometry,
            group_nn,
            jump_vecs,
            site_gather,
            gather_cache: RefCell::new(None),
            inverse_nn,
            inverse_cache: RefCell::new(None),
            inverse_rows_cache: RefCell::new(None),
            kind: Kind::Double,
            products: Products::default(),
        };
        net.set_kind(Kind::Double);
        Ok(net)
    }

    pub fn config(&self) -> &NetConfig {
        &self.cfg
    }

    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// The floating-point kind of the variables and activations (f64 by default).
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Which code computes the layers' matrix products (and the gather's backward).
    pub fn products(&self) -> Products {
        self.products
    }

    /// Chooses the code for the layers' matrix products: `Products::Gemm` (the default:
    /// the `gemm` crate on the CPU) or `Products::Libtorch` (libtorch's, as on CUDA).
    pub fn set_products(&mut self, products: Products) {
        self.products = products;
    }

    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    pub fn layers(&self) -> &[GConv] {
        &self.layers
    }

    /// The same network (shape, weights, kind) on another device, as data-parallel
    /// training uses on each extra GPU.
    /// (Its initialisation draws from libtorch's random stream before the weights are
    /// copied.)
    pub fn replica(&self, device: Device) -> Result<Gcnet> {
        let mut copy = Gcnet::new(self.geometry.clone(), &self.cfg, device)?;
        copy.set_kind(self.kind);
        copy.products = self.products;
        tch::no_grad(|| {
            for (dst, src) in copy.parameters().iter_mut().zip(self.parameters()) {
                dst.copy_(&src);
            }
        });
        Ok(copy)
    }

    /// Converts the variables (and the jump vectors) to `kind` (f32 or f64), keeping values.
    pub fn set_kind(&mut self, kind: Kind) {
        self.vs.set_kind(kind);
        self.jump_vecs = self.jump_vecs.to_kind(kind);
        self.kind = kind;
    }

    /// The trainable tensors, `Psi` and `bias` of every layer in stack order.
    pub fn parameters(&self) -> Vec<Tensor> {
        self.layers.iter().flat_map(|l| [l.psi.shallow_clone(), l.bias.shallow_clone()]).collect()
    }

    /// Samples per forward/backward pass that keep the largest activation tensor
    /// (rows x Cout*Ng) under 6 MiB: the allocator then reuses its memory instead of
    /// mapping fresh pages for every tensor (see `gcnet_kernels::allocator`), and the products
    /// and the fused kernels work in cache (measured on the 2-core machine: 7% more
    /// samples/s in f64 and 20% in f32 than with 24 MiB). On the site-first route, under
    /// 3 MiB, a multiple of the samples side by side: the block sums write the
    /// pre-activations and the activation reads them back at once, within the cores' L2
    /// caches (measured on the 2-core Xeon, 2 MiB L2 a core, published default net: f64 1 or
    /// 2 samples 98-109 samples/s against 93-97 with 4; f32 2 or 4 samples 176-195
    /// against 168-173 with 8).
    pub fn auto_micro_batch(&self) -> usize {
        let widest = self.layers.iter().map(|l| l.cout * l.num_ops).max().unwrap_or(1) as usize;
        let bytes = if self.kind == Kind::Float { 4 } else { 8 };
        let per_sample = self.num_sites() * widest * bytes;
        if self.site_route() {
            let group = self.site_group() as usize;
            return ((3usize << 20) / per_sample / group).max(1) * group;
        }
        ((6usize << 20) / per_sample).max(1)
    }

    /// Number of sites S.
    pub fn num_sites(&self) -> usize {
        self.geometry.num_sites
    }

    /// The row gather index `(B*S*(z+1))` for a batch of `batch` states; built once for
    /// the largest batch and narrowed for smaller ones.
    pub fn gather_index(&self, batch: i64) -> Tensor {
        let (s, k) = (self.num_sites() as i64, (self.geometry.z + 1) as i64);
        let mut cache = self.gather_cache.borrow_mut();
        if cache.as_ref().is_none_or(|(b, _)| *b < batch) {
            let offsets = Tensor::arange(batch, (Kind::Int64, self.device())) * s;
            let idx = (self.site_gather.view([1, s * k]) + offsets.view([batch, 1])).view([batch * s * k]);
            *cache = Some((batch, idx));
        }
        cache.as_ref().expect("filled above").1.narrow(0, 0, batch * s * k)
    }

    /// The inverse gather index `(z+1, 1, B*S)` for `batch` states (see the field doc).
    pub(crate) fn inverse_gather_index(&self, batch: i64) -> Tensor {
        let (s, k) = (self.num_sites() as i64, (self.geometry.z + 1) as i64);
        let mut cache = self.inverse_cache.borrow_mut();
        if cache.as_ref().is_none_or(|(b, _)| *b < batch) {
            let offsets = Tensor::arange(batch, (Kind::Int64, self.device())) * s;
            let idx = (self.inverse_nn.view([k, 1, s]) + offsets.view([1, batch, 1])).view([k, 1, batch * s]);
            *cache = Some((batch, idx));
        }
        cache.as_ref().expect("filled above").1.narrow(2, 0, batch * s)
    }

    /// The neighbour rows `(B*S, z+1)` of every site of `batch` states: entry
    /// `[b*S + s, k] = b*S + NN[k, s]`.
    pub(crate) fn neighbour_rows(&self, batch: i64) -> Tensor {
        let (s, k) = (self.num_sites() as i64, (self.geometry.z + 1) as i64);
        self.gather_index(batch).view([batch * s, k])
    }

    /// The inverse rows `(B*S, z+1)` for `batch` states (see the field doc).
    pub(crate) fn inverse_rows(&self, batch: i64) -> Tensor {
        let s = self.num_sites() as i64;
        let mut cache = self.inverse_rows_cache.borrow_mut();
        if cache.as_ref().is_none_or(|(b, _)| *b < batch) {
            let inv = self.inverse_gather_index(batch); // (z+1, 1, B*S)
            *cache = Some((batch, inv.squeeze_dim(1).transpose(0, 1).contiguous()));
        }
        cache.as_ref().expect("filled above").1.narrow(0, 0, batch * s)
    }

    /// Whether the layers take the site-first route (`GConv::forward_sites`): CPU tensors
    /// of f32 or f64 with the `gemm` products, and permutation tables in every layer.
    /// Tensors that autograd records take the dense route, through libtorch.
    pub fn site_route(&self) -> bool {
        self.products.uses_gemm(self.kind, self.device()) && self.layers.iter().all(GConv::has_site_route)
    }

    /// Samples side by side in a row of the site-first route (`crate::side_by_side`): two
    /// where the widest layer's blocks are narrow for the kind (f32 with 8 channels).
    pub fn site_group(&self) -> i64 {
        side_by_side::group_for(self.layers.iter().map(|l| l.cout).max().unwrap_or(1), self.kind)
    }

    /// One-hot network input `(B*S, NSpec)` of states `(B, S)` (SPEC section 3): channel =
    /// label if label < vacancy, else label - 1; site 0 and vacancy sites are all zero.
    pub fn one_hot(&self, states: ArrayView2<'_, i8>, vacancy: i8) -> Tensor {
        let (b, s) = states.dim();
        let c = self.cfg.num_species as usize;
        let mut x = vec![0f64; b * s * c];
        for (n, row) in states.outer_iter().enumerate() {
            for (site, &l) in row.iter().enumerate().skip(1) {
                if l != vacancy && l >= 0 {
                    let ch = if l < vacancy { l as usize } else { l as usize - 1 };
                    if ch < c {
                        x[(n * s + site) * c + ch] = 1.0;
                    }
                }
            }
        }
        Tensor::from_slice(&x).view([(b * s) as i64, c as i64]).to_kind(self.kind).to_device(self.device())
    }

    /// Scalar outputs `a (B*S, ncL)` of the stack for inputs `x (B*S, NSpec)`.
    pub fn site_outputs(&self, x: &Tensor) -> Tensor {
        self.stack_until(x, self.layers.len())
    }

    /// Activations after the group average of the first `num_layers` layers, `(B*S, C)`.
    fn stack_until(&self, x: &Tensor, num_layers: usize) -> Tensor {
        let rows = x.size()[0];
        let idx = self.gather_index(rows / self.num_sites() as i64);
        let k = (self.geometry.z + 1) as i64;
        let mut h = x.shallow_clone();
        // Filters that autograd records (a loss to differentiate) take the dense route. They
        // are copies: a view of a variable (the one-channel layer's filters are one) would
        // say it needs gradients even where none are recorded (no_grad).
        let (sites, group) = (self.num_sites() as i64, self.site_group());
        let site = self.site_route().then(|| {
            let f: Vec<(Tensor, Tensor)> = self.layers[..num_layers]
                .iter()
                .map(|l| {
                    let (w, b) = l.site_weights_of(&l.psi, &l.bias);
                    (side_by_side::filters_together(&w.copy(), group, l.num_k, l.cout), b.copy())
                })
                .collect();
            f
        });
        if let Some(filters) = site.filter(|f| f.iter().all(|(w, b)| !w.requires_grad() && !b.requires_grad())) {
            let batch = rows / sites;
            let rows_table = self.neighbour_rows(side_by_side::groups(batch, group));
            h = side_by_side::rows_in(&h, sites, group);
            for (layer, (w, b)) in self.layers[..num_layers].iter().zip(&filters) {
                h = layer.forward_sites(&h, w, b, &rows_table, group, false).0;
            }
            return side_by_side::rows_out(&h, sites, group, batch);
        }
        for layer in &self.layers[..num_layers] {
            let gathered = gcnet_kernels::gather_rows(self.products, &h, &idx).view([rows, k * layer.cin]);
            h = layer.forward_gathered(self.products, &gathered, &layer.filter_matrix(), &layer.bias_row());
        }
        h
    }

    /// Vectors per channel and site `(B, ncL, 3, S)`:
    /// `y[c,:,s] = sum_{k=1..z} a[c, NN[k,s]] a0 dx_k`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let a = self.site_outputs(x);
        self.site_vectors(&a)
    }

    /// The vectors `(B, ncL, 3, S)` from scalar outputs `a (B*S, ncL)`.
    pub fn site_vectors(&self, a: &Tensor) -> Tensor {
        let (rows, c) = a.size2().expect("site outputs are 2-d");
        let (s, z) = (self.num_sites() as i64, self.geometry.z as i64);
        let b = rows / s;
        // (B, S, z, ncL)
        let neighbours = a.index_select(0, &self.gather_index(b)).view([b, s, z + 1, c]).narrow(2, 1, z);
        Tensor::einsum("bskc,xk->bcxs", &[&neighbours, &self.jump_vecs], None::<&[i64]>)
    }

    /// The output of module `module` of the stack (SPEC section 6, `-rl`): a group-average
    /// module `3m+2` gives the activations after layer m as `(B*S, C)`; the stack length
    /// gives the per-site vectors `(B*S, 3*ncL)` ordered (channel, x).
    pub fn representation(&self, x: &Tensor, module: usize) -> Result<Tensor> {
        let len = self.cfg.stack_len();
        if module == len {
            let y = self.forward(x); // (B, ncL, 3, S)
            let (b, c, _, s) = y.size4()?;
            return Ok(y.permute([0, 3, 1, 2]).reshape([b * s, c * 3]));
        }
        if module % 3 != 2 || module > len {
            let modules = (0..len / 3).map(|m| 3 * m + 2).collect();
            return Err(Error::NotARepresentationModule { module, modules, stack_len: len });
        }
        Ok(self.stack_until(x, module / 3 + 1))
    }

    /// The weights in the PyTorch state-dict layout of SPEC section 4, as CPU tensors
    /// (floating point as f64).
    pub fn state_dict(&self) -> Vec<(String, Tensor)> {
        let g = &self.geometry;
        let (s, z) = (g.num_sites as i64, g.z as i64);
        let nn_full = g.nn_tensor(Device::Cpu);
        let mut out = vec![
            ("NNsites".to_string(), nn_full.narrow(0, 1, z).contiguous()),
            ("JumpVecs".to_string(), g.jump_vecs_tensor(self.cfg.a0, Kind::Double, Device::Cpu)),
        ];
        let gnn = self.group_nn.to_device(Device::Cpu);
        let scalar = |v: i64| Tensor::from_slice(&[v]).view([] as [i64; 0]);
        for (m, layer) in self.layers.iter().enumerate() {
            let p = format!("net.{}.", 3 * m);
            let cpu = |t: &Tensor| t.detach().to_device(Device::Cpu).to_kind(Kind::Double).contiguous();
            out.push((p.clone() + "Psi", cpu(&layer.psi)));
            out.push((p.clone() + "bias", cpu(&layer.bias)));
            out.push((p.clone() + "NSites", scalar(s)));
            out.push((p.clone() + "GnnPerms", gnn.copy()));
            out.push((p.clone() + "NNsites", nn_full.copy()));
            out.push((p.clone() + "N_ngb", scalar(z + 1)));
            out.push((p.clone() + "NchIn", scalar(layer.cin)));
            out.push((p + "NchOut", scalar(layer.cout)));
        }
        out
    }

    /// Sets the weights from a state dict in the layout of [`Gcnet::state_dict`]. Strict:
    /// every name must be present with its shape, no other name may appear, and the
    /// crystal tables must equal this network's.
    ///
    /// Two forms written by the published code load as well: the keys of a model wrapped in
    /// `nn.DataParallel` (all prefixed `module.`), and `GnnPerms` holding the same group
    /// operations in another row order (the group average makes the order irrelevant to
    /// every output).
    pub fn load_state_dict(&mut self, entries: &[(String, Tensor)]) -> std::result::Result<(), StateMismatch> {
        let data_parallel = !entries.is_empty() && entries.iter().all(|(n, _)| n.starts_with("module."));
        let key = |n: &str| if data_parallel { n["module.".len()..].to_string() } else { n.to_string() };
        let entries: Vec<(String, &Tensor)> = entries.iter().map(|(n, t)| (key(n), t)).collect();
        let map: HashMap<&str, &Tensor> = entries.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        let expected = self.state_dict();
        let this = format!(
            "this network: {} layers, nl={}, nch={}, ncL={}, {} input species",
            self.layers.len(),
            self.cfg.nl,
            self.cfg.nch,
            self.cfg.ncl,
            self.cfg.num_species
        );
        let mut unexpected: Vec<String> =
            map.keys().filter(|k| !expected.iter().any(|(n, _)| n == *k)).map(|k| k.to_string()).collect();
        if !unexpected.is_empty() {
            unexpected.sort();
            return Err(StateMismatch::Unexpected { names: unexpected, expected: this });
        }
        for (name, want) in &expected {
            let got = map
                .get(name.as_str())
                .ok_or_else(|| StateMismatch::Missing { name: name.clone(), expected: this.clone() })?;
            if got.size() != want.size() {
                return Err(StateMismatch::Shape { name: name.clone(), found: got.size(), expected: want.size() });
            }
            if name.ends_with("Psi") || name.ends_with("bias") {
                continue;
            }
            let same = if name == "JumpVecs" {
                let diff = (got.to_kind(Kind::Double) - want).abs().max().double_value(&[]);
                diff < 1e-9
            } else if name.ends_with("GnnPerms") {
                same_rows_in_any_order(&got.to_kind(Kind::Int64), want)
            } else {
                got.to_kind(Kind::Int64).equal(want)
            };
            if !same {
                return Err(StateMismatch::Differs { name: name.clone() });
            }
        }
        tch::no_grad(|| {
            for (m, layer) in self.layers.iter_mut().enumerate() {
                let p = format!("net.{}.", 3 * m);
                layer.psi.copy_(&map[(p.clone() + "Psi").as_str()].to_kind(self.kind));
                layer.bias.copy_(&map[(p + "bias").as_str()].to_kind(self.kind));
            }
        });
        Ok(())
    }
}

/// Whether two 2-d integer tensors hold the same rows, each row once, in any order.
fn same_rows_in_any_order(a: &Tensor, b: &Tensor) -> bool {
    let rows = |t: &Tensor| -> Option<Vec<Vec<i64>>> {
        let (n, m) = t.size2().ok()?;
        let flat = Vec::<i64>::try_from(&t.contiguous().view([-1])).ok()?;
        let mut r: Vec<Vec<i64>> =
            (0..n as usize).map(|i| flat[i * m as usize..(i + 1) * m as usize].to_vec()).collect();
        r.sort();
        Some(r)
    };
    match (rows(a), rows(b)) {
        (Some(ra), Some(rb)) => ra == rb && ra.windows(2).all(|w| w[0] != w[1]),
        _ => false,
    }
}
