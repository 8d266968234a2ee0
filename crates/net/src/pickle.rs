//! The small part of Python's pickle format that `torch.save(state_dict)` uses: a writer
//! for an `OrderedDict` of tensors (protocol 2, as torch writes it) and a reader for the
//! opcodes such files contain.

use std::collections::HashMap;

/// Element types of tensor storages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F64,
    F32,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl Dtype {
    /// From a storage class name such as `DoubleStorage`.
    pub fn from_storage(name: &str) -> Option<Dtype> {
        Some(match name {
            "DoubleStorage" => Dtype::F64,
            "FloatStorage" => Dtype::F32,
            "LongStorage" => Dtype::I64,
            "IntStorage" => Dtype::I32,
            "ShortStorage" => Dtype::I16,
            "CharStorage" => Dtype::I8,
            "ByteStorage" => Dtype::U8,
            "BoolStorage" => Dtype::Bool,
            _ => return None,
        })
    }

    pub fn storage_name(self) -> &'static str {
        match self {
            Dtype::F64 => "DoubleStorage",
            Dtype::F32 => "FloatStorage",
            Dtype::I64 => "LongStorage",
            Dtype::I32 => "IntStorage",
            Dtype::I16 => "ShortStorage",
            Dtype::I8 => "CharStorage",
            Dtype::U8 => "ByteStorage",
            Dtype::Bool => "BoolStorage",
        }
    }

    pub fn size(self) -> usize {
        match self {
            Dtype::F64 | Dtype::I64 => 8,
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::I16 => 2,
            Dtype::I8 | Dtype::U8 | Dtype::Bool => 1,
        }
    }
}

/// A tensor of a state dict as pickled: which storage, where in it, its shape and strides.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorRecord {
    pub dtype: Dtype,
    /// Storage key: the archive entry `data/<key>`.
    pub key: String,
    pub offset: i64,
    pub size: Vec<i64>,
    pub stride: Vec<i64>,
}

/// Writes `OrderedDict(name -> _rebuild_tensor_v2(storage, 0, size, stride, False,
/// OrderedDict()))` with persistent storage ids, as torch.save does.
pub fn write_state_dict(entries: &[(String, TensorRecord)]) -> Vec<u8> {
    let mut o = vec![0x80, 2];
    let global = |o: &mut Vec<u8>, module: &str, name: &str| {
        o.push(b'c');
        o.extend(module.as_bytes());
        o.push(b'\n');
        o.extend(name.as_bytes());
        o.push(b'\n');
    };
    let string = |o: &mut Vec<u8>, s: &str| {
        o.push(b'X');
        o.extend((s.len() as u32).to_le_bytes());
        o.extend(s.as_bytes());
    };
    let int = |o: &mut Vec<u8>, v: i64| {
        if let Ok(v32) = i32::try_from(v) {
            o.push(b'J');
            o.extend(v32.to_le_bytes());
        } else {
            o.extend([0x8a, 8]); // LONG1, 8 bytes two's complement
            o.extend(v.to_le_bytes());
        }
    };
    let tuple = |o: &mut Vec<u8>, vals: &[i64]| {
        o.push(b'(');
        for &v in vals {
            int(o, v);
        }
        o.push(b't');
    };
    global(&mut o, "collections", "OrderedDict");
    o.extend([b')', b'R', b'(']);
    for (name, t) in entries {
        string(&mut o, name);
        global(&mut o, "torch._utils", "_rebuild_tensor_v2");
        o.extend([b'(', b'(']);
        string(&mut o, "storage");
        global(&mut o, "torch", t.dtype.storage_name());
        string(&mut o, &t.key);
        string(&mut o, "cpu");
        int(&mut o, t.size.iter().product::<i64>());
        o.extend([b't', b'Q']);
        int(&mut o, t.offset);
        tuple(&mut o, &t.size);
        tuple(&mut o, &t.stride);
        o.push(0x89); // NEWFALSE: requires_grad
        global(&mut o, "collections", "OrderedDict");
        o.extend([b')', b'R', b't', b'R']);
    }
    o.extend([b'u', b'.']);
    o
}

/// A value of the pickle machine, reduced to what state dicts hold.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Global(String, String),
    Storage {
        dtype: Dtype,
        key: String,
    },
    Tensor(TensorRecord),
    /// An object this reader does not model (kept as the callable's name).
    Object(String),
    Mark,
}

/// Reads a pickle of a state dict: the top-level value (normally a `Dict` of `Tensor`s).
/// A pickle stream this reader cannot take: what was wrong, and where.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

/// Reads a pickle stream (the subset `torch.save` writes for state dicts).
pub fn read(bytes: &[u8]) -> Result<Value, Malformed> {
    read_stream(bytes).map_err(Malformed)
}

fn read_stream(bytes: &[u8]) -> Result<Value, String> {
    let mut st: Vec<Value> = Vec::new();
    let mut memo: HashMap<u32, Value> = HashMap::new();
    let mut i = 0usize;
    let take = |i: &mut usize, n: usize| -> Result<&[u8], String> {
        let s = bytes.get(*i..*i + n).ok_or("truncated pickle")?;
        *i += n;
        Ok(s)
    };
    let line = |i: &mut usize| -> Result<String, String> {
        let end = bytes[*i..].iter().position(|&b| b == b'\n').ok_or("truncated pickle")? + *i;
        let s = String::from_utf8_lossy(&bytes[*i..end]).into_owned();
        *i = end + 1;
        Ok(s)
    };
    fn pop_mark(st: &mut Vec<Value>) -> Result<Vec<Value>, String> {
        let m = st.iter().rposition(|v| matches!(v, Value::Mark)).ok_or("MARK missing")?;
        let items = st.split_off(m + 1);
        st.pop();
        Ok(items)
    }
    fn pop(st: &mut Vec<Value>) -> Result<Value, String> {
        st.pop().ok_or_else(|| "pickle stack underflow".to_string())
    }
    fn set_items(target: &mut Value, items: Vec<Value>) -> Result<(), String> {
        let Value::Dict(d) = target else { return Err("SETITEM on a non-dict".into()) };
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            d.push((k, v));
        }
        Ok(())
    }
    loop {
        let op = *take(&mut i, 1)?.first().expect("one byte");
        match op {
            0x80 => {
                take(&mut i, 1)?;
            }
            0x95 => {
                take(&mut i, 8)?;
            }
            b'.' => return pop(&mut st),
            b'(' => st.push(Value::Mark),
            b'N' => st.push(Value::None),
            0x88 => st.push(Value::Bool(true)),
            0x89 => st.push(Value::Bool(false)),
            b'J' => st.push(Value::Int(i32::from_le_bytes(take(&mut i, 4)?.try_into().unwrap()) as i64)),
            b'K' => st.push(Value::Int(take(&mut i, 1)?[0] as i64)),
            b'M' => st.push(Value::Int(u16::from_le_bytes(take(&mut i, 2)?.try_into().unwrap()) as i64)),
            0x8a => {
                let n = take(&mut i, 1)?[0] as usize;
                let b = take(&mut i, n)?;
                if n > 8 {
                    return Err("integer too large".into());
                }
                let mut buf = if b.last().is_some_and(|&x| x & 0x80 != 0) { [0xff; 8] } else { [0; 8] };
                buf[..n].copy_from_slice(b);
                st.push(Value::Int(i64::from_le_bytes(buf)));
            }
            b'G' => st.push(Value::Float(f64::from_be_bytes(take(&mut i, 8)?.try_into().unwrap()))),
            b'X' => {
                let n = u32::from_le_bytes(take(&mut i, 4)?.try_into().unwrap()) as usize;
                st.push(Value::Str(String::from_utf8_lossy(take(&mut i, n)?).into_owned()));
            }
            0x8c => {
                let n = take(&mut i, 1)?[0] as usize;
                st.push(Value::Str(String::from_utf8_lossy(take(&mut i, n)?).into_owned()));
            }
            0x8d => {
                let n = u64::from_le_bytes(take(&mut i, 8)?.try_into().unwrap()) as usize;
                st.push(Value::Str(String::from_utf8_lossy(take(&mut i, n)?).into_owned()));
            }
            b'B' => {
                let n = u32::from_le_bytes(take(&mut i, 4)?.try_into().unwrap()) as usize;
                st.push(Value::Bytes(take(&mut i, n)?.to_vec()));
            }
            b'C' => {
                let n = take(&mut i, 1)?[0] as usize;
                st.push(Value::Bytes(take(&mut i, n)?.to_vec()));
            }
            b'c' => {
                let module = line(&mut i)?;
                let name = line(&mut i)?;
                st.push(Value::Global(module, name));
            }
            0x93 => {
                let name = pop(&mut st)?;
                let module = pop(&mut st)?;
                match (module, name) {
                    (Value::Str(m), Value::Str(n)) => st.push(Value::Global(m, n)),
                    _ => return Err("STACK_GLOBAL needs two strings".into()),
                }
            }
            b')' => st.push(Value::Tuple(vec![])),
            b't' => {
                let items = pop_mark(&mut st)?;
                st.push(Value::Tuple(items));
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                if st.len() < n {
                    return Err("pickle stack underflow".into());
                }
                let items = st.split_off(st.len() - n);
                st.push(Value::Tuple(items));
            }
            b']' => st.push(Value::List(vec![])),
            b'l' => {
                let items = pop_mark(&mut st)?;
                st.push(Value::List(items));
            }
            b'a' => {
                let v = pop(&mut st)?;
                if let Some(Value::List(l)) = st.last_mut() {
                    l.push(v);
                }
            }
            b'e' => {
                let items = pop_mark(&mut st)?;
                if let Some(Value::List(l)) = st.last_mut() {
                    l.extend(items);
                }
            }
            b'}' => st.push(Value::Dict(vec![])),
            b'd' => {
                let items = pop_mark(&mut st)?;
                let mut d = Value::Dict(vec![]);
                set_items(&mut d, items)?;
                st.push(d);
            }
            b's' => {
                let v = pop(&mut st)?;
                let k = pop(&mut st)?;
                set_items(st.last_mut().ok_or("SETITEM on an empty stack")?, vec![k, v])?;
            }
            b'u' => {
                let items = pop_mark(&mut st)?;
                set_items(st.last_mut().ok_or("SETITEMS on an empty stack")?, items)?;
            }
            b'q' => {
                let k = take(&mut i, 1)?[0] as u32;
                memo.insert(k, st.last().ok_or("BINPUT on an empty stack")?.clone());
            }
            b'r' => {
                let k = u32::from_le_bytes(take(&mut i, 4)?.try_into().unwrap());
                memo.insert(k, st.last().ok_or("BINPUT on an empty stack")?.clone());
            }
            0x94 => {
                let k = memo.len() as u32;
                memo.insert(k, st.last().ok_or("MEMOIZE on an empty stack")?.clone());
            }
            b'h' => {
                let k = take(&mut i, 1)?[0] as u32;
                st.push(memo.get(&k).ok_or("BINGET of an unknown memo entry")?.clone());
            }
            b'j' => {
                let k = u32::from_le_bytes(take(&mut i, 4)?.try_into().unwrap());
                st.push(memo.get(&k).ok_or("BINGET of an unknown memo entry")?.clone());
            }
            b'Q' => {
                let pid = pop(&mut st)?;
                st.push(storage(pid)?);
            }
            b'R' => {
                let args = pop(&mut st)?;
                let f = pop(&mut st)?;
                st.push(reduce(f, args)?);
            }
            b'b' => {
                pop(&mut st)?; // BUILD: attribute state (e.g. `_metadata`), not needed
            }
            _ => return Err(format!("unsupported pickle opcode 0x{op:02x} at byte {}", i - 1)),
        }
    }
}

fn storage(pid: Value) -> Result<Value, String> {
    let Value::Tuple(t) = pid else { return Err("persistent id is not a tuple".into()) };
    match t.as_slice() {
        [Value::Str(kind), Value::Global(_, cls), Value::Str(key), _, _] if kind == "storage" => {
            let dtype = Dtype::from_storage(cls).ok_or_else(|| format!("unsupported storage type {cls}"))?;
            Ok(Value::Storage { dtype, key: key.clone() })
        }
        _ => Err(format!("unsupported persistent id {t:?}")),
    }
}

fn ints(v: &Value) -> Result<Vec<i64>, String> {
    match v {
        Value::Tuple(t) | Value::List(t) => t
            .iter()
            .map(|x| if let Value::Int(i) = x { Ok(*i) } else { Err("non-integer in a shape".to_string()) })
            .collect(),
        _ => Err("shape is not a tuple".into()),
    }
}

fn reduce(f: Value, args: Value) -> Result<Value, String> {
    let Value::Global(module, name) = f else { return Ok(Value::Object("?".into())) };
    let Value::Tuple(args) = args else { return Err(format!("{module}.{name} called without a tuple")) };
    match (module.as_str(), name.as_str()) {
        ("collections", "OrderedDict") => Ok(Value::Dict(vec![])),
        ("torch._utils", "_rebuild_tensor_v2") | ("torch._utils", "_rebuild_tensor") => {
            let [Value::Storage { dtype, key }, Value::Int(offset), size, stride, ..] = args.as_slice() else {
                return Err(format!("unexpected arguments to {name}"));
            };
            Ok(Value::Tensor(TensorRecord {
                dtype: *dtype,
                key: key.clone(),
                offset: *offset,
                size: ints(size)?,
                stride: ints(stride)?,
            }))
        }
        ("torch._utils", "_rebuild_parameter") | ("torch._utils", "_rebuild_parameter_with_state") => {
            args.into_iter().next().ok_or_else(|| format!("{name} without arguments"))
        }
        _ => Ok(Value::Object(format!("{module}.{name}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_state_dict_reads_back() {
        let rec = |key: &str, size: Vec<i64>, stride: Vec<i64>, dtype| TensorRecord {
            dtype,
            key: key.into(),
            offset: 0,
            size,
            stride,
        };
        let entries = vec![
            ("a.Psi".to_string(), rec("0", vec![2, 3, 13], vec![39, 13, 1], Dtype::F64)),
            ("a.N".to_string(), rec("1", vec![], vec![], Dtype::I64)),
            ("big".to_string(), rec("2", vec![5_000_000_000], vec![1], Dtype::U8)),
        ];
        let Value::Dict(d) = read(&write_state_dict(&entries)).unwrap() else { panic!("not a dict") };
        assert_eq!(d.len(), 3);
        for ((k, v), (name, r)) in d.iter().zip(&entries) {
            assert_eq!(k, &Value::Str(name.clone()));
            assert_eq!(v, &Value::Tensor(r.clone()));
        }
    }
}
