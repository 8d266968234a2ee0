//! The group convolution of SPEC section 4, as one gather and one matrix product.
//!
//! For group operation g the filter is `Psi_g[o,i,k] = Psi[o,i,P[g,k]]`; the
//! pre-activation at site s is `sum_{i,k} Psi_g[o,i,k] x[i, NN[k,s]] + bias[o]`, followed
//! by softplus and the mean over g. Activations are kept as rows `(B*S, C)`; the gathered
//! input `(B*S, (z+1)*Cin)` times the rotated-filter matrix `((z+1)*Cin, Cout*Ng)` gives
//! every operation's pre-activation in one product.

use tch::{Kind, Tensor, nn};

use gcnet_kernels::{Products, activation, products};

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
        GConv { psi, bias, filter_index: group_nn.reshape([-1]), cin, cout, num_ops, num_k }
    }

    /// The rotated filters of every operation as one matrix `((z+1)*Cin, Cout*Ng)`, columns
    /// ordered (o major, g minor) as in the published code: entry
    /// `[k*Cin + i, o*Ng + g] = Psi[o, i, P[g, k]]`.
    pub fn filter_matrix(&self) -> Tensor {
        // (Cout, Cin, Ng*K) -> (Cout, Cin, Ng, K) -> (K, Cin, Cout, Ng)
        self.psi
            .index_select(2, &self.filter_index)
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
        self.bias.expand([self.cout, self.num_ops], false).reshape([self.cout * self.num_ops])
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
