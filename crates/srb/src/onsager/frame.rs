//! The per-move terms as a polars frame, for notebooks.

use polars::prelude::{Column, DataFrame, PolarsResult};

use super::matrix::SampleTerms;

/// One row per move out of each state: `state`, `move` (the jump, or 0 for a recorded
/// step), `jumping` (the label of the atom that jumps), `rate`, and `k_{a}_{b}` for every
/// pair a <= b of labels (the diagonal ones are the kinosons; summed over a state's moves
/// and averaged over the states they give L_ab).
pub fn kinoson_frame(terms: &SampleTerms) -> PolarsResult<DataFrame> {
    let (n, m) = terms.rates.dim();
    let rows = n * m;
    let mut columns = vec![
        Column::new("state".into(), (0..rows).map(|r| (r / m) as i64).collect::<Vec<_>>()),
        Column::new("move".into(), (0..rows).map(|r| (r % m) as i64).collect::<Vec<_>>()),
        Column::new("jumping".into(), terms.jumping.iter().map(|&j| j as i64).collect::<Vec<_>>()),
        Column::new("rate".into(), terms.rates.iter().copied().collect::<Vec<_>>()),
    ];
    let nl = terms.num_labels();
    for a in 0..nl {
        for b in a..nl {
            let k = terms.move_terms(a, b, 0..n);
            columns.push(Column::new(format!("k_{a}_{b}").into(), k.iter().copied().collect::<Vec<_>>()));
        }
    }
    DataFrame::new(rows, columns)
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, Array4};

    use super::kinoson_frame;
    use crate::onsager::SampleTerms;

    #[test]
    fn one_row_per_move_and_the_means_are_the_matrix() {
        let u = Array4::from_shape_fn((3, 2, 2, 3), |(n, m, a, x)| {
            (n + m + a + x) as f64 * if a == 1 { -1.0 } else { 1.0 }
        });
        let terms = SampleTerms {
            u,
            rates: Array2::from_shape_fn((3, 2), |(n, m)| 1.0 + (n * 2 + m) as f64),
            jumping: Array2::zeros((3, 2)),
            vacancy: 1,
        };
        let frame = kinoson_frame(&terms).unwrap();
        assert_eq!(frame.height(), 6);
        let k01 = frame.column("k_0_1").unwrap().f64().unwrap();
        let sum: f64 = (0..6).map(|i| k01.get(i).unwrap()).sum();
        assert!((sum / 3.0 - terms.estimate(0..3).l[[0, 1]]).abs() < 1e-12);
    }
}
