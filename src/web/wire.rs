//! A compact binary form of serde data, for the one large message between the worker and the
//! page: the report (the rest stay JSON). JSON text was most of the time between the worker
//! finishing and the page showing the report: writing it, copying it into a JS string and back
//! out as UTF-8, and parsing it. This form is several times smaller, is transferred as an
//! `ArrayBuffer` (not copied), and reads without text parsing.
//!
//! It is self-describing, like JSON, so that serde's derived code works unchanged: a field
//! skipped when empty (`skip_serializing_if`) is simply absent, and enums and options read
//! back as they were written. Each value starts with a tag byte; integers are LEB128 varints
//! (negative ones zigzag), floats 8 bytes little-endian, strings their length and UTF-8 bytes.
//! Struct field names and enum variant names are interned: the first use of a name writes it,
//! later uses write only its number, so a struct costs about two bytes per field plus its
//! values. Both sides are built from the same source, so there is no versioning: a message the
//! page cannot read is an error, never a panic. Tested in tests/web.rs (this module is
//! compiled for wasm32 only, with the rest of `web`).

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::ser::{self, Serialize};

const NONE: u8 = 0;
const SOME: u8 = 1;
const FALSE: u8 = 2;
const TRUE: u8 = 3;
const UINT: u8 = 4;
const NEG: u8 = 5;
const FLOAT: u8 = 6;
const STR: u8 = 7;
const BYTES: u8 = 8;
const SEQ: u8 = 9;
const MAP: u8 = 10;
const STRUCT: u8 = 11;
const UNIT_VARIANT: u8 = 12;
const NEWTYPE_VARIANT: u8 = 13;
const TUPLE_VARIANT: u8 = 14;
const STRUCT_VARIANT: u8 = 15;
const UNIT: u8 = 16;
/// A sequence or map whose length was not known in advance, ended by [`END`].
const SEQ_OPEN: u8 = 17;
const MAP_OPEN: u8 = 18;
const END: u8 = 19;

/// Why a value could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WireError {}

impl ser::Error for WireError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        WireError(msg.to_string())
    }
}

impl de::Error for WireError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        WireError(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, WireError>;

/// `value` in the binary form.
pub fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1 << 16);
    to_bytes_into(value, &mut out)?;
    Ok(out)
}

/// `value` in the binary form, in `out` (emptied first; its room is used again).
pub fn to_bytes_into<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<()> {
    out.clear();
    let mut writer = Writer {
        out: std::mem::take(out),
        names: HashMap::default(),
        recent: [NO_NAME; RECENT_NAMES],
    };
    let written = value.serialize(&mut writer);
    *out = writer.out;
    written
}

/// A value read back from [`to_bytes`]'s form; the whole input must be used.
pub fn from_bytes<'de, T: de::Deserialize<'de>>(input: &'de [u8]) -> Result<T> {
    let mut reader = Reader {
        input,
        pos: 0,
        names: Vec::new(),
        depth: 0,
    };
    let value = T::deserialize(&mut reader)?;
    if reader.pos == input.len() {
        Ok(value)
    } else {
        Err(WireError(format!(
            "{} bytes left over after the value",
            input.len() - reader.pos
        )))
    }
}

// ---------------------------------------------------------------------------------------
// Writing

struct Writer {
    out: Vec<u8>,
    /// The number of each name written so far, by the address and length of its text. Serde's
    /// names are `&'static str` literals, so a name nearly always has one address (when it has
    /// two, it is merely written twice).
    names: HashMap<(usize, usize), u32, BuildHasherDefault<AddressHasher>>,
    /// A name's last lookup, in the slot its address picks: the lookup comes once per field,
    /// and with about a hundred names in a report nearly all of them end here, without
    /// hashing (in the page's worker, `names` alone took about a tenth of writing a report).
    recent: [(usize, usize, u32); RECENT_NAMES],
}

/// Slots of [`Writer::recent`].
const RECENT_NAMES: usize = 512;

/// An empty slot of [`Writer::recent`]: no text has that address.
const NO_NAME: (usize, usize, u32) = (usize::MAX, 0, 0);

/// A hasher for addresses (FxHash's step): they are not chosen by anyone, so a keyed hash
/// buys nothing here.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

impl Writer {
    fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.out.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.out.push(n as u8);
    }

    fn len(&mut self, n: usize) {
        self.varint(n as u64);
    }

    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.out.extend_from_slice(s.as_bytes());
    }

    /// A name: 0 and the text the first time, then its number + 1.
    fn name(&mut self, name: &'static str) {
        let (address, len) = (name.as_ptr() as usize, name.len());
        // Names are a byte apart at least, and most several bytes long.
        let slot = (address >> 2) % RECENT_NAMES;
        if let Some(&(a, l, n)) = self.recent.get(slot) {
            if (a, l) == (address, len) {
                self.varint(u64::from(n) + 1);
                return;
            }
        }
        let n = match self.names.get(&(address, len)) {
            Some(&n) => {
                self.varint(u64::from(n) + 1);
                n
            }
            None => {
                let n = self.names.len() as u32;
                self.names.insert((address, len), n);
                self.varint(0);
                self.str(name);
                n
            }
        };
        if let Some(entry) = self.recent.get_mut(slot) {
            *entry = (address, len, n);
        }
    }
}

/// A sequence or map being written; `open` when ended by [`END`].
struct Compound<'a> {
    w: &'a mut Writer,
    open: bool,
}

impl Compound<'_> {
    fn end(self) -> Result<()> {
        if self.open {
            self.w.out.push(END);
        }
        Ok(())
    }
}

/// A struct being written: its field count is known only at the end (skipped fields are
/// absent), so it is patched in.
struct StructWriter<'a> {
    w: &'a mut Writer,
    /// Where the fixed-width field count goes.
    at: usize,
    fields: u32,
}

impl<'a> StructWriter<'a> {
    fn new(w: &'a mut Writer) -> Self {
        let at = w.out.len();
        // Up to 2^14 - 1 fields in two varint bytes; patched in `end`.
        w.out.extend_from_slice(&[0x80, 0x00]);
        StructWriter { w, at, fields: 0 }
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        self.w.name(key);
        value.serialize(&mut *self.w)?;
        self.fields += 1;
        Ok(())
    }

    fn end(self) -> Result<()> {
        if self.fields >= 1 << 14 {
            return Err(WireError("a struct with too many fields".into()));
        }
        if let Some(slot) = self.w.out.get_mut(self.at..self.at + 2) {
            slot[0] = (self.fields as u8 & 0x7f) | 0x80;
            slot[1] = (self.fields >> 7) as u8;
        }
        Ok(())
    }
}

impl<'a> ser::Serializer for &'a mut Writer {
    type Ok = ();
    type Error = WireError;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = StructWriter<'a>;
    type SerializeStructVariant = StructWriter<'a>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.out.push(if v { TRUE } else { FALSE });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<()> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<()> {
        if v >= 0 {
            self.out.push(UINT);
            self.varint(v as u64);
        } else {
            // -1 -> 0, -2 -> 1, ...: no overflow at i64::MIN.
            self.out.push(NEG);
            self.varint(!(v as u64));
        }
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<()> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        self.out.push(UINT);
        self.varint(v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<()> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<()> {
        self.out.push(FLOAT);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<()> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        self.out.push(STR);
        self.str(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.out.push(BYTES);
        self.len(v.len());
        self.out.extend_from_slice(v);
        Ok(())
    }
    fn serialize_none(self) -> Result<()> {
        self.out.push(NONE);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        self.out.push(SOME);
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.out.push(UNIT);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        self.out.push(UNIT_VARIANT);
        self.name(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.out.push(NEWTYPE_VARIANT);
        self.name(variant);
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a>> {
        match len {
            Some(n) => {
                self.out.push(SEQ);
                self.len(n);
            }
            None => self.out.push(SEQ_OPEN),
        }
        Ok(Compound {
            w: self,
            open: len.is_none(),
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>> {
        self.out.push(TUPLE_VARIANT);
        self.name(variant);
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a>> {
        match len {
            Some(n) => {
                self.out.push(MAP);
                self.len(n);
            }
            None => self.out.push(MAP_OPEN),
        }
        Ok(Compound {
            w: self,
            open: len.is_none(),
        })
    }
    fn serialize_struct(self, _: &'static str, _len: usize) -> Result<StructWriter<'a>> {
        self.out.push(STRUCT);
        Ok(StructWriter::new(self))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<StructWriter<'a>> {
        self.out.push(STRUCT_VARIANT);
        self.name(variant);
        Ok(StructWriter::new(self))
    }
}

/// The serde traits of sequences and tuples, which differ only in their method's name: each
/// item is written in turn, and `end` closes the [`Compound`].
macro_rules! compound_items {
    ($($trait:ident::$method:ident),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = WireError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
                value.serialize(&mut *self.w)
            }
            fn end(self) -> Result<()> {
                Compound::end(self)
            }
        }
    )*};
}

compound_items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = WireError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        key.serialize(&mut *self.w)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

/// Structs and struct variants: each field's name, then its value.
macro_rules! struct_fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for StructWriter<'_> {
            type Ok = ();
            type Error = WireError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<()> {
                self.field(key, value)
            }
            fn end(self) -> Result<()> {
                StructWriter::end(self)
            }
        }
    )*};
}

struct_fields!(SerializeStruct, SerializeStructVariant);

// ---------------------------------------------------------------------------------------
// Reading

/// How deeply values may nest: far more than any report, far less than the stack allows.
const MAX_DEPTH: u32 = 128;

struct Reader<'de> {
    input: &'de [u8],
    pos: usize,
    /// Names read so far, by number.
    names: Vec<&'de str>,
    depth: u32,
}

impl<'de> Reader<'de> {
    fn error(&self, what: &str) -> WireError {
        WireError(format!("{what} at byte {}", self.pos))
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .input
            .get(self.pos)
            .ok_or_else(|| self.error("the message ends early"))?;
        self.pos += 1;
        Ok(b)
    }

    fn peek(&self) -> Result<u8> {
        self.input
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.error("the message ends early"))
    }

    #[inline]
    fn varint(&mut self) -> Result<u64> {
        // One byte (below 128) is most of them: names' numbers, counts, flags.
        if let Some(&b) = self.input.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        self.long_varint()
    }

    /// A varint of any length (at most ten bytes: 64 bits).
    fn long_varint(&mut self) -> Result<u64> {
        let rest = self.input.get(self.pos..).unwrap_or_default();
        let mut n = 0_u64;
        for (i, &b) in rest.iter().take(10).enumerate() {
            n |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                self.pos += i + 1;
                return Ok(n);
            }
        }
        let at = self.pos + rest.len().min(10);
        let what = if rest.len() < 10 {
            "the message ends early"
        } else {
            "a number too long"
        };
        Err(WireError(format!("{what} at byte {at}")))
    }

    /// A length, which cannot be more than the bytes left (each item takes at least one).
    fn len(&mut self) -> Result<usize> {
        let n = self.varint()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.input.len() - self.pos)
            .ok_or_else(|| self.error("a length past the end of the message"))
    }

    fn take(&mut self, n: usize) -> Result<&'de [u8]> {
        let input: &'de [u8] = self.input;
        let bytes = input
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or_else(|| self.error("the message ends early"))?;
        self.pos += n;
        Ok(bytes)
    }

    fn str(&mut self) -> Result<&'de str> {
        let n = self.len()?;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes).map_err(|_| self.error("text that is not UTF-8"))
    }

    fn name(&mut self) -> Result<&'de str> {
        match self.varint()? {
            0 => {
                let name = self.str()?;
                self.names.push(name);
                Ok(name)
            }
            n => usize::try_from(n - 1)
                .ok()
                .and_then(|i| self.names.get(i).copied())
                .ok_or_else(|| self.error("an unknown name")),
        }
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error("values nested too deeply"));
        }
        self.depth += 1;
        let value = f(self);
        self.depth -= 1;
        value
    }
}

/// How many items a sequence or map has: a count, or until [`END`].
#[derive(Clone, Copy)]
enum Items {
    Left(usize),
    UntilEnd,
}

impl Items {
    /// Whether another item follows (consuming the end mark).
    fn next(&mut self, r: &mut Reader<'_>) -> Result<bool> {
        match self {
            Items::Left(0) => Ok(false),
            Items::Left(n) => {
                *n -= 1;
                Ok(true)
            }
            Items::UntilEnd => {
                if r.peek()? == END {
                    r.pos += 1;
                    Ok(false)
                } else {
                    Ok(true)
                }
            }
        }
    }

    fn hint(self) -> Option<usize> {
        match self {
            Items::Left(n) => Some(n),
            Items::UntilEnd => None,
        }
    }
}

struct SeqReader<'a, 'de> {
    r: &'a mut Reader<'de>,
    items: Items,
}

impl<'de> de::SeqAccess<'de> for SeqReader<'_, 'de> {
    type Error = WireError;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.items.next(self.r)? {
            seed.deserialize(&mut *self.r).map(Some)
        } else {
            Ok(None)
        }
    }
    fn size_hint(&self) -> Option<usize> {
        self.items.hint()
    }
}

/// A map (keys are values) or a struct (keys are names).
struct MapReader<'a, 'de> {
    r: &'a mut Reader<'de>,
    items: Items,
    names: bool,
}

impl<'de> de::MapAccess<'de> for MapReader<'_, 'de> {
    type Error = WireError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if !self.items.next(self.r)? {
            return Ok(None);
        }
        if self.names {
            let name = self.r.name()?;
            seed.deserialize(de::value::BorrowedStrDeserializer::new(name))
                .map(Some)
        } else {
            seed.deserialize(&mut *self.r).map(Some)
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.r)
    }
    fn size_hint(&self) -> Option<usize> {
        self.items.hint()
    }
}

/// An enum's variant: its name has been read; `tag` says what follows it.
struct VariantReader<'a, 'de> {
    r: &'a mut Reader<'de>,
    tag: u8,
}

impl<'a, 'de> de::EnumAccess<'de> for VariantReader<'a, 'de> {
    type Error = WireError;
    type Variant = Self;
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        let name = self.r.name()?;
        let value = seed.deserialize(de::value::BorrowedStrDeserializer::<WireError>::new(name))?;
        Ok((value, self))
    }
}

impl<'de> de::VariantAccess<'de> for VariantReader<'_, 'de> {
    type Error = WireError;
    fn unit_variant(self) -> Result<()> {
        match self.tag {
            UNIT_VARIANT => Ok(()),
            _ => Err(self.r.error("a variant with data where none was expected")),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        match self.tag {
            NEWTYPE_VARIANT => seed.deserialize(&mut *self.r),
            _ => Err(self.r.error("not a newtype variant")),
        }
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        match self.tag {
            TUPLE_VARIANT => de::Deserializer::deserialize_any(&mut *self.r, visitor),
            _ => Err(self.r.error("not a tuple variant")),
        }
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.tag {
            STRUCT_VARIANT => {
                let items = Items::Left(self.r.len()?);
                self.r.nested(|r| {
                    visitor.visit_map(MapReader {
                        r,
                        items,
                        names: true,
                    })
                })
            }
            _ => Err(self.r.error("not a struct variant")),
        }
    }
}

impl<'de> de::Deserializer<'de> for &mut Reader<'de> {
    type Error = WireError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.byte()? {
            NONE => visitor.visit_none(),
            SOME => self.nested(|r| visitor.visit_some(r)),
            FALSE => visitor.visit_bool(false),
            TRUE => visitor.visit_bool(true),
            UINT => visitor.visit_u64(self.varint()?),
            NEG => visitor.visit_i64(!(self.varint()? as i64)),
            FLOAT => {
                let bytes = self.take(8)?;
                let mut b = [0; 8];
                b.copy_from_slice(bytes);
                visitor.visit_f64(f64::from_le_bytes(b))
            }
            STR => visitor.visit_borrowed_str(self.str()?),
            BYTES => {
                let n = self.len()?;
                visitor.visit_borrowed_bytes(self.take(n)?)
            }
            UNIT => visitor.visit_unit(),
            tag @ (SEQ | SEQ_OPEN) => {
                let items = match tag {
                    SEQ => Items::Left(self.len()?),
                    _ => Items::UntilEnd,
                };
                self.nested(|r| visitor.visit_seq(SeqReader { r, items }))
            }
            tag @ (MAP | MAP_OPEN | STRUCT) => {
                let items = match tag {
                    MAP => Items::Left(self.len()?),
                    MAP_OPEN => Items::UntilEnd,
                    _ => Items::Left(self.len()?),
                };
                let names = tag == STRUCT;
                self.nested(|r| visitor.visit_map(MapReader { r, items, names }))
            }
            tag @ (UNIT_VARIANT | NEWTYPE_VARIANT | TUPLE_VARIANT | STRUCT_VARIANT) => {
                self.nested(|r| visitor.visit_enum(VariantReader { r, tag }))
            }
            _ => Err(WireError(format!(
                "an unknown tag at byte {}",
                self.pos.saturating_sub(1)
            ))),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek()? {
            NONE => {
                self.pos += 1;
                visitor.visit_none()
            }
            SOME => {
                self.pos += 1;
                self.nested(|r| visitor.visit_some(r))
            }
            // A value written without `Option` around it (serde's `default` fields read as
            // `Some` of it).
            _ => self.nested(|r| visitor.visit_some(r)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.nested(|r| visitor.visit_newtype_struct(r))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.peek()? {
            UNIT_VARIANT | NEWTYPE_VARIANT | TUPLE_VARIANT | STRUCT_VARIANT => {
                self.deserialize_any(visitor)
            }
            // An enum written as a plain string (a hand-written `Serialize`).
            STR => {
                self.pos += 1;
                let name = self.str()?;
                visitor.visit_enum(name.into_deserializer())
            }
            _ => Err(self.error("not an enum")),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}
