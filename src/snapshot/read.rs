//! Opening a snapshot: check the structure, verify and decode the small sections, and view the
//! rest in place. Column parts that need decoding wait for first use ([`ColumnBytes`]).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use roaring::RoaringBitmap;

use super::format::{
    Cursor, Header, Kind as SectionKind, Section, ALIGN, ENTRY_LEN, FLAG_DENSE, FLAG_DICT,
    FLAG_INDEX, HEADER_LEN, KEY_FALSE, KEY_NULL, KEY_NUMBER, KEY_STRING, KEY_TRUE, KINDS_EACH,
    NO_COLUMN,
};
use super::twins::{Layout, TwinBlocks};
use super::{OpenOptions, SnapshotInfo};
use crate::error::LoadError;
use crate::index::{IndexKey, ValueIndex};
use crate::ingest::LoadReport;
use crate::store::{
    Backing, Buf, Column, ColumnSource, Decoded, Kind, Kinds, Payloads, RankIndex, RowSource,
    Store, Twins, KINDS,
};

/// Opens the snapshot in `backing` (named `name` in errors).
pub fn open(
    name: &str,
    backing: Arc<Backing>,
    opts: &OpenOptions,
) -> Result<(Store, LoadReport), LoadError> {
    let started = Instant::now();
    let err = super::error(name);
    if cfg!(target_endian = "big") {
        return Err(err(
            "snapshots are little-endian and viewed in place; this machine is big-endian".into(),
        ));
    }
    let (header, sections, store, mut report) =
        open_store(name, Arc::clone(&backing)).map_err(&err)?;
    if opts.verify {
        check_gaps(backing.bytes(), &header, &sections).map_err(&err)?;
        store.verify()?;
    }
    report.snapshot = Some(SnapshotInfo {
        file: name.to_string(),
        bytes: header.file_len,
        format_version: header.version,
        build: header.build,
        created: header.created,
        open_ms: started.elapsed().as_secs_f64() * 1000.0,
        verified: opts.verify,
    });
    Ok((store, report))
}

/// The CRC-32 of a section's bytes, compared with the table's.
pub(super) fn verify<'a>(backing: &'a Backing, s: &Section) -> Result<&'a [u8], String> {
    let bytes = backing
        .bytes()
        .get(s.range())
        .ok_or_else(|| format!("{s} lies outside the file"))?;
    if crc32fast::hash(bytes) != s.crc {
        return Err(format!("{s} fails its checksum: the file is corrupt"));
    }
    Ok(bytes)
}

/// Bytes no checksum covers: the zero padding that aligns sections. A verified open checks
/// them too, so that it vouches for every byte of the file.
fn check_gaps(bytes: &[u8], header: &Header, sections: &[Section]) -> Result<(), String> {
    let mut at = HEADER_LEN as u64;
    for s in sections.iter().chain([&Section {
        kind: SectionKind::Catalog,
        column: NO_COLUMN,
        offset: header.table_offset,
        len: 0,
        crc: 0,
    }]) {
        let gap = bytes
            .get(at as usize..s.offset as usize)
            .unwrap_or_default();
        if let Some(i) = gap.iter().position(|&b| b != 0) {
            return Err(format!(
                "padding byte {} before {s} is not zero: the file is corrupt",
                at + i as u64
            ));
        }
        at = s.offset + s.len;
    }
    Ok(())
}

type Opened = (Header, Vec<Section>, Store, LoadReport);

fn open_store(name: &str, backing: Arc<Backing>) -> Result<Opened, String> {
    let bytes = backing.bytes();
    let header = Header::decode(bytes)?;
    let file_len = bytes.len() as u64;
    if file_len < header.file_len {
        return Err(format!(
            "truncated: {file_len} bytes where the header says {}",
            header.file_len
        ));
    }
    if file_len > header.file_len {
        return Err(format!(
            "{} unexpected bytes after the end the header gives ({} bytes)",
            file_len - header.file_len,
            header.file_len
        ));
    }
    let rows = u32::try_from(header.rows)
        .map_err(|_| format!("{} rows is more than a store holds", header.rows))?;
    let (sorted, sections) = read_table(&backing, &header)?;
    let global = |kind: SectionKind| {
        sections
            .get(&(kind, NO_COLUMN))
            .copied()
            .ok_or_else(|| format!("the {} section is missing", kind.name()))
    };

    let (inputs, metas) = decode_catalog(verify(&backing, &global(SectionKind::Catalog)?)?)?;
    if metas.len() != header.columns as usize {
        return Err(format!(
            "the catalog lists {} columns, the header {}",
            metas.len(),
            header.columns
        ));
    }
    let report = super::report::decode(verify(&backing, &global(SectionKind::Report)?)?)?;
    let modules = decode_bitmap(
        verify(&backing, &global(SectionKind::Modules)?)?,
        rows,
        "modules",
    )?;
    let irregular = decode_bitmap(
        verify(&backing, &global(SectionKind::Irregular)?)?,
        rows,
        "irregular rows",
    )?;

    let row_table = global(SectionKind::Rows)?;
    let row_sources: Buf<RowSource> = Buf::view(Arc::clone(&backing), row_table.range())?;
    if row_sources.len() != rows as usize {
        return Err(format!(
            "{row_table} holds {} rows, the header {rows}",
            row_sources.len()
        ));
    }
    let index = global(SectionKind::TwinIndex)?;
    let dict = global(SectionKind::TwinDict)?;
    let data = global(SectionKind::TwinData)?;
    if dict.len > super::twins::DICT_MAX as u64 {
        return Err(format!("{dict} is larger than a deflate window"));
    }
    if header.block_rows == 0 {
        return Err("twin blocks of 0 rows".into());
    }
    let blocks = u64::from(rows).div_ceil(u64::from(header.block_rows));
    if index.len != blocks * std::mem::size_of::<super::format::BlockEntry>() as u64 {
        return Err(format!(
            "{index} should hold {blocks} block entries for {rows} rows"
        ));
    }
    let twins = TwinBlocks::new(
        Arc::clone(&backing),
        Layout {
            file: name.to_string(),
            inputs,
            rows,
            block_rows: header.block_rows,
            index,
            dict,
            data,
            row_table,
        },
    )?;

    let mut by_column: Vec<Vec<Section>> = vec![Vec::new(); metas.len()];
    for (&(_, column), s) in &sections {
        if column != NO_COLUMN {
            by_column
                .get_mut(column as usize)
                .ok_or_else(|| format!("{s} belongs to no column"))?
                .push(*s);
        }
    }
    let columns = metas
        .into_iter()
        .zip(by_column)
        .enumerate()
        .map(|(i, (meta, secs))| column(&backing, rows, i, meta, secs))
        .collect::<Result<Vec<_>, String>>()?;
    let store = Store::with_twins(
        Twins::Snapshot(Box::new(twins)),
        row_sources,
        modules,
        irregular,
        columns,
    );
    Ok((header, sorted, store, report))
}

/// Sections in file order, and by (kind, column).
type Table = (Vec<Section>, HashMap<(SectionKind, u32), Section>);

/// Reads and checks the section table: checksum, kinds, bounds, alignment, no overlaps, no
/// duplicates.
fn read_table(backing: &Backing, header: &Header) -> Result<Table, String> {
    let n = header.sections as u64;
    if header.table_len != n * ENTRY_LEN as u64 {
        return Err(format!(
            "corrupt header: a table of {n} sections is not {} bytes",
            header.table_len
        ));
    }
    if header.table_offset < HEADER_LEN as u64
        || !header.table_offset.is_multiple_of(ALIGN)
        || header.table_offset.checked_add(header.table_len) != Some(header.file_len)
    {
        return Err(format!(
            "corrupt header: section table at {} ({} bytes) in a file of {}",
            header.table_offset, header.table_len, header.file_len
        ));
    }
    let table = backing
        .bytes()
        .get(header.table_offset as usize..)
        .unwrap_or_default();
    if crc32fast::hash(table) != header.table_crc {
        return Err("the section table fails its checksum: the file is corrupt".into());
    }
    let mut list = Vec::with_capacity(n as usize);
    for (i, entry) in table.chunks_exact(ENTRY_LEN).enumerate() {
        let s = Section::decode(entry, i)?;
        let end = s.offset.checked_add(s.len);
        if s.offset < HEADER_LEN as u64
            || !s.offset.is_multiple_of(ALIGN)
            || end.is_none_or(|e| e > header.table_offset)
        {
            return Err(format!("{s} is out of bounds or misaligned"));
        }
        if s.kind.is_column() != (s.column != NO_COLUMN) {
            return Err(format!("{s}: column number does not fit its kind"));
        }
        list.push(s);
    }
    list.sort_by_key(|s| s.offset);
    for w in list.windows(2) {
        if w[0].offset + w[0].len > w[1].offset {
            return Err(format!("{} overlaps {}", w[0], w[1]));
        }
    }
    let mut map = HashMap::with_capacity(list.len());
    for &s in &list {
        if map.insert((s.kind, s.column), s).is_some() {
            return Err(format!("{s} appears twice"));
        }
    }
    Ok((list, map))
}

/// A column as the catalog describes it.
struct Meta {
    segments: Vec<Box<str>>,
    len: u64,
    flags: u8,
    uniform: u8,
    dict_len: u32,
    kind_counts: [u32; KINDS],
}

fn decode_catalog(bytes: &[u8]) -> Result<(Vec<String>, Vec<Meta>), String> {
    let mut c = Cursor::new(bytes);
    let n = c.count(4, "catalog: inputs")?;
    let inputs = (0..n)
        .map(|_| c.str("catalog: input name").map(str::to_string))
        .collect::<Result<Vec<_>, _>>()?;
    // A column entry is at least 4 + 8 + 4 + 4 + 4 * KINDS bytes.
    let n = c.count(20 + 4 * KINDS, "catalog: columns")?;
    let mut metas = Vec::with_capacity(n);
    for _ in 0..n {
        let segs = c.count(4, "catalog: path")?;
        if segs == 0 {
            return Err("catalog: a column with an empty path".into());
        }
        let segments = (0..segs)
            .map(|_| c.str("catalog: path segment").map(Into::into))
            .collect::<Result<Vec<Box<str>>, _>>()?;
        let len = c.u64("catalog: column length")?;
        let flags = c.u8("catalog: flags")?;
        let uniform = c.u8("catalog: kind")?;
        if c.u16("catalog: reserved")? != 0 {
            return Err("catalog: reserved bytes are not zero".into());
        }
        let dict_len = c.u32("catalog: dictionary length")?;
        let mut kind_counts = [0u32; KINDS];
        for k in &mut kind_counts {
            *k = c.u32("catalog: kind counts")?;
        }
        metas.push(Meta {
            segments,
            len,
            flags,
            uniform,
            dict_len,
            kind_counts,
        });
    }
    c.finish("catalog")?;
    Ok((inputs, metas))
}

/// Builds column `id` from its catalog entry and sections, checking which sections it has
/// and their sizes. Nothing is read from the sections here.
fn column(
    backing: &Arc<Backing>,
    rows: u32,
    id: usize,
    meta: Meta,
    sections: Vec<Section>,
) -> Result<Column, String> {
    let path = meta.segments.join(".");
    let fail = |what: String| format!("column {id} ('{path}'): {what}");
    let find = |k: SectionKind| sections.iter().find(|s| s.kind == k).copied();
    if meta.flags & !(FLAG_DENSE | FLAG_DICT | FLAG_INDEX) != 0 {
        return Err(fail(format!("unknown flags {:#x}", meta.flags)));
    }
    let dense = meta.flags & FLAG_DENSE != 0;
    let len = usize::try_from(meta.len)
        .ok()
        .filter(|&l| l <= rows as usize && (!dense || l == rows as usize))
        .ok_or_else(|| fail(format!("{} values in {rows} rows", meta.len)))?;
    let counted: u64 = meta.kind_counts.iter().map(|&k| u64::from(k)).sum();
    if counted != meta.len {
        return Err(fail(format!(
            "kind counts add up to {counted}, not {}",
            meta.len
        )));
    }
    let sized = |s: Section, width: u64| {
        if s.len == meta.len * width {
            Ok(s)
        } else {
            Err(fail(format!("{s} should be {} bytes", meta.len * width)))
        }
    };
    let kinds_section = match (meta.uniform, find(SectionKind::Kinds)) {
        (KINDS_EACH, Some(s)) => Some(sized(s, 1)?),
        (KINDS_EACH, None) => return Err(fail("the kinds section is missing".into())),
        (k, None) if (k as usize) < KINDS => None,
        (k, _) => return Err(fail(format!("kind byte {k} with a kinds section"))),
    };
    let payload_sections = [
        (SectionKind::Data8, 1),
        (SectionKind::Data16, 2),
        (SectionKind::Data32, 4),
        (SectionKind::Data64, 8),
    ];
    let mut found = payload_sections
        .into_iter()
        .filter_map(|(kind, width)| find(kind).map(|s| (s, width)));
    let data_section = match (found.next(), found.next()) {
        (None, _) => None,
        (Some((s, width)), None) => Some((sized(s, width)?, width)),
        (Some(_), Some(_)) => return Err(fail("two payload sections".into())),
    };
    let presence = find(SectionKind::Presence);
    if dense == presence.is_some() {
        return Err(fail(if dense {
            "a dense column with a presence section".into()
        } else {
            "the presence section is missing".into()
        }));
    }
    let dict = find(SectionKind::Dict);
    if (meta.flags & FLAG_DICT != 0) != dict.is_some() {
        return Err(fail("dictionary flag and section disagree".into()));
    }
    let index = find(SectionKind::Index);
    if (meta.flags & FLAG_INDEX != 0) != index.is_some() {
        return Err(fail("index flag and section disagree".into()));
    }
    let arena = find(SectionKind::Arena);

    let view = |s: Section| Buf::view(Arc::clone(backing), s.range()).map_err(&fail);
    let kinds = match kinds_section {
        Some(s) => Kinds::Each(view(s)?),
        None => Kinds::Uniform(meta.uniform),
    };
    let data = match data_section {
        None => Payloads::Zero,
        Some((s, 1)) => Payloads::U8(view(s)?),
        Some((s, 2)) => Payloads::U16(Buf::view(Arc::clone(backing), s.range()).map_err(&fail)?),
        Some((s, 4)) => Payloads::U32(Buf::view(Arc::clone(backing), s.range()).map_err(&fail)?),
        Some((s, _)) => Payloads::U64(Buf::view(Arc::clone(backing), s.range()).map_err(&fail)?),
    };
    let arena = match arena {
        Some(s) => view(s)?,
        None => Buf::default(),
    };
    let source = ColumnBytes {
        backing: Arc::clone(backing),
        rows,
        len,
        dense,
        uniform: meta.uniform,
        dict_len: meta.dict_len,
        kinds: kinds_section,
        data: data_section,
        presence,
        dict,
        index,
        sections,
    };
    Ok(Column::from_snapshot(
        meta.segments,
        len,
        kinds,
        data,
        arena,
        meta.kind_counts,
        Box::new(source),
    ))
}

/// A snapshot column's sections, verified and decoded on first use.
struct ColumnBytes {
    backing: Arc<Backing>,
    rows: u32,
    len: usize,
    dense: bool,
    uniform: u8,
    dict_len: u32,
    kinds: Option<Section>,
    data: Option<(Section, u64)>,
    presence: Option<Section>,
    dict: Option<Section>,
    index: Option<Section>,
    /// Every section of the column, all verified before anything is decoded.
    sections: Vec<Section>,
}

impl ColumnSource for ColumnBytes {
    fn decode(&self) -> Result<Decoded, String> {
        for s in &self.sections {
            verify(&self.backing, s)?;
        }
        let bytes = |s: &Section| self.backing.bytes().get(s.range()).unwrap_or_default();
        let kinds = self.kinds.as_ref().map(bytes);
        if let Some(at) = kinds.and_then(|k| k.iter().position(|&b| b as usize >= KINDS)) {
            return Err(format!("value {at} has an unknown kind byte"));
        }
        let present = match &self.presence {
            None => crate::index::all_rows(self.rows),
            Some(s) => {
                let b = decode_bitmap(bytes(s), self.rows, "presence")?;
                if b.len() != self.len as u64 {
                    return Err(format!(
                        "presence holds {} rows for {} values",
                        b.len(),
                        self.len
                    ));
                }
                b
            }
        };
        let dict = match &self.dict {
            None => None,
            Some(s) => {
                let d = decode_dict(bytes(s))?;
                if d.len() != self.dict_len as usize {
                    return Err(format!(
                        "dictionary holds {} strings, the catalog says {}",
                        d.len(),
                        self.dict_len
                    ));
                }
                self.check_codes(kinds, d.len())?;
                Some(d)
            }
        };
        let index = match &self.index {
            None => None,
            Some(s) => Some(decode_index(bytes(s), self.rows)?),
        };
        // Built, not stored: 12 bytes per 64 rows would add ~1% to the file for the sparse
        // columns, and building one takes about a millisecond per million rows.
        let ranks = (!self.dense).then(|| RankIndex::from_bitmap(&present, self.rows));
        Ok(Decoded {
            dense: self.dense,
            present,
            ranks,
            dict,
            index,
        })
    }
}

impl ColumnBytes {
    /// Every string value's dictionary code is within the dictionary.
    fn check_codes(&self, kinds: Option<&[u8]>, n: usize) -> Result<(), String> {
        let string = Kind::String as u8;
        let data = self
            .data
            .as_ref()
            .map(|(s, w)| (self.backing.bytes().get(s.range()).unwrap_or_default(), *w));
        let codes = match data {
            None => Codes::Zero,
            Some((d, 1)) => Codes::U8(d),
            Some((d, 2)) => Codes::U16(bytemuck::try_cast_slice(d).map_err(|e| e.to_string())?),
            Some((d, 4)) => Codes::U32(bytemuck::try_cast_slice(d).map_err(|e| e.to_string())?),
            Some((d, _)) => Codes::U64(bytemuck::try_cast_slice(d).map_err(|e| e.to_string())?),
        };
        let code = |slot: usize| -> u64 {
            match codes {
                Codes::Zero => 0,
                Codes::U8(v) => v.get(slot).map_or(u64::MAX, |&c| u64::from(c)),
                Codes::U16(v) => v.get(slot).map_or(u64::MAX, |&c| u64::from(c)),
                Codes::U32(v) => v.get(slot).map_or(u64::MAX, |&c| u64::from(c)),
                Codes::U64(v) => v.get(slot).copied().unwrap_or(u64::MAX),
            }
        };
        let n = n as u64;
        let bad = match (kinds, codes) {
            (None, _) if self.uniform != string => None,
            // The common case, a column of strings only: one pass the compiler vectorises.
            (None, Codes::U8(v)) if v.len() == self.len => first_at_least(v, n),
            (None, Codes::U16(v)) if v.len() == self.len => first_at_least(v, n),
            (None, Codes::U32(v)) if v.len() == self.len => first_at_least(v, n),
            (None, _) => (0..self.len).find(|&i| code(i) >= n),
            (Some(k), _) => (0..self.len).find(|&i| k.get(i) == Some(&string) && code(i) >= n),
        };
        match bad {
            None => Ok(()),
            Some(i) => Err(format!(
                "value {i} has dictionary code {}, the dictionary holds {n}",
                code(i)
            )),
        }
    }
}

/// The position of the first code of `codes` at least `n`.
fn first_at_least<T: Copy + Into<u64>>(codes: &[T], n: u64) -> Option<usize> {
    codes.iter().position(|&c| c.into() >= n)
}

#[derive(Clone, Copy)]
enum Codes<'a> {
    Zero,
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
}

/// A roaring bitmap in its portable form, taking all of `bytes`, of rows below `rows`.
fn decode_bitmap(bytes: &[u8], rows: u32, what: &str) -> Result<RoaringBitmap, String> {
    let mut rest = bytes;
    let b = RoaringBitmap::deserialize_from(&mut rest)
        .map_err(|e| format!("{what} bitmap does not decode: {e}"))?;
    if !rest.is_empty() {
        return Err(format!("{what} bitmap: {} bytes left over", rest.len()));
    }
    if let Some(max) = b.max().filter(|&m| m >= rows) {
        return Err(format!("{what} bitmap holds row {max} of {rows}"));
    }
    Ok(b)
}

/// `u32 n`, `n + 1` `u32` offsets into the text that follows, the text.
fn decode_dict(bytes: &[u8]) -> Result<Vec<Box<str>>, String> {
    let mut c = Cursor::new(bytes);
    let n = c.count(4, "dictionary")?;
    let offsets = (0..=n)
        .map(|_| c.u32("dictionary offsets").map(|o| o as usize))
        .collect::<Result<Vec<_>, _>>()?;
    let text = c.take(c.remaining(), "dictionary text")?;
    let text = std::str::from_utf8(text).map_err(|e| format!("dictionary: not UTF-8: {e}"))?;
    if offsets.first() != Some(&0) || offsets.last() != Some(&text.len()) {
        return Err("dictionary offsets do not span its text".into());
    }
    offsets
        .windows(2)
        .map(|w| {
            text.get(w[0]..w[1])
                .map(Into::into)
                .ok_or_else(|| format!("dictionary offsets {}..{} are invalid", w[0], w[1]))
        })
        .collect()
}

/// `u32 n`, then per entry a key (tag, value) and a length-prefixed bitmap, in key order.
fn decode_index(bytes: &[u8], rows: u32) -> Result<ValueIndex, String> {
    let mut c = Cursor::new(bytes);
    let n = c.count(5, "index")?;
    let mut entries: Vec<(IndexKey, RoaringBitmap)> = Vec::with_capacity(n);
    for _ in 0..n {
        let key = match c.u8("index key")? {
            KEY_NULL => IndexKey::Null,
            KEY_FALSE => IndexKey::Bool(false),
            KEY_TRUE => IndexKey::Bool(true),
            KEY_NUMBER => IndexKey::Number(f64::from_bits(c.u64("index key")?)),
            KEY_STRING => IndexKey::String(c.str("index key")?.into()),
            t => return Err(format!("index key of unknown type {t}")),
        };
        if let Some((prev, _)) = entries.last() {
            if prev.cmp_key(&key) != Ordering::Less {
                return Err("index keys are out of order".into());
            }
        }
        let bitmap = decode_bitmap(c.bytes("index bitmap")?, rows, "index")?;
        entries.push((key, bitmap));
    }
    c.finish("index")?;
    Ok(ValueIndex::from_sorted(entries))
}
