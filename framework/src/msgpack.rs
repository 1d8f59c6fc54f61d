//! The msgpack encoding of cty values, the form every `DynamicValue` takes
//! between Terraform and the provider.
//!
//! Against a known [`Type`]: null is msgpack nil; an unknown value is an
//! extension (type 0; any other extension is read as an unknown too, kept
//! with its payload as [`Refinements`] and written back unchanged:
//! Terraform 1.5+ sends refined unknowns as type 12); numbers are ints, floats, or decimal
//! strings when too big; lists, sets and tuples are arrays; maps and objects
//! are maps (objects carry every attribute of their type). A
//! `DynamicPseudoType` value is a two-element array: its type JSON (bytes) and
//! the value in that type.
//!
//! Decoding never panics: malformed, truncated or mistyped input is an error
//! naming the path at fault.

use std::collections::BTreeMap;

use rmp::Marker;

use super::codec::{CodecError, MAX_DEPTH, infer_type};
use super::diag::PathStep;
use super::type_json;
use super::value::{Number, Refinements, Type, Value};

/// Encodes `value` as msgpack in the shape of `ty`.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(64);
    let mut path = Vec::new();
    encode_into(&mut out, value, ty, &mut path)?;
    Ok(out)
}

/// Decodes msgpack bytes holding a value of type `ty`. Trailing bytes are an error.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let mut path = Vec::new();
    let v = decode_value(&mut r, ty, &mut path, 0)?;
    if r.pos != bytes.len() {
        return Err(CodecError::new(
            &[],
            format!("{} trailing bytes after the value", bytes.len() - r.pos),
        ));
    }
    Ok(v)
}

// ---------------------------------------------------------------- encoding

fn wr<T, E: std::fmt::Display>(r: Result<T, E>, path: &[PathStep]) -> Result<(), CodecError> {
    r.map(|_| ())
        .map_err(|e| CodecError::new(path, format!("msgpack write failed: {e}")))
}

fn len_u32(n: usize, path: &[PathStep]) -> Result<u32, CodecError> {
    u32::try_from(n).map_err(|_| CodecError::new(path, "collection too large for msgpack"))
}

fn mismatch(path: &[PathStep], value: &Value, ty: &Type) -> CodecError {
    let kind = match value {
        Value::Null => "null",
        Value::Unknown | Value::Refined(_) => "unknown",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Set(_) => "set",
        Value::Map(_) => "map",
        Value::Object(_) => "object",
        Value::Tuple(_) => "tuple",
    };
    CodecError::new(
        path,
        format!(
            "a {kind} value does not conform to type {}",
            type_json::to_json(ty)
        ),
    )
}

fn encode_into(
    out: &mut Vec<u8>,
    value: &Value,
    ty: &Type,
    path: &mut Vec<PathStep>,
) -> Result<(), CodecError> {
    match (ty, value) {
        (_, Value::Null) => wr(rmp::encode::write_nil(out), path),
        // fixext1, extension type 0, one zero byte: what cty writes.
        (_, Value::Unknown) => {
            out.extend_from_slice(&[0xd4, 0, 0]);
            Ok(())
        }
        (_, Value::Refined(r)) => {
            let len = len_u32(r.payload.len(), path)?;
            wr(rmp::encode::write_ext_meta(out, len, r.ext_type), path)?;
            out.extend_from_slice(&r.payload);
            Ok(())
        }
        (Type::Dynamic, v) => {
            let actual = infer_type(v);
            wr(rmp::encode::write_array_len(out, 2), path)?;
            let type_bytes = type_json::to_bytes(&actual);
            wr(rmp::encode::write_bin(out, &type_bytes), path)?;
            encode_into(out, v, &actual, path)
        }
        (Type::Bool, Value::Bool(b)) => wr(rmp::encode::write_bool(out, *b), path),
        (Type::Number, Value::Number(n)) => encode_number(out, n, path),
        (Type::String, Value::String(s)) => wr(rmp::encode::write_str(out, s), path),
        (Type::List(et), Value::List(e) | Value::Tuple(e) | Value::Set(e))
        | (Type::Set(et), Value::Set(e) | Value::List(e) | Value::Tuple(e)) => {
            let set = matches!(ty, Type::Set(_));
            encode_elements(out, e.iter().map(|v| (v, &**et)), e.len(), set, path)
        }
        (Type::Tuple(ets), Value::Tuple(e) | Value::List(e)) => {
            if ets.len() != e.len() {
                let msg = format!(
                    "tuple of {} elements where {} are expected",
                    e.len(),
                    ets.len()
                );
                return Err(CodecError::new(path, msg));
            }
            encode_elements(out, e.iter().zip(ets), e.len(), false, path)
        }
        (Type::Map(et), Value::Map(m) | Value::Object(m)) => {
            let entries = m.iter().map(|(k, v)| (k, v, &**et));
            encode_entries(out, entries, m.len(), PathStep::ElementKeyString, path)
        }
        (Type::Object(attrs), Value::Object(m) | Value::Map(m)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                let msg = format!("attribute {extra:?} is not part of the schema");
                return Err(CodecError::new(path, msg));
            }
            let entries = attrs
                .iter()
                .map(|(k, at)| (k, m.get(k).unwrap_or(&Value::Null), at));
            encode_entries(out, entries, attrs.len(), PathStep::Attribute, path)
        }
        (ty, v) => Err(mismatch(path, v, ty)),
    }
}

fn encode_number(out: &mut Vec<u8>, n: &Number, path: &[PathStep]) -> Result<(), CodecError> {
    match n {
        Number::Int(i) => wr(rmp::encode::write_sint(out, *i), path),
        Number::Float(f) if f.is_nan() => Err(CodecError::new(path, "NaN is not a number")),
        Number::Float(f) => wr(rmp::encode::write_f64(out, *f), path),
        Number::Big(s) if !is_decimal(s) => {
            Err(CodecError::new(path, format!("{s:?} is not a number")))
        }
        Number::Big(s) => wr(rmp::encode::write_str(out, s), path),
    }
}

/// An array of `len` elements, each with its type.
fn encode_elements<'a>(
    out: &mut Vec<u8>,
    elems: impl Iterator<Item = (&'a Value, &'a Type)>,
    len: usize,
    set: bool,
    path: &mut Vec<PathStep>,
) -> Result<(), CodecError> {
    wr(rmp::encode::write_array_len(out, len_u32(len, path)?), path)?;
    for (i, (v, et)) in elems.enumerate() {
        push_element(path, set, i);
        encode_into(out, v, et, path)?;
        pop_element(path, set);
    }
    Ok(())
}

/// A map of `len` entries (a map's or an object's), each with its type;
/// `step` names an entry in paths.
fn encode_entries<'a>(
    out: &mut Vec<u8>,
    entries: impl Iterator<Item = (&'a String, &'a Value, &'a Type)>,
    len: usize,
    step: fn(String) -> PathStep,
    path: &mut Vec<PathStep>,
) -> Result<(), CodecError> {
    wr(rmp::encode::write_map_len(out, len_u32(len, path)?), path)?;
    for (k, v, t) in entries {
        wr(rmp::encode::write_str(out, k), path)?;
        path.push(step(k.clone()));
        encode_into(out, v, t, path)?;
        path.pop();
    }
    Ok(())
}

/// Steps into element `i` of a list; a set element has no step (the
/// protocol's paths stop at the set: its elements have no index, and
/// `ElementKeyString` is for map keys), so errors inside one point at the set.
pub(crate) fn push_element(path: &mut Vec<PathStep>, set: bool, i: usize) {
    if !set {
        path.push(PathStep::ElementKeyInt(i as i64));
    }
}

/// Undoes [`push_element`].
pub(crate) fn pop_element(path: &mut Vec<PathStep>, set: bool) {
    if !set {
        path.pop();
    }
}

/// True for the decimal number syntax cty writes: `-12`, `3.5`, `1e400`.
pub(crate) fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    digits(int)
        && frac.is_none_or(digits)
        && exp.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
}

// ---------------------------------------------------------------- decoding

/// One msgpack item; containers carry their element count only.
enum Item<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    BigUint(u64),
    Float(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(usize),
    Map(usize),
    /// An extension: its type and payload.
    Ext(i8, &'a [u8]),
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, path: &[PathStep]) -> Result<&'a [u8], CodecError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| CodecError::new(path, "truncated msgpack"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn be(&mut self, n: usize, path: &[PathStep]) -> Result<u64, CodecError> {
        Ok(self
            .take(n, path)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn next(&mut self, path: &[PathStep]) -> Result<Item<'a>, CodecError> {
        let b = self.take(1, path)?[0];
        let item = match Marker::from_u8(b) {
            Marker::FixPos(n) => Item::Int(i64::from(n)),
            Marker::FixNeg(n) => Item::Int(i64::from(n)),
            Marker::Null => Item::Nil,
            Marker::True => Item::Bool(true),
            Marker::False => Item::Bool(false),
            Marker::U8 => Item::Int(self.be(1, path)? as i64),
            Marker::U16 => Item::Int(self.be(2, path)? as i64),
            Marker::U32 => Item::Int(self.be(4, path)? as i64),
            Marker::U64 => {
                let u = self.be(8, path)?;
                match i64::try_from(u) {
                    Ok(i) => Item::Int(i),
                    Err(_) => Item::BigUint(u),
                }
            }
            Marker::I8 => Item::Int(i64::from(self.be(1, path)? as u8 as i8)),
            Marker::I16 => Item::Int(i64::from(self.be(2, path)? as u16 as i16)),
            Marker::I32 => Item::Int(i64::from(self.be(4, path)? as u32 as i32)),
            Marker::I64 => Item::Int(self.be(8, path)? as i64),
            Marker::F32 => Item::Float(f64::from(f32::from_bits(self.be(4, path)? as u32))),
            Marker::F64 => Item::Float(f64::from_bits(self.be(8, path)?)),
            Marker::FixStr(n) => Item::Str(self.take(usize::from(n), path)?),
            Marker::Str8
            | Marker::Bin8
            | Marker::Str16
            | Marker::Bin16
            | Marker::Str32
            | Marker::Bin32 => {
                let width = match Marker::from_u8(b) {
                    Marker::Str8 | Marker::Bin8 => 1,
                    Marker::Str16 | Marker::Bin16 => 2,
                    _ => 4,
                };
                let n = self.be(width, path)? as usize;
                let data = self.take(n, path)?;
                if matches!(
                    Marker::from_u8(b),
                    Marker::Bin8 | Marker::Bin16 | Marker::Bin32
                ) {
                    Item::Bin(data)
                } else {
                    Item::Str(data)
                }
            }
            Marker::FixArray(n) => Item::Array(usize::from(n)),
            Marker::Array16 => Item::Array(self.be(2, path)? as usize),
            Marker::Array32 => Item::Array(self.be(4, path)? as usize),
            Marker::FixMap(n) => Item::Map(usize::from(n)),
            Marker::Map16 => Item::Map(self.be(2, path)? as usize),
            Marker::Map32 => Item::Map(self.be(4, path)? as usize),
            Marker::FixExt1 => self.ext(1, path)?,
            Marker::FixExt2 => self.ext(2, path)?,
            Marker::FixExt4 => self.ext(4, path)?,
            Marker::FixExt8 => self.ext(8, path)?,
            Marker::FixExt16 => self.ext(16, path)?,
            Marker::Ext8 => {
                let n = self.be(1, path)? as usize;
                self.ext(n, path)?
            }
            Marker::Ext16 => {
                let n = self.be(2, path)? as usize;
                self.ext(n, path)?
            }
            Marker::Ext32 => {
                let n = self.be(4, path)? as usize;
                self.ext(n, path)?
            }
            Marker::Reserved => {
                return Err(CodecError::new(
                    path,
                    format!("invalid msgpack byte 0x{b:02x}"),
                ));
            }
        };
        Ok(item)
    }

    fn ext(&mut self, len: usize, path: &[PathStep]) -> Result<Item<'a>, CodecError> {
        let ext_type = self.take(1, path)?[0] as i8;
        Ok(Item::Ext(ext_type, self.take(len, path)?))
    }
}

fn decode_value(
    r: &mut Reader<'_>,
    ty: &Type,
    path: &mut Vec<PathStep>,
    depth: usize,
) -> Result<Value, CodecError> {
    if depth > MAX_DEPTH {
        return Err(CodecError::new(path, "value nested too deeply"));
    }
    let item = r.next(path)?;
    let wrong = |what: &str, path: &[PathStep]| expected(ty, what, path);
    match (ty, item) {
        (_, Item::Nil) => Ok(Value::Null),
        (_, Item::Ext(0, _)) => Ok(Value::Unknown),
        (_, Item::Ext(ext_type, payload)) => Ok(Value::Refined(Refinements {
            ext_type,
            payload: payload.to_vec(),
        })),
        (Type::Dynamic, Item::Array(2)) => {
            let tj = match r.next(path)? {
                Item::Bin(b) | Item::Str(b) => b,
                _ => return Err(wrong("a dynamic value without its type", path)),
            };
            let actual = type_json::from_bytes(tj).map_err(|e| CodecError::new(path, e.message))?;
            decode_value(r, &actual, path, depth + 1)
        }
        (Type::Dynamic, _) => Err(wrong("a dynamic value that is not [type, value]", path)),
        (Type::Bool, Item::Bool(b)) => Ok(Value::Bool(b)),
        (Type::Number, Item::Int(i)) => Ok(Value::Number(Number::Int(i))),
        (Type::Number, Item::BigUint(u)) => Ok(Value::Number(Number::Big(u.to_string()))),
        (Type::Number, Item::Float(f)) if f.is_nan() => Err(wrong("NaN", path)),
        (Type::Number, Item::Float(f)) => Ok(Value::Number(Number::Float(f))),
        (Type::Number, Item::Str(s)) => {
            let s = std::str::from_utf8(s).map_err(|_| wrong("invalid UTF-8", path))?;
            parse_number(s).ok_or_else(|| wrong(&format!("the string {s:?}"), path))
        }
        (Type::String, Item::Str(s) | Item::Bin(s)) => std::str::from_utf8(s)
            .map(|s| Value::String(s.to_string()))
            .map_err(|_| wrong("invalid UTF-8", path)),
        (Type::List(et), Item::Array(n)) => {
            let types = std::iter::repeat_n(&**et, n);
            decode_elements(r, types, false, path, depth).map(Value::List)
        }
        (Type::Set(et), Item::Array(n)) => {
            let types = std::iter::repeat_n(&**et, n);
            decode_elements(r, types, true, path, depth).map(Value::set)
        }
        (Type::Tuple(ets), Item::Array(n)) if n == ets.len() => {
            decode_elements(r, ets.iter(), false, path, depth).map(Value::Tuple)
        }
        (Type::Tuple(_), Item::Array(n)) => Err(wrong(&format!("{n} elements"), path)),
        (Type::Map(et), Item::Map(n)) => {
            let attr_type = |_: &str| Some(&**et);
            let m = decode_entries(r, n, attr_type, PathStep::ElementKeyString, path, depth)?;
            Ok(Value::Map(m))
        }
        (Type::Object(attrs), Item::Map(n)) => {
            let attr_type = |k: &str| attrs.get(k);
            let mut m = decode_entries(r, n, attr_type, PathStep::Attribute, path, depth)?;
            for k in attrs.keys() {
                m.entry(k.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(m))
        }
        (_, other) => Err(wrong(item_kind(&other), path)),
    }
}

fn expected(ty: &Type, what: &str, path: &[PathStep]) -> CodecError {
    let msg = format!("expected {}, found {what}", type_json::to_json(ty));
    CodecError::new(path, msg)
}

fn item_kind(item: &Item<'_>) -> &'static str {
    match item {
        Item::Bool(_) => "a bool",
        Item::Int(_) | Item::BigUint(_) | Item::Float(_) => "a number",
        Item::Str(_) => "a string",
        Item::Bin(_) => "bytes",
        Item::Array(_) => "an array",
        Item::Map(_) => "a map",
        Item::Nil | Item::Ext(..) => "a null",
    }
}

/// The elements of an array, one per type of `types`.
fn decode_elements<'t>(
    r: &mut Reader<'_>,
    types: impl ExactSizeIterator<Item = &'t Type>,
    set: bool,
    path: &mut Vec<PathStep>,
    depth: usize,
) -> Result<Vec<Value>, CodecError> {
    let mut elems = Vec::with_capacity(types.len().min(r.remaining()));
    for (i, et) in types.enumerate() {
        push_element(path, set, i);
        elems.push(decode_value(r, et, path, depth + 1)?);
        pop_element(path, set);
    }
    Ok(elems)
}

/// The `n` entries of a map (a map's or an object's): `attr_type` gives the
/// type of an entry by key (None: not allowed), `step` names it in paths.
fn decode_entries<'t>(
    r: &mut Reader<'_>,
    n: usize,
    attr_type: impl Fn(&str) -> Option<&'t Type>,
    step: fn(String) -> PathStep,
    path: &mut Vec<PathStep>,
    depth: usize,
) -> Result<BTreeMap<String, Value>, CodecError> {
    let mut m = BTreeMap::new();
    for _ in 0..n {
        let k = read_key(r, path)?;
        let Some(t) = attr_type(&k) else {
            return Err(CodecError::new(
                path,
                format!("unsupported attribute {k:?}"),
            ));
        };
        path.push(step(k.clone()));
        let v = decode_value(r, t, path, depth + 1)?;
        path.pop();
        m.insert(k, v);
    }
    Ok(m)
}

fn read_key(r: &mut Reader<'_>, path: &[PathStep]) -> Result<String, CodecError> {
    match r.next(path)? {
        Item::Str(s) | Item::Bin(s) => std::str::from_utf8(s)
            .map(str::to_string)
            .map_err(|_| CodecError::new(path, "map key is not UTF-8")),
        _ => Err(CodecError::new(path, "map key is not a string")),
    }
}

/// A number from its decimal text: an int when it is one, a float when the
/// float is exactly that number (and the text is the float's own), else kept
/// as text.
pub(crate) fn parse_number(s: &str) -> Option<Value> {
    let t = s.trim();
    if !is_decimal(t) {
        return None;
    }
    if let Ok(i) = t.parse::<i64>() {
        return Some(Value::Number(Number::Int(i)));
    }
    if let Ok(f) = t.parse::<f64>()
        && f.is_finite()
        && f.to_string() == t
        && exact_decimal(f) == t
    {
        return Some(Value::Number(Number::Float(f)));
    }
    Some(Value::Number(Number::Big(t.to_string())))
}

/// The exact decimal value of a finite float, without trailing zeros: every
/// float is a finite decimal of at most 1074 fractional digits. (`Display`
/// gives the shortest text that reads back as the same float, which for
/// `11111111111111110000` is not the float's value, 11111111111111110144.)
fn exact_decimal(f: f64) -> String {
    let s = format!("{f:.1075}");
    match s.split_once('.') {
        Some((int, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                int.to_string()
            } else {
                format!("{int}.{frac}")
            }
        }
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: &Value, ty: &Type) -> Value {
        let bytes = encode(v, ty).unwrap_or_else(|e| panic!("encode {v:?}: {e}"));
        decode(&bytes, ty).unwrap_or_else(|e| panic!("decode {v:?}: {e}"))
    }

    #[test]
    fn numbers_in_text_become_floats_only_when_exact() {
        let num = |s: &str| {
            parse_number(s).and_then(|v| match v {
                Value::Number(n) => Some(n),
                _ => None,
            })
        };
        assert_eq!(num("12"), Some(Number::Int(12)));
        assert_eq!(num("2.5"), Some(Number::Float(2.5)));
        assert_eq!(num("1e20").map(|n| matches!(n, Number::Big(_))), Some(true));
        assert_eq!(num("100000000000000000000"), Some(Number::Float(1e20)));
        // Found by fuzzing (state_upgrade_json): the nearest float is
        // 11111111111111110144, so the text must stay text.
        assert_eq!(
            num("11111111111111110000"),
            Some(Number::Big("11111111111111110000".into()))
        );
        assert_eq!(num("0.1"), Some(Number::Big("0.1".into())));
        let big = Value::Number(Number::Big("11111111111111110000".into()));
        assert_eq!(round_trip(&big, &Type::Number), big);
    }

    #[test]
    fn unknown_is_extension_zero_and_null_is_nil() {
        assert_eq!(
            encode(&Value::Unknown, &Type::String).ok(),
            Some(vec![0xd4, 0, 0])
        );
        assert_eq!(encode(&Value::Null, &Type::String).ok(), Some(vec![0xc0]));
        // Any extension reads as unknown; refined unknowns (type 12) keep
        // their refinements and are written back unchanged.
        let refined = [0xc7, 3, 12, 0x81, 0x01, 0xc2];
        let v = decode(&refined, &Type::String).unwrap();
        assert!(v.is_unknown());
        assert_eq!(encode(&v, &Type::String).unwrap(), refined);
        let fixed = [0xd5, 12, 0x80, 0xc0];
        assert_eq!(
            encode(&decode(&fixed, &Type::String).unwrap(), &Type::String).unwrap(),
            fixed
        );
    }

    #[test]
    fn objects_carry_every_attribute() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let only_a = Value::object([("a", Value::string("x"))]);
        assert_eq!(
            round_trip(&only_a, &ty),
            Value::object([("a", Value::string("x")), ("b", Value::Null)])
        );
        // decoding a map with a missing attribute fills in null
        let mut bytes = Vec::new();
        rmp::encode::write_map_len(&mut bytes, 1).unwrap();
        rmp::encode::write_str(&mut bytes, "b").unwrap();
        rmp::encode::write_sint(&mut bytes, 7).unwrap();
        assert_eq!(
            decode(&bytes, &ty),
            Ok(Value::object([
                ("a", Value::Null),
                ("b", Value::Number(Number::Int(7)))
            ]))
        );
    }

    #[test]
    fn numbers_int_float_and_big() {
        for n in [
            Number::Int(0),
            Number::Int(-1),
            Number::Int(i64::MAX),
            Number::Int(i64::MIN),
            Number::Float(1.5),
            Number::Float(-0.25),
            Number::Big("123456789012345678901234567890".into()),
        ] {
            let v = Value::Number(n);
            assert_eq!(round_trip(&v, &Type::Number), v);
        }
        // u64 beyond i64 decodes as big text
        let mut b = Vec::new();
        rmp::encode::write_u64(&mut b, u64::MAX).unwrap();
        assert_eq!(
            decode(&b, &Type::Number),
            Ok(Value::Number(Number::Big(u64::MAX.to_string())))
        );
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        let v = Value::object([("x", Value::List(vec![Value::string("a")]))]);
        let bytes = encode(&v, &Type::Dynamic).unwrap();
        assert_eq!(bytes[0], 0x92, "a two-element array");
        assert_eq!(decode(&bytes, &Type::Dynamic), Ok(v));
        assert_eq!(round_trip(&Value::Null, &Type::Dynamic), Value::Null);
        assert_eq!(round_trip(&Value::Unknown, &Type::Dynamic), Value::Unknown);
    }

    #[test]
    fn mismatches_are_errors_with_paths() {
        let ty = Type::object([("ids", Type::set(Type::String))]);
        let v = Value::object([("ids", Value::Set(vec![Value::Bool(true)]))]);
        let e = encode(&v, &ty).unwrap_err();
        assert_eq!(e.path.to_string(), "ids", "paths stop at a set");
        let lty = Type::object([("ids", Type::list(Type::String))]);
        let lv = Value::object([("ids", Value::List(vec![Value::Bool(true)]))]);
        assert_eq!(encode(&lv, &lty).unwrap_err().path.to_string(), "ids[0]");
        let extra = Value::object([("nope", Value::Null)]);
        assert!(encode(&extra, &ty).is_err());
    }

    #[test]
    fn malformed_input_is_an_error() {
        let ty = Type::object([("a", Type::list(Type::String))]);
        for bad in [
            &[][..],
            &[0xc1],                                     // reserved marker
            &[0x81, 0xa1, b'a', 0x92],                   // truncated array
            &[0x81, 0xa1, b'z', 0xc0],                   // unknown attribute
            &[0xdd, 0xff, 0xff, 0xff, 0xff],             // huge array, no data
            &[0x81, 0xa1, b'a', 0x91, 0xa2, 0xff, 0xfe], // invalid UTF-8
            &[0xc0, 0xc0],                               // trailing bytes
        ] {
            assert!(decode(bad, &ty).is_err(), "{bad:?}");
        }
        assert!(decode(&[0x92, 0xa3, b'x', b'y', b'z', 0xc0], &Type::Dynamic).is_err());
        assert!(decode(&[0xa3, b'1', b'x', b'2'], &Type::Number).is_err());
    }

    #[test]
    fn decimal_syntax() {
        for ok in [
            "0",
            "-1",
            "1.5",
            "1e10",
            "2.5E-3",
            "123456789012345678901234567890",
        ] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in ["", "-", "1.", ".5", "1e", "0x10", "NaN", "inf", "1 2"] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }
}
