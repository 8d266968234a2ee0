//! The crystal tables the network and the losses need, as host arrays and device tensors,
//! laid out from the shared [`JumpNetwork`].

use gcnet_crystal::{CrystalData, JumpNetwork};
use tch::{Device, Kind, Tensor};

/// Neighbour, group and jump tables of one crystal (SPEC section 2), on the host.
#[derive(Clone, Debug)]
pub struct Geometry {
    /// Number of sites S.
    pub num_sites: usize,
    /// Number of jumps z.
    pub z: usize,
    /// `NNsiteList_sitewise` (z+1, S), row-major: `nn[k * S + s]`.
    pub nn: Vec<i64>,
    /// `GroupNNPermutation` (Ng, z+1), row-major.
    pub group_nn: Vec<i64>,
    /// Number of group operations Ng.
    pub num_ops: usize,
    /// `dxList_1nn` (z, 3), Cartesian, lattice parameter 1.
    pub jumps: Vec<[f64; 3]>,
    /// `JumpSiteIndexPermutation` (z, S): `s2[s] = s1[jump_perm[j][s]]`.
    pub jump_perm: Vec<Vec<usize>>,
    /// Inverse jump permutations: the atom on site `s` of s1 ends on `jump_dest[j][s]` of s2.
    pub jump_dest: Vec<Vec<usize>>,
}

impl Geometry {
    pub fn from_crystal(crystal: &CrystalData) -> Self {
        Self::from_network(&JumpNetwork::new(crystal))
    }

    /// The tables of the shared jump network, laid out for the device.
    pub fn from_network(network: &JumpNetwork) -> Self {
        let (num_sites, z) = (network.num_sites(), network.z());
        let nn = (0..=z)
            .flat_map(|k| (0..num_sites).map(move |s| if k == 0 { s } else { network.neighbour(s, k - 1) } as i64))
            .collect();
        let num_ops = network.num_group_ops();
        let group_nn = (0..num_ops).flat_map(|g| network.group_jump_permutation(g).iter().map(|&k| k as i64)).collect();
        let jumps = network.jump_vectors().to_vec();
        let perms: Vec<_> = (0..z).map(|j| network.jump_site_permutation(j)).collect();
        let jump_perm = perms.iter().map(|p| p.as_slice().to_vec()).collect();
        let jump_dest = perms.iter().map(|p| p.inverse().as_slice().to_vec()).collect();
        Geometry { num_sites, z, nn, group_nn, num_ops, jumps, jump_perm, jump_dest }
    }

    /// The site reached from site `s` by jump `k` (0-based).
    pub fn neighbour(&self, s: usize, k: usize) -> usize {
        self.nn[(k + 1) * self.num_sites + s] as usize
    }

    /// `NNsiteList_sitewise` as an i64 tensor (z+1, S).
    pub fn nn_tensor(&self, device: Device) -> Tensor {
        Tensor::from_slice(&self.nn).view([(self.z + 1) as i64, self.num_sites as i64]).to_device(device)
    }

    /// `GroupNNPermutation` (Ng, z+1), or only its identity row with `nosym`.
    pub fn group_nn_tensor(&self, nosym: bool, device: Device) -> Tensor {
        let k = (self.z + 1) as i64;
        let rows = if nosym { 1 } else { self.num_ops as i64 };
        Tensor::from_slice(&self.group_nn[..(rows * k) as usize]).view([rows, k]).to_device(device)
    }

    /// `a0 * dxList^T` (3, z).
    pub fn jump_vecs_tensor(&self, a0: f64, kind: Kind, device: Device) -> Tensor {
        let flat: Vec<f64> = (0..3).flat_map(|x| self.jumps.iter().map(move |d| a0 * d[x])).collect();
        Tensor::from_slice(&flat).view([3, self.z as i64]).to_kind(kind).to_device(device)
    }
}
