//! Python's spelling of values in the text files that the published tools write (argument
//! dumps, logs), so that ours read the same.

/// A float as Python's `repr` writes it: shortest round trip, `1.0` for whole numbers,
/// exponent form below 1e-4 and from 1e16 (`1e-05`, `1.5e+16`).
pub fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 || (1e-4..1e16).contains(&x.abs()) {
        let s = format!("{x}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{x:e}"); // e.g. 1.5e-5
    let (mant, exp) = s.split_once('e').expect("exponent form");
    let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
    format!("{mant}e{sign}{digits:0>2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_written_as_python_repr_writes_them() {
        for (x, want) in [
            (1.0, "1.0"),
            (0.001, "0.001"),
            (0.0005, "0.0005"),
            (0.0001, "0.0001"),
            (5e-5, "5e-05"),
            (1.5e-7, "1.5e-07"),
            (3.595, "3.595"),
            (-0.02, "-0.02"),
            (0.0, "0.0"),
            (0.71, "0.71"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789.0, "123456789.0"),
            (2.5e-123, "2.5e-123"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(py_float(x), want, "{x:e}");
        }
    }
}
