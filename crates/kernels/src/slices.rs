//! The one place where tensor storage becomes a Rust slice: only after checking that the
//! tensor is defined, on the CPU, contiguous and of the slice's element type.

use tch::{Device, Kind, Tensor};

/// Element types the kernels read and write.
pub(crate) trait Element: Copy + Send + Sync + 'static {
    const KIND: Kind;
}
impl Element for f64 {
    const KIND: Kind = Kind::Double;
}
impl Element for f32 {
    const KIND: Kind = Kind::Float;
}
impl Element for i64 {
    const KIND: Kind = Kind::Int64;
}

fn check<T: Element>(t: &Tensor, what: &str) -> usize {
    assert!(
        t.defined() && t.device() == Device::Cpu && t.is_contiguous() && t.kind() == T::KIND,
        "{what}: a defined, contiguous CPU tensor of {:?} is needed, got {:?} on {:?} (contiguous: {})",
        T::KIND,
        t.kind(),
        t.device(),
        t.is_contiguous()
    );
    t.numel()
}

/// The elements of `t`, writable for as long as `t` is borrowed.
pub(crate) fn elements_mut<'a, T: Element>(t: &'a mut Tensor, what: &str) -> &'a mut [T] {
    let n = check::<T>(t, what);
    if n == 0 {
        return &mut [];
    }
    // SAFETY: checked above: `t` holds `n` contiguous elements of type T in CPU memory,
    // which stay alive and are reached only through this slice while `t` is mutably
    // borrowed (the kernels never hand out other views of the tensors they write).
    unsafe { std::slice::from_raw_parts_mut(t.data_ptr() as *mut T, n) }
}

/// The elements of `t`, read-only.
pub(crate) fn elements<'a, T: Element>(t: &'a Tensor, what: &str) -> &'a [T] {
    let n = check::<T>(t, what);
    if n == 0 {
        return &[];
    }
    // SAFETY: as in `elements_mut`; the slice is only read.
    unsafe { std::slice::from_raw_parts(t.data_ptr() as *const T, n) }
}

/// The entries of an i64 table of row numbers (contiguous, on the CPU), each checked to be
/// below `rows`: the kernels index memory with them. A bad entry panics with `what` and the
/// first bad entry, e.g. "gather_rows: index entry 2 is 4, outside the 4 rows".
pub(crate) fn row_numbers<'a>(t: &'a Tensor, rows: i64, what: &str, of: &str) -> &'a [i64] {
    let table: &[i64] = elements(t, what);
    if let Some(bad) = table.iter().position(|&r| r < 0 || r >= rows) {
        panic!("{what} entry {bad} is {}, outside the {rows} {of}", table[bad]);
    }
    table
}
