//! A minimal, Python-free reader for pickled nested dicts of float32 numpy arrays.
//!
//! It implements the subset of the pickle virtual machine (protocols 2-5, binary opcodes) that
//! `pickle.dump(tree, protocol=2..5)` emits for such a tree, and understands exactly three
//! callables: `numpy.core.multiarray._reconstruct` (also `numpy._core.multiarray`, numpy 2),
//! `numpy.dtype` and `numpy.ndarray` (as an argument only). Nothing is ever executed; anything
//! else is an error. Mutable objects (dicts, lists, arrays, dtypes) live in an arena and the
//! stack and memo hold handles, so a memoised object mutated later (numpy's shared dtype is
//! BUILD-mutated after BINPUT, then fetched with BINGET) is seen mutated, as in Python.

use std::collections::HashMap;

/// One float32 array found in the pickle: its dotted name, shape and little-endian bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Array<'a> {
    pub name: String,
    pub shape: Vec<usize>,
    /// `shape.product() * 4` little-endian float32 bytes, C order.
    pub data: &'a [u8],
}

#[derive(Debug, Clone)]
enum Value<'a> {
    None,
    Bool(bool),
    Int(i64),
    /// A float's value is never needed, only its place on the stack.
    Float,
    Str(String),
    Bytes(&'a [u8]),
    Tuple(Vec<Value<'a>>),
    Global(String, String),
    /// Handle into the object arena.
    Obj(usize),
}

#[derive(Debug)]
enum Obj<'a> {
    Dict(Vec<(Value<'a>, Value<'a>)>),
    List(Vec<Value<'a>>),
    /// An ndarray after `_reconstruct`, filled in by BUILD.
    Array {
        shape: Vec<usize>,
        dtype: Option<usize>,
        fortran: bool,
        data: Option<&'a [u8]>,
    },
    /// A numpy dtype: its descriptor (`f4`) and, after BUILD, its byte order.
    Dtype {
        descr: String,
        order: Option<String>,
    },
}

struct Vm<'a> {
    buf: &'a [u8],
    pos: usize,
    stack: Vec<Value<'a>>,
    marks: Vec<usize>,
    memo: HashMap<u64, Value<'a>>,
    arena: Vec<Obj<'a>>,
}

/// Reads every float32 array of a pickled nested dict. Names are the dict keys from the root
/// down, joined with `.` (`AlexNet_0.Conv_0.kernel`); the result is sorted by name. Errors are
/// plain messages (the caller adds the file name).
pub fn read_arrays(buf: &[u8]) -> Result<Vec<Array<'_>>, String> {
    let mut vm = Vm {
        buf,
        pos: 0,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        arena: Vec::new(),
    };
    let root = vm.run()?;
    let mut out = Vec::new();
    vm.flatten(&root, "", &mut out, 0)?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

impl<'a> Vm<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| format!("truncated at byte {} (wanted {n} more bytes)", self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn len64(&mut self) -> Result<usize, String> {
        let n = self.u64()?;
        usize::try_from(n).map_err(|_| format!("length {n} too large"))
    }
    fn line(&mut self) -> Result<String, String> {
        let rest = &self.buf[self.pos..];
        let nl = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| format!("unterminated line at byte {}", self.pos))?;
        let s = std::str::from_utf8(&rest[..nl])
            .map_err(|_| format!("non-UTF-8 text at byte {}", self.pos))?
            .to_string();
        self.pos += nl + 1;
        Ok(s)
    }
    fn text(&mut self, n: usize) -> Result<String, String> {
        let at = self.pos;
        let b = self.take(n)?;
        std::str::from_utf8(b)
            .map(str::to_string)
            .map_err(|_| format!("invalid UTF-8 string at byte {at}"))
    }
    fn pop(&mut self) -> Result<Value<'a>, String> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            return Err(format!("stack underflow (at mark) at byte {}", self.pos));
        }
        self.stack
            .pop()
            .ok_or_else(|| format!("stack underflow at byte {}", self.pos))
    }
    fn top(&mut self) -> Result<&mut Value<'a>, String> {
        let pos = self.pos;
        self.stack
            .last_mut()
            .ok_or_else(|| format!("empty stack at byte {pos}"))
    }
    /// Pops everything down to the last MARK.
    fn pop_mark(&mut self) -> Result<Vec<Value<'a>>, String> {
        let m = self
            .marks
            .pop()
            .ok_or_else(|| format!("no MARK on the stack at byte {}", self.pos))?;
        Ok(self.stack.split_off(m))
    }
    fn new_obj(&mut self, o: Obj<'a>) -> Value<'a> {
        self.arena.push(o);
        Value::Obj(self.arena.len() - 1)
    }
    fn memo_get(&self, k: u64) -> Result<Value<'a>, String> {
        self.memo
            .get(&k)
            .cloned()
            .ok_or_else(|| format!("memo key {k} not set (byte {})", self.pos))
    }
    fn memo_put(&mut self, k: u64) -> Result<(), String> {
        let v = self
            .stack
            .last()
            .cloned()
            .ok_or_else(|| format!("memo put on empty stack at byte {}", self.pos))?;
        self.memo.insert(k, v);
        Ok(())
    }
    fn dict_handle(&self, v: &Value<'a>) -> Result<usize, String> {
        match v {
            Value::Obj(i) if matches!(self.arena[*i], Obj::Dict(_)) => Ok(*i),
            other => Err(format!(
                "SETITEM(S) on a non-dict {other:?} at byte {}",
                self.pos
            )),
        }
    }
    fn set_items(&mut self, items: Vec<Value<'a>>) -> Result<(), String> {
        if items.len() % 2 == 1 {
            return Err(format!(
                "odd number of SETITEMS values at byte {}",
                self.pos
            ));
        }
        let d = self.dict_handle(self.stack.last().unwrap_or(&Value::None))?;
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            if let Obj::Dict(entries) = &mut self.arena[d] {
                entries.push((k, v));
            }
        }
        Ok(())
    }
    fn append(&mut self, items: Vec<Value<'a>>) -> Result<(), String> {
        match self.stack.last() {
            Some(Value::Obj(i)) => match &mut self.arena[*i] {
                Obj::List(l) => {
                    l.extend(items);
                    Ok(())
                }
                _ => Err(format!("APPEND to a non-list at byte {}", self.pos)),
            },
            _ => Err(format!("APPEND to a non-list at byte {}", self.pos)),
        }
    }

    fn run(&mut self) -> Result<Value<'a>, String> {
        loop {
            let at = self.pos;
            let op = self.u8()?;
            match op {
                0x80 => {
                    let p = self.u8()?;
                    if p > 5 {
                        return Err(format!("unsupported pickle protocol {p}"));
                    }
                }
                0x95 => {
                    self.u64()?; // FRAME: a length hint only
                }
                b'.' => return self.pop(),
                b'(' => self.marks.push(self.stack.len()),
                b'0' => {
                    self.pop()?;
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let v = self.top()?.clone();
                    self.stack.push(v);
                }
                b'}' => {
                    let v = self.new_obj(Obj::Dict(Vec::new()));
                    self.stack.push(v);
                }
                b'd' => {
                    let items = self.pop_mark()?;
                    let v = self.new_obj(Obj::Dict(Vec::new()));
                    self.stack.push(v);
                    self.set_items(items)?;
                }
                b']' => {
                    let v = self.new_obj(Obj::List(Vec::new()));
                    self.stack.push(v);
                }
                b'l' => {
                    let items = self.pop_mark()?;
                    let v = self.new_obj(Obj::List(items));
                    self.stack.push(v);
                }
                b'a' => {
                    let v = self.pop()?;
                    self.append(vec![v])?;
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    self.append(items)?;
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items(vec![k, v])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    self.set_items(items)?;
                }
                b')' => self.stack.push(Value::Tuple(Vec::new())),
                b't' => {
                    let items = self.pop_mark()?;
                    self.stack.push(Value::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if self.stack.len() < n
                        || self.marks.last().is_some_and(|&m| m > self.stack.len() - n)
                    {
                        return Err(format!("stack underflow in TUPLE{n} at byte {at}"));
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.stack.push(Value::Tuple(items));
                }
                b'N' => self.stack.push(Value::None),
                0x88 => self.stack.push(Value::Bool(true)),
                0x89 => self.stack.push(Value::Bool(false)),
                b'K' => {
                    let v = self.u8()?;
                    self.stack.push(Value::Int(v.into()));
                }
                b'M' => {
                    let v = self.u16()?;
                    self.stack.push(Value::Int(v.into()));
                }
                b'J' => {
                    let v = self.u32()? as i32;
                    self.stack.push(Value::Int(v.into()));
                }
                0x8a => {
                    // LONG1: little-endian two's complement, up to 8 bytes supported.
                    let n = usize::from(self.u8()?);
                    if n > 8 {
                        return Err(format!("integer too large at byte {at}"));
                    }
                    let b = self.take(n)?;
                    let mut v: i64 = 0;
                    for (i, &x) in b.iter().enumerate() {
                        v |= i64::from(x) << (8 * i);
                    }
                    if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 {
                        v -= 1i64 << (8 * n);
                    }
                    self.stack.push(Value::Int(v));
                }
                b'G' => {
                    self.take(8)?;
                    self.stack.push(Value::Float);
                }
                b'X' => {
                    let n = self.u32()? as usize;
                    let s = self.text(n)?;
                    self.stack.push(Value::Str(s));
                }
                0x8c => {
                    let n = usize::from(self.u8()?);
                    let s = self.text(n)?;
                    self.stack.push(Value::Str(s));
                }
                0x8d => {
                    let n = self.len64()?;
                    let s = self.text(n)?;
                    self.stack.push(Value::Str(s));
                }
                b'C' | b'U' => {
                    // SHORT_BINBYTES, and protocol-2 SHORT_BINSTRING (bytes in Python 2).
                    let n = usize::from(self.u8()?);
                    let b = self.take(n)?;
                    self.stack.push(Value::Bytes(b));
                }
                b'B' | b'T' => {
                    let n = self.u32()? as usize;
                    let b = self.take(n)?;
                    self.stack.push(Value::Bytes(b));
                }
                0x8e | 0x96 => {
                    let n = self.len64()?;
                    let b = self.take(n)?;
                    self.stack.push(Value::Bytes(b));
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.stack.push(Value::Global(module, name));
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (module, name) {
                        (Value::Str(m), Value::Str(n)) => self.stack.push(Value::Global(m, n)),
                        _ => return Err(format!("STACK_GLOBAL without strings at byte {at}")),
                    }
                }
                b'q' => {
                    let k = self.u8()?;
                    self.memo_put(k.into())?;
                }
                b'r' => {
                    let k = self.u32()?;
                    self.memo_put(k.into())?;
                }
                0x94 => {
                    let k = self.memo.len() as u64;
                    self.memo_put(k)?;
                }
                b'h' => {
                    let k = self.u8()?;
                    let v = self.memo_get(k.into())?;
                    self.stack.push(v);
                }
                b'j' => {
                    let k = self.u32()?;
                    let v = self.memo_get(k.into())?;
                    self.stack.push(v);
                }
                b'R' => {
                    let args = self.pop()?;
                    let func = self.pop()?;
                    let v = self.reduce(func, args, at)?;
                    self.stack.push(v);
                }
                b'b' => {
                    let state = self.pop()?;
                    let target = self.top()?.clone();
                    self.build(target, state, at)?;
                }
                other => {
                    return Err(format!(
                        "unsupported pickle opcode 0x{other:02x} at byte {at}"
                    ))
                }
            }
        }
    }

    /// REDUCE: only the two numpy constructors are understood.
    fn reduce(&mut self, func: Value<'a>, args: Value<'a>, at: usize) -> Result<Value<'a>, String> {
        let Value::Global(module, name) = &func else {
            return Err(format!("REDUCE of a non-global at byte {at}"));
        };
        let Value::Tuple(args) = args else {
            return Err(format!("REDUCE arguments are not a tuple at byte {at}"));
        };
        match (module.as_str(), name.as_str()) {
            ("numpy.core.multiarray" | "numpy._core.multiarray", "_reconstruct") => {
                match args.first() {
                    Some(Value::Global(m, n)) if m == "numpy" && n == "ndarray" => {}
                    _ => {
                        return Err(format!(
                            "_reconstruct of something other than numpy.ndarray at byte {at}"
                        ))
                    }
                }
                Ok(self.new_obj(Obj::Array {
                    shape: Vec::new(),
                    dtype: None,
                    fortran: false,
                    data: None,
                }))
            }
            ("numpy", "dtype") => match args.first() {
                Some(Value::Str(d)) => Ok(self.new_obj(Obj::Dtype {
                    descr: d.clone(),
                    order: None,
                })),
                _ => Err(format!("numpy.dtype without a descriptor at byte {at}")),
            },
            _ => Err(format!(
                "refusing to call {module}.{name} (only numpy arrays are supported) at byte {at}"
            )),
        }
    }

    /// BUILD: sets an ndarray's or a dtype's state (numpy's `__setstate__` tuples).
    fn build(&mut self, target: Value<'a>, state: Value<'a>, at: usize) -> Result<(), String> {
        let Value::Obj(i) = target else {
            return Err(format!("BUILD on a non-object at byte {at}"));
        };
        let Value::Tuple(st) = state else {
            return Err(format!("BUILD state is not a tuple at byte {at}"));
        };
        match &mut self.arena[i] {
            Obj::Array {
                shape,
                dtype,
                fortran,
                data,
            } => {
                // (version, shape, dtype, is_fortran, raw bytes); version 0 has no version field.
                let st = if st.len() == 5 { &st[1..] } else { &st[..] };
                let [Value::Tuple(dims), Value::Obj(dt), Value::Bool(f), Value::Bytes(raw)] = st
                else {
                    return Err(format!(
                        "unexpected ndarray state (object array?) at byte {at}"
                    ));
                };
                let mut s = Vec::with_capacity(dims.len());
                for d in dims {
                    match d {
                        Value::Int(n) if *n >= 0 => s.push(*n as usize),
                        _ => return Err(format!("bad ndarray dimension at byte {at}")),
                    }
                }
                *shape = s;
                *dtype = Some(*dt);
                *fortran = *f;
                *data = Some(raw);
                Ok(())
            }
            Obj::Dtype { order, .. } => match st.get(1) {
                Some(Value::Str(o)) => {
                    *order = Some(o.clone());
                    Ok(())
                }
                _ => Err(format!("unexpected dtype state at byte {at}")),
            },
            _ => Err(format!("BUILD on an unsupported object at byte {at}")),
        }
    }

    fn flatten(
        &self,
        v: &Value<'a>,
        prefix: &str,
        out: &mut Vec<Array<'a>>,
        depth: usize,
    ) -> Result<(), String> {
        if depth > 64 {
            return Err("nesting deeper than 64 levels".into());
        }
        let Value::Obj(i) = v else {
            return Err(format!(
                "{prefix}: expected a dict or an array, found {v:?}"
            ));
        };
        match &self.arena[*i] {
            Obj::Dict(entries) => {
                for (k, child) in entries {
                    let key = match k {
                        Value::Str(s) => s.clone(),
                        Value::Int(n) => n.to_string(),
                        other => return Err(format!("{prefix}: unsupported dict key {other:?}")),
                    };
                    if key.is_empty() {
                        return Err(format!("{prefix}: empty dict key"));
                    }
                    let name = if prefix.is_empty() {
                        key
                    } else {
                        format!("{prefix}.{key}")
                    };
                    self.flatten(child, &name, out, depth + 1)?;
                }
                Ok(())
            }
            Obj::Array {
                shape,
                dtype,
                fortran,
                data,
            } => {
                let (Some(dt), Some(data)) = (dtype, data) else {
                    return Err(format!("{prefix}: array without state"));
                };
                match &self.arena[*dt] {
                    Obj::Dtype { descr, order }
                        if descr == "f4" && order.as_deref() == Some("<") => {}
                    Obj::Dtype { descr, order } => {
                        return Err(format!(
                            "{prefix}: dtype {}{descr} is not little-endian float32 (<f4)",
                            order.as_deref().unwrap_or("")
                        ))
                    }
                    _ => return Err(format!("{prefix}: array dtype is not a numpy dtype")),
                }
                if *fortran && shape.len() > 1 {
                    return Err(format!(
                        "{prefix}: Fortran-ordered arrays are not supported"
                    ));
                }
                let n = shape
                    .iter()
                    .try_fold(4usize, |a, &d| a.checked_mul(d))
                    .ok_or_else(|| format!("{prefix}: shape {shape:?} overflows"))?;
                if n != data.len() {
                    return Err(format!(
                        "{prefix}: shape {shape:?} needs {n} bytes, found {}",
                        data.len()
                    ));
                }
                out.push(Array {
                    name: prefix.to_string(),
                    shape: shape.clone(),
                    data,
                });
                Ok(())
            }
            Obj::List(_) | Obj::Dtype { .. } => {
                Err(format!("{prefix}: expected a dict or an array"))
            }
        }
    }
}
