//! Point-group operations as integer matrices in lattice coordinates.

use std::fmt;
use std::ops::Mul;

use crate::lattice::Lattice;

/// A rotation (proper or improper) as an integer 3x3 matrix acting on column vectors of
/// lattice coordinates: `x' = R x`. The Cartesian form is derived, never stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rotation {
    m: [[i64; 3]; 3],
}

impl Rotation {
    pub fn identity() -> Self {
        Rotation { m: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }
    }

    /// From a row-major integer matrix; `None` unless its determinant is +1 or -1.
    pub fn new(m: [[i64; 3]; 3]) -> Option<Self> {
        let r = Rotation { m };
        (r.determinant().abs() == 1).then_some(r)
    }

    /// Row-major matrix in lattice coordinates.
    pub fn matrix(&self) -> [[i64; 3]; 3] {
        self.m
    }

    pub fn determinant(&self) -> i64 {
        let m = &self.m;
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    }

    /// Applies the rotation to a vector of (possibly doubled) lattice coordinates.
    pub fn apply(&self, v: [i64; 3]) -> [i64; 3] {
        let m = &self.m;
        [0, 1, 2].map(|r| m[r][0] * v[0] + m[r][1] * v[1] + m[r][2] * v[2])
    }

    /// The exact inverse (adjugate divided by the determinant, which is +-1).
    pub fn inverse(&self) -> Self {
        let adj = adjugate(&self.m);
        let det = self.determinant();
        Rotation { m: adj.map(|row| row.map(|x| x * det)) }
    }

    /// Cartesian form `M R M^-1`, where the columns of `M` are the lattice's cell vectors.
    pub fn cartesian(&self, lattice: &Lattice) -> [[f64; 3]; 3] {
        let m = lattice.cell_columns();
        let minv = inverse_f64(&m);
        let r = self.m.map(|row| row.map(|x| x as f64));
        matmul_f64(&matmul_f64(&m, &r), &minv)
    }

    /// The lattice-coordinate form of a Cartesian rotation, if it maps the lattice onto
    /// itself (its lattice form is then an integer matrix).
    pub fn from_cartesian(cart: &[[f64; 3]; 3], lattice: &Lattice) -> Option<Self> {
        let m = lattice.cell_columns();
        let minv = inverse_f64(&m);
        let r = matmul_f64(&matmul_f64(&minv, cart), &m);
        let mut out = [[0i64; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                let v = r[i][j].round();
                if (r[i][j] - v).abs() > 1e-9 {
                    return None;
                }
                out[i][j] = v as i64;
            }
        }
        Rotation::new(out)
    }
}

impl Mul for Rotation {
    type Output = Rotation;
    /// Composition: `(a * b).apply(x) == a.apply(b.apply(x))`.
    fn mul(self, rhs: Rotation) -> Rotation {
        let (a, b) = (&self.m, &rhs.m);
        let mut m = [[0i64; 3]; 3];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = (0..3).map(|k| a[i][k] * b[k][j]).sum();
            }
        }
        Rotation { m }
    }
}

impl fmt::Debug for Rotation {
    /// Crystallographic x,y,z notation of the image of (x,y,z), e.g. `-y,x,z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = ['x', 'y', 'z'];
        let rows: Vec<String> = self
            .m
            .iter()
            .map(|row| {
                let mut s = String::new();
                for (c, &v) in row.iter().enumerate() {
                    if v == 0 {
                        continue;
                    }
                    if v < 0 {
                        s.push('-');
                    } else if !s.is_empty() {
                        s.push('+');
                    }
                    if v.abs() != 1 {
                        s.push_str(&v.abs().to_string());
                    }
                    s.push(names[c]);
                }
                if s.is_empty() { "0".to_string() } else { s }
            })
            .collect();
        write!(f, "{}", rows.join(","))
    }
}

fn adjugate(m: &[[i64; 3]; 3]) -> [[i64; 3]; 3] {
    let mut adj = [[0i64; 3]; 3];
    for (i, row) in adj.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            // adj[i][j] = cofactor of m[j][i]
            let (r0, r1) = others(j);
            let (c0, c1) = others(i);
            let minor = m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
            *x = if (i + j) % 2 == 0 { minor } else { -minor };
        }
    }
    adj
}

/// Adjugate and determinant of an integer matrix (used for exact supercell wrapping).
pub(crate) fn adjugate_det(m: &[[i64; 3]; 3]) -> ([[i64; 3]; 3], i64) {
    let adj = adjugate(m);
    let det = (0..3).map(|k| m[0][k] * adj[k][0]).sum();
    (adj, det)
}

fn others(i: usize) -> (usize, usize) {
    match i {
        0 => (1, 2),
        1 => (0, 2),
        _ => (0, 1),
    }
}

pub(crate) fn matmul_f64(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut m = [[0.0; 3]; 3];
    for (i, row) in m.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    m
}

pub(crate) fn inverse_f64(m: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let mut inv = [[0.0; 3]; 3];
    for (i, row) in inv.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            let (r0, r1) = others(j);
            let (c0, c1) = others(i);
            let minor = m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
            *x = if (i + j) % 2 == 0 { minor } else { -minor } / det;
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_uses_xyz_notation() {
        let r = Rotation::new([[0, -1, 0], [1, 0, 0], [0, 0, 1]]).unwrap();
        assert_eq!(format!("{r:?}"), "-y,x,z");
        assert_eq!(format!("{:?}", Rotation::identity()), "x,y,z");
    }

    #[test]
    fn inverse_composes_to_identity() {
        let r = Rotation::new([[0, 1, 1], [1, 0, 1], [-1, -1, -1]]).unwrap();
        assert_eq!(r * r.inverse(), Rotation::identity());
        assert_eq!(r.inverse() * r, Rotation::identity());
    }

    #[test]
    fn singular_matrix_is_rejected() {
        assert!(Rotation::new([[1, 0, 0], [0, 1, 0], [0, 0, 0]]).is_none());
        assert!(Rotation::new([[2, 0, 0], [0, 1, 0], [0, 0, 1]]).is_none());
    }

    #[test]
    fn float_inverse() {
        let m = [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]];
        let p = matmul_f64(&m, &inverse_f64(&m));
        for (i, row) in p.iter().enumerate() {
            for (j, &x) in row.iter().enumerate() {
                assert!((x - if i == j { 1.0 } else { 0.0 }).abs() < 1e-14);
            }
        }
    }
}
