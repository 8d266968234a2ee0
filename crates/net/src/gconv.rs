//! The group convolution of SPEC section 4, as one gather and one matrix product.
//!
//! For group operation g the filter is `Psi_g[o,i,k] = Psi[o,i,P[g,k]]`; the
//! pre-activation at site s is `sum_{i,k} Psi_g[o,i,k] x[i, NN[k,s]] + bias[o]`, followed
//! by softplus and the mean over g. Activations are kept as rows `(B*S, C)`; the gathered
//! input `(B*S, (z+1)*Cin)` times the rotated-filter matrix `((z+1)*Cin, Cout*Ng)` gives
//! every operation's pre-activation in one product.
//!
//! On the CPU the same layer is computed site-first (`GConv::forward_sites`): a small
//! product per site, `Z[t, k', o] = sum_i Psi[o, i, k'] h[t, i]`, and then for every
//! operation the sum of the blocks `Z[NN[k, s], P[g, k], :]` over k
//! (`gcnet_kernels::block_sum`): 832 multiply-adds and 624 vector adds per site for the
//! published default, where the dense product takes 39936 multiply-adds. Its
//! pre-activations are laid out `(R, Ng, Cout)`, or `(R/2, Ng, 2*Cout)` with two samples
//! side by side where blocks are narrow (`crate::side_by_side`).

use tch::{Kind, Tensor, nn};

use gcnet_kernels::{BlockTerms, Products, activation, block_sum_activate, block_sum_split, products};

/// One group-convolution layer: the trainable filter `Psi (out, in, z+1)` and
/// `bias (out, 1)`.
#[derive(Debug)]
pub struct GConv {
    pub psi: Tensor,
    pub bias: Tensor,
    /// `P` flattened in (g, k) order, i64, on the model's device.
    filter_index: Tensor,
    pub cin: i64,
    pub cout: i64,
    pub num_ops: i64,
    pub num_k: i64,
    /// The block sums of the site-first route (forward, backward), when every row of `P`
    /// is a permutation of the neighbours (always for crystal groups).
    terms: Option<(BlockTerms, BlockTerms)>,
}

/// The block-sum terms of a layer from `P (Ng, K)`: forward, output block g = `sum_k`
/// slot k, block `P[g, k]`; backward, output block k' = `sum_g` slot `Pinv[g, k']`, block
/// g. None when a row of `P` is not a permutation of `0..K` (the backward needs Pinv).
fn site_terms(group_nn: &Tensor) -> Option<(BlockTerms, BlockTerms)> {
    let (ng, k) = group_nn.size2().ok()?;
    let (ng, k) = (ng as usize, k as usize);
    let p =
        Vec::<i64>::try_from(group_nn.to_device(tch::Device::Cpu).to_kind(Kind::Int64).contiguous().view([-1])).ok()?;
    let mut inv = vec![usize::MAX; ng * k];
    for g in 0..ng {
        for kk in 0..k {
            let to = usize::try_from(p[g * k + kk]).ok().filter(|&t| t < k)?;
            if inv[g * k + to] != usize::MAX {
                return None;
            }
            inv[g * k + to] = kk;
        }
    }
    let fwd: Vec<Vec<(usize, usize)>> =
        (0..ng).map(|g| (0..k).map(|kk| (kk, p[g * k + kk] as usize)).collect()).collect();
    let bwd: Vec<Vec<(usize, usize)>> = (0..k).map(|to| (0..ng).map(|g| (inv[g * k + to], g)).collect()).collect();
    Some((BlockTerms::new(k, k, &fwd).ok()?, BlockTerms::new(k, ng, &bwd).ok()?))
}

impl GConv {
    /// Creates `Psi` and `bias` under `p` (names `Psi`, `bias`), drawn from a normal
    /// distribution (`mean`, `std`), and keeps `group_nn` (Ng, z+1) for the filters.
    pub fn new(p: &nn::Path, cin: i64, cout: i64, group_nn: &Tensor, mean: f64, std: f64) -> Self {
        let (num_ops, num_k) = group_nn.size2().expect("group permutation table is 2-d");
        let opts = (Kind::Double, tch::Device::Cpu);
        let psi0 = Tensor::randn([cout, cin, num_k], opts) * std + mean;
        let bias0 = Tensor::randn([cout, 1], opts) * std + mean;
        let psi = p.var_copy("Psi", &psi0);
        let bias = p.var_copy("bias", &bias0);
        let terms = site_terms(group_nn);
        GConv { psi, bias, filter_index: group_nn.reshape([-1]), cin, cout, num_ops, num_k, terms }
    }

    /// Whether the site-first route can compute this layer (see the module doc).
    pub fn has_site_route(&self) -> bool {
        self.terms.is_some()
    }

    /// The filters of the site-first route, `(Cin, K*Cout)`: `[i, k*Cout + o] = Psi[o, i, k]`.
    pub fn site_filters(&self) -> Tensor {
        self.site_weights_of(&self.psi, &self.bias).0
    }

    /// The site-first route's filters and bias `(Cout)` from weights `psi` and `bias` of
    /// this layer's shape.
    pub(crate) fn site_weights_of(&self, psi: &Tensor, bias: &Tensor) -> (Tensor, Tensor) {
        (psi.permute([1, 2, 0]).reshape([self.cin, self.num_k * self.cout]), bias.view([self.cout]))
    }

    /// The gradient of `Psi` from that of [`GConv::site_filters`].
    pub(crate) fn psi_grad_from_site(&self, d: &Tensor) -> Tensor {
        d.view([self.cin, self.num_k, self.cout]).permute([2, 0, 1]).contiguous()
    }

    /// The site-first forward on the CPU: `h (R, Cin)` to the group-averaged activations
    /// `(R, Cout)`, with `group` samples side by side in the rows (`crate::side_by_side`),
    /// `filters` [`GConv::site_filters`] made wide for them
    /// (`side_by_side::filters_together`), `bias (Cout)` and `rows` the `(R/group, K)`
    /// neighbour rows of every row group. Returns the pre-activations
    /// `(R/group, Ng*group*Cout)` too, replaced by the softplus slopes with `keep_slope`.
    /// Panics without the route ([`GConv::has_site_route`]).
    pub(crate) fn forward_sites(
        &self,
        h: &Tensor,
        filters: &Tensor,
        bias: &Tensor,
        rows: &Tensor,
        group: i64,
        keep_slope: bool,
    ) -> (Tensor, Tensor) {
        let (fwd, _) = self.terms.as_ref().expect("the site-first route needs permutation tables");
        let width = group * self.cout;
        let z = products::mm(Products::Gemm, &h.view([-1, group * self.cin]), filters); // (R/group, K*width)
        let bias = if group == 1 { bias.shallow_clone() } else { bias.repeat([group]) };
        let (out, pre) = block_sum_activate(&z, rows, fwd, width, Some(&bias), keep_slope); // pre (R/group, Ng*width)
        (out.view([-1, self.cout]), pre)
    }

    /// The backward of [`GConv::forward_sites`] from the scaled slopes `dpre`:
    /// `dZ (R, K*Cout)`, the gradient of `Z` (that of the filters is `h^T dZ`, that of the
    /// input `dZ filters^T`).
    pub(crate) fn backward_sites(&self, dpre: &Tensor, inverse_rows: &Tensor, group: i64) -> Tensor {
        let (_, bwd) = self.terms.as_ref().expect("the site-first route needs permutation tables");
        block_sum_split(dpre, inverse_rows, bwd, group * self.cout, None, group)
    }

    /// The rotated filters of every operation as one matrix `((z+1)*Cin, Cout*Ng)`, columns
    /// ordered (o major, g minor) as in the published code: entry
    /// `[k*Cin + i, o*Ng + g] = Psi[o, i, P[g, k]]`.
    pub fn filter_matrix(&self) -> Tensor {
        self.filter_matrix_of(&self.psi)
    }

    /// [`GConv::filter_matrix`] of other weights `psi` (of this layer's shape).
    pub(crate) fn filter_matrix_of(&self, psi: &Tensor) -> Tensor {
        // (Cout, Cin, Ng*K) -> (Cout, Cin, Ng, K) -> (K, Cin, Cout, Ng)
        psi.index_select(2, &self.filter_index)
            .view([self.cout, self.cin, self.num_ops, self.num_k])
            .permute([3, 1, 0, 2])
            .reshape([self.num_k * self.cin, self.cout * self.num_ops])
    }

    /// `P` flattened in (g, k) order.
    pub(crate) fn filter_index(&self) -> &Tensor {
        &self.filter_index
    }

    /// The bias repeated for every operation `(Cout*Ng)`, in the column order of
    /// [`GConv::filter_matrix`].
    pub fn bias_row(&self) -> Tensor {
        self.bias_row_of(&self.bias)
    }

    /// [`GConv::bias_row`] of another bias `(Cout, 1)`.
    pub(crate) fn bias_row_of(&self, bias: &Tensor) -> Tensor {
        bias.expand([self.cout, self.num_ops], false).reshape([self.cout * self.num_ops])
    }

    /// `gathered (R, (z+1)*Cin)`, row r = input of the neighbours of one site in
    /// `k`-major order, to the group-averaged activations `(R, Cout)`; `filters` and
    /// `bias_row` from [`GConv::filter_matrix`] and [`GConv::bias_row`]; `products` says
    /// which code multiplies.
    pub fn forward_gathered(
        &self,
        products: Products,
        gathered: &Tensor,
        filters: &Tensor,
        bias_row: &Tensor,
    ) -> Tensor {
        // (R, Cout*Ng), then the bias (unless the product added it), softplus and the mean over g
        let (mut pre, bias) = products::affine(products, gathered, filters, bias_row);
        activation::softplus_group_mean(&mut pre, bias, self.cout, self.num_ops, false)
    }

    /// Pre-activations of every operation `(R, Cout, Ng)`, for tests and representations.
    pub fn preactivation(&self, gathered: &Tensor) -> Tensor {
        let rows = gathered.size()[0];
        self.bias_row().addmm(gathered, &self.filter_matrix()).view([rows, self.cout, self.num_ops])
    }
}
