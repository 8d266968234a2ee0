//! `torch.save` archives: PyTorch-compatible checkpoints (SPEC section 4). A zip of stored
//! entries `<name>/data.pkl` (the pickled state dict), `<name>/data/<key>` (raw
//! little-endian storages, 64-byte aligned), `<name>/version`, `<name>/byteorder`.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use gcnet_files::{AtomicFile, Overwrite};
use tch::{Kind, Tensor};
use zip::write::SimpleFileOptions;

use crate::error::{Error, Result};
use crate::network::Gcnet;
use crate::pickle::{self, Dtype, TensorRecord, Value};

fn dtype_of(kind: Kind) -> Option<Dtype> {
    Some(match kind {
        Kind::Double => Dtype::F64,
        Kind::Float => Dtype::F32,
        Kind::Int64 => Dtype::I64,
        Kind::Int => Dtype::I32,
        Kind::Int16 => Dtype::I16,
        Kind::Int8 => Dtype::I8,
        Kind::Uint8 => Dtype::U8,
        Kind::Bool => Dtype::Bool,
        _ => return None,
    })
}

fn tensor_bytes(t: &Tensor, dtype: Dtype) -> Vec<u8> {
    let t = t.to_device(tch::Device::Cpu).contiguous().view([-1]);
    let n = t.numel();
    let mut buf = vec![0u8; n * dtype.size()];
    t.copy_data_u8(&mut buf, n);
    buf
}

/// Writes named tensors as a `torch.save` state dict, atomically (through
/// [`gcnet_files::AtomicFile`]); `overwrite` says whether an existing file may be replaced.
pub fn write_tensors(path: &Path, entries: &[(String, Tensor)], overwrite: Overwrite) -> Result<()> {
    let mut out = AtomicFile::new(path, overwrite)?;
    write_tensors_into(path, out.file(), entries)?;
    out.commit()?;
    Ok(())
}

/// Writes a state dict as a `torch.save` archive into an open file (e.g. a member of a
/// result set); `path` is the target, which names the archive's folder and the errors.
pub fn write_tensors_into(path: &Path, file: &mut File, entries: &[(String, Tensor)]) -> Result<()> {
    let name: String = path
        .file_stem()
        .map(|s| {
            s.to_string_lossy().chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
        })
        .filter(|s: &String| !s.is_empty())
        .unwrap_or_else(|| "archive".into());
    let mut records = Vec::with_capacity(entries.len());
    let mut blobs = Vec::with_capacity(entries.len());
    for (i, (n, t)) in entries.iter().enumerate() {
        let dtype = dtype_of(t.kind())
            .ok_or_else(|| Error::Config(format!("cannot save tensor `{n}` of kind {:?}", t.kind())))?;
        let size = t.size();
        let mut stride = vec![1i64; size.len()];
        for d in (0..size.len().saturating_sub(1)).rev() {
            stride[d] = stride[d + 1] * size[d + 1];
        }
        records.push((n.clone(), TensorRecord { dtype, key: i.to_string(), offset: 0, size, stride }));
        blobs.push(tensor_bytes(t, dtype));
    }
    write_archive(path, file, &name, &records, &blobs)
}

fn write_archive(
    path: &Path,
    file: &mut File,
    name: &str,
    records: &[(String, TensorRecord)],
    blobs: &[Vec<u8>],
) -> Result<()> {
    let zerr = |e: zip::result::ZipError| Error::Io {
        path: path.to_path_buf(),
        action: "write the checkpoint",
        source: std::io::Error::other(e),
    };
    let mut zw = zip::ZipWriter::new(file);
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored).with_alignment(64);
    let mut put = |entry: String, data: &[u8]| -> Result<()> {
        zw.start_file(format!("{name}/{entry}"), opts).map_err(zerr)?;
        zw.write_all(data).map_err(Error::io(path, "write the checkpoint"))
    };
    put("data.pkl".into(), &pickle::write_state_dict(records))?;
    put(".format_version".into(), b"1")?;
    put(".storage_alignment".into(), b"64")?;
    put("byteorder".into(), b"little")?;
    for (i, blob) in blobs.iter().enumerate() {
        put(format!("data/{i}"), blob)?;
    }
    put("version".into(), b"3\n")?;
    zw.finish().map_err(zerr)?;
    Ok(())
}

/// Reads a `torch.save` archive of a mapping from names to tensors (a state dict), in
/// the order of the file.
pub fn read_tensors(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let bad = |reason: String| Error::Checkpoint { path: path.to_path_buf(), reason };
    let file = File::open(path).map_err(Error::io(path, "open the checkpoint"))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(format!("not a zip archive ({e})")))?;
    let pkl = zip
        .file_names()
        .find(|n| *n == "data.pkl" || n.ends_with("/data.pkl"))
        .map(str::to_string)
        .ok_or_else(|| bad("no data.pkl in the archive (is this a TorchScript file or a tch VarStore?)".into()))?;
    let prefix = pkl.trim_end_matches("data.pkl").to_string();
    let mut read_entry = |name: &str| -> Result<Vec<u8>> {
        let mut f = zip.by_name(name).map_err(|e| bad(format!("missing entry {name} ({e})")))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).map_err(Error::io(path, "read the checkpoint"))?;
        Ok(buf)
    };
    if let Ok(order) = read_entry(&format!("{prefix}byteorder"))
        && order != b"little"
    {
        return Err(bad("big-endian storages are not supported".into()));
    }
    let value = pickle::read(&read_entry(&pkl)?).map_err(|e| bad(format!("data.pkl: {e}")))?;
    let Value::Dict(items) = value else { return Err(bad("data.pkl does not hold a mapping".into())) };
    let mut out = Vec::with_capacity(items.len());
    for (k, v) in items {
        let (Value::Str(name), Value::Tensor(rec)) = (k, v) else {
            return Err(bad("the mapping holds something other than named tensors".into()));
        };
        let bytes = read_entry(&format!("{prefix}data/{}", rec.key))?;
        let t = storage_tensor(&bytes, rec.dtype);
        let numel = t.numel() as i64;
        let max = rec.offset + rec.size.iter().zip(&rec.stride).map(|(n, s)| (n - 1).max(0) * s).sum::<i64>();
        if rec.size.iter().product::<i64>() > 0 && (rec.offset < 0 || max >= numel) {
            return Err(bad(format!("tensor `{name}` reaches past its storage")));
        }
        out.push((name, t.as_strided(rec.size.as_slice(), rec.stride.as_slice(), rec.offset).contiguous()));
    }
    Ok(out)
}

fn storage_tensor(bytes: &[u8], dtype: Dtype) -> Tensor {
    macro_rules! from {
        ($t:ty) => {{
            let n = std::mem::size_of::<$t>();
            let v: Vec<$t> = bytes.chunks_exact(n).map(|c| <$t>::from_le_bytes(c.try_into().unwrap())).collect();
            Tensor::from_slice(&v)
        }};
    }
    match dtype {
        Dtype::F64 => from!(f64),
        Dtype::F32 => from!(f32),
        Dtype::I64 => from!(i64),
        Dtype::I32 => from!(i32),
        Dtype::I16 => from!(i16),
        Dtype::I8 => from!(i8),
        Dtype::U8 => Tensor::from_slice(bytes),
        Dtype::Bool => Tensor::from_slice(bytes).to_kind(Kind::Bool),
    }
}

/// Saves the network's weights as `ep_k.pt` in the layout of SPEC section 4.
pub fn save(net: &Gcnet, path: &Path, overwrite: Overwrite) -> Result<()> {
    write_tensors(path, &net.state_dict(), overwrite)
}

/// Loads weights saved by [`save`] or by `torch.save(model.state_dict(), path)` into a
/// network of the same shape and crystal. Weights that are not finite are refused: such
/// a network would give NaN, or a finite but meaningless L.
pub fn load(net: &mut Gcnet, path: &Path) -> Result<()> {
    let entries = read_tensors(path)?;
    for (name, t) in &entries {
        let float = matches!(t.kind(), Kind::Double | Kind::Float | Kind::Half | Kind::BFloat16);
        if float && t.numel() > 0 && t.isfinite().all().int64_value(&[]) == 0 {
            return Err(Error::NonFiniteCheckpoint { path: path.to_path_buf(), tensor: name.clone() });
        }
    }
    net.load_state_dict(&entries).map_err(|source| Error::CheckpointMismatch { path: path.to_path_buf(), source })
}
