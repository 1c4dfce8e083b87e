//! Writing a snapshot: sections in one sequential pass (each aligned, checksummed as it is
//! written), the twin blocks compressed in parallel, then the section table and, last, the
//! header. The file is written under a temporary name, synced, and renamed over the target,
//! so a reader sees the old file or the whole new one, never a part.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;

use super::format::{
    BlockEntry, Header, Kind as SectionKind, Out, Section, ALIGN, FLAG_DENSE, FLAG_DICT,
    FLAG_INDEX, HEADER_LEN, KEY_FALSE, KEY_NULL, KEY_NUMBER, KEY_STRING, KEY_TRUE, KINDS_EACH,
    NO_COLUMN, VERSION,
};
use super::twins::{dictionary, Encoder};
use super::{WriteOptions, WriteSummary};
use crate::error::LoadError;
use crate::index::{IndexKey, ValueIndex};
use crate::ingest::LoadReport;
use crate::store::{Column, Kinds, Payloads, Store};

/// Twin blocks compressed per parallel batch (bounds the memory held between compressing and
/// writing to a few MB).
const BATCH_BLOCKS: u32 = 256;

/// Writes `store` (and the report of the load that built it) to `path`, atomically.
pub fn write(
    store: &Store,
    report: &LoadReport,
    path: &Path,
    opts: &WriteOptions,
) -> Result<WriteSummary, LoadError> {
    let started = Instant::now();
    let name = path.display().to_string();
    // Re-writing a snapshot copies its bytes: check them first.
    store.verify()?;
    // A snapshot holds every column and every irregular row: build deferred ones first.
    store.decode_deferred();
    let tmp = temp_path(path);
    let written = write_file(store, report, &tmp, &name, opts).and_then(|summary| {
        std::fs::rename(&tmp, path).map_err(|e| LoadError::io(&name, e))?;
        sync_parent(path).map_err(|e| LoadError::io(&name, e))?;
        Ok(summary)
    });
    match written {
        Ok(mut summary) => {
            summary.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
            Ok(summary)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// `<path>.tmp-<pid>`, next to the target so that the rename stays on one file system.
fn temp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".tmp-{}", std::process::id()));
    PathBuf::from(s)
}

/// Makes the rename durable: the directory entry is data of the parent directory.
fn sync_parent(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

struct Writer {
    out: BufWriter<File>,
    pos: u64,
    sections: Vec<Section>,
}

impl Writer {
    fn pad(&mut self) -> io::Result<()> {
        let pad = (ALIGN - self.pos % ALIGN) % ALIGN;
        self.out.write_all(&[0u8; ALIGN as usize][..pad as usize])?;
        self.pos += pad;
        Ok(())
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    fn section(&mut self, kind: SectionKind, column: u32, bytes: &[u8]) -> io::Result<()> {
        self.pad()?;
        let offset = self.pos;
        self.raw(bytes)?;
        self.sections.push(Section {
            kind,
            column,
            offset,
            len: bytes.len() as u64,
            crc: crc32fast::hash(bytes),
        });
        Ok(())
    }
}

fn write_file(
    store: &Store,
    report: &LoadReport,
    tmp: &Path,
    name: &str,
    opts: &WriteOptions,
) -> Result<WriteSummary, LoadError> {
    let io_err = |e: io::Error| LoadError::io(name, e);
    let fail = |reason: String| LoadError::Snapshot {
        file: name.to_string(),
        reason,
    };
    let file = File::create(tmp).map_err(io_err)?;
    let mut w = Writer {
        out: BufWriter::with_capacity(1 << 20, file),
        pos: 0,
        sections: Vec::new(),
    };
    // The header is written last, once the table's place and checksum are known.
    w.raw(&[0u8; HEADER_LEN]).map_err(io_err)?;

    w.section(
        SectionKind::Report,
        NO_COLUMN,
        &super::report::encode(report),
    )
    .map_err(io_err)?;
    for (kind, bitmap) in [
        (SectionKind::Modules, store.modules()),
        (SectionKind::Irregular, store.irregular()),
    ] {
        let mut b = Vec::with_capacity(bitmap.serialized_size());
        bitmap.serialize_into(&mut b).map_err(io_err)?;
        w.section(kind, NO_COLUMN, &b).map_err(io_err)?;
    }
    w.section(
        SectionKind::Rows,
        NO_COLUMN,
        bytemuck::cast_slice(&store.rows),
    )
    .map_err(io_err)?;

    let mut catalog = Out::default();
    let inputs = input_names(store);
    catalog.u32(inputs.len() as u32);
    for n in &inputs {
        catalog.str(n);
    }
    catalog.u32(store.columns().len() as u32);
    let columns_start = w.pos;
    for (id, c) in store.columns().iter().enumerate() {
        write_column(&mut w, &mut catalog, id as u32, c).map_err(|e| match e {
            ColumnError::Io(e) => io_err(e),
            ColumnError::Format(reason) => fail(format!("column '{}': {reason}", c.dotted())),
        })?;
    }
    let column_bytes = w.pos - columns_start;

    let twins_start = w.pos;
    write_twins(&mut w, store, opts).map_err(|e| match e {
        ColumnError::Io(e) => io_err(e),
        ColumnError::Format(reason) => fail(reason),
    })?;
    let twin_bytes = w.pos - twins_start;

    w.section(SectionKind::Catalog, NO_COLUMN, &catalog.buf)
        .map_err(io_err)?;

    w.pad().map_err(io_err)?;
    let table_offset = w.pos;
    let mut table = Vec::with_capacity(w.sections.len() * 32);
    for s in &w.sections {
        s.encode(&mut table);
    }
    w.raw(&table).map_err(io_err)?;
    let header = Header {
        version: VERSION,
        file_len: w.pos,
        rows: u64::from(store.len()),
        columns: store.columns().len() as u32,
        sections: w.sections.len() as u32,
        table_offset,
        table_len: table.len() as u64,
        table_crc: crc32fast::hash(&table),
        block_rows: opts.block_rows.max(1),
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        build: format!("twindex {}", env!("CARGO_PKG_VERSION")),
    };
    let mut file = w.out.into_inner().map_err(|e| io_err(e.into_error()))?;
    file.seek(SeekFrom::Start(0)).map_err(io_err)?;
    file.write_all(&header.encode()).map_err(io_err)?;
    file.sync_all().map_err(io_err)?;
    Ok(WriteSummary {
        bytes: header.file_len,
        twin_bytes,
        column_bytes,
        sections: header.sections as usize,
        elapsed_ms: 0.0,
    })
}

fn input_names(store: &Store) -> Vec<String> {
    match &store.twins {
        crate::store::Twins::Inputs(files) => files.iter().map(|f| f.name.clone()).collect(),
        crate::store::Twins::Snapshot(s) => s.input_names().to_vec(),
    }
}

enum ColumnError {
    Io(io::Error),
    Format(String),
}

impl From<io::Error> for ColumnError {
    fn from(e: io::Error) -> ColumnError {
        ColumnError::Io(e)
    }
}

/// Writes a column's sections and appends its catalog entry.
fn write_column(w: &mut Writer, catalog: &mut Out, id: u32, c: &Column) -> Result<(), ColumnError> {
    let raw = c.raw();
    let dict = c.dictionary();
    let index = c.index();

    catalog.u32(c.segments().len() as u32);
    for s in c.segments() {
        catalog.str(s);
    }
    catalog.u64(c.len() as u64);
    let mut flags = 0;
    if raw.dense {
        flags |= FLAG_DENSE;
    }
    if dict.is_some() {
        flags |= FLAG_DICT;
    }
    if index.is_some() {
        flags |= FLAG_INDEX;
    }
    catalog.u8(flags);
    catalog.u8(match raw.kinds {
        Kinds::Uniform(k) => *k,
        Kinds::Each(_) => KINDS_EACH,
    });
    catalog.u16(0);
    catalog.u32(dict.map_or(0, |d| d.len() as u32));
    for k in c.kind_counts() {
        catalog.u32(k);
    }

    if !raw.dense {
        let p = c.present();
        let mut b = Vec::with_capacity(p.serialized_size());
        p.serialize_into(&mut b)?;
        w.section(SectionKind::Presence, id, &b)?;
    }
    if let Kinds::Each(k) = raw.kinds {
        w.section(SectionKind::Kinds, id, k)?;
    }
    match raw.data {
        Payloads::Zero => {}
        Payloads::U8(v) => w.section(SectionKind::Data8, id, v)?,
        Payloads::U16(v) => w.section(SectionKind::Data16, id, bytemuck::cast_slice(v))?,
        Payloads::U32(v) => w.section(SectionKind::Data32, id, bytemuck::cast_slice(v))?,
        Payloads::U64(v) => w.section(SectionKind::Data64, id, bytemuck::cast_slice(v))?,
    }
    if !raw.arena.is_empty() {
        w.section(SectionKind::Arena, id, raw.arena)?;
    }
    if let Some(d) = dict {
        w.section(SectionKind::Dict, id, &encode_dict(d)?)?;
    }
    if let Some(i) = index {
        w.section(SectionKind::Index, id, &encode_index(i)?)?;
    }
    Ok(())
}

fn encode_dict(d: &[Box<str>]) -> Result<Vec<u8>, ColumnError> {
    let mut o = Out::default();
    o.u32(d.len() as u32);
    let mut at = 0usize;
    o.u32(0);
    for s in d {
        at += s.len();
        o.u32(
            u32::try_from(at)
                .map_err(|_| ColumnError::Format("dictionary text exceeds 4 GiB".into()))?,
        );
    }
    for s in d {
        o.buf.extend_from_slice(s.as_bytes());
    }
    Ok(o.buf)
}

fn encode_index(index: &ValueIndex) -> Result<Vec<u8>, ColumnError> {
    let mut o = Out::default();
    o.u32(index.entries().len() as u32);
    let mut b = Vec::new();
    for (key, bitmap) in index.entries() {
        match key {
            IndexKey::Null => o.u8(KEY_NULL),
            IndexKey::Bool(false) => o.u8(KEY_FALSE),
            IndexKey::Bool(true) => o.u8(KEY_TRUE),
            IndexKey::Number(n) => {
                o.u8(KEY_NUMBER);
                o.u64(n.to_bits());
            }
            IndexKey::String(s) => {
                o.u8(KEY_STRING);
                o.str(s);
            }
        }
        b.clear();
        bitmap.serialize_into(&mut b)?;
        o.bytes(&b);
    }
    Ok(o.buf)
}

/// The twin blocks (compressed in parallel batches, written in order) and their table.
fn write_twins(w: &mut Writer, store: &Store, opts: &WriteOptions) -> Result<(), ColumnError> {
    let rows = store.len();
    let per = opts.block_rows.max(1);
    let blocks = rows.div_ceil(per);
    let dict = dictionary(store).map_err(ColumnError::Format)?;
    let encoder = Encoder::new(&dict, opts.level).map_err(ColumnError::Format)?;
    w.section(SectionKind::TwinDict, NO_COLUMN, &dict)?;
    w.pad()?;
    let offset = w.pos;
    let mut crc = crc32fast::Hasher::new();
    let mut entries: Vec<BlockEntry> = Vec::with_capacity(blocks as usize);
    let mut at = 0u64;
    for first in (0..blocks).step_by(BATCH_BLOCKS as usize) {
        let last = (first + BATCH_BLOCKS).min(blocks);
        let encoded = (first..last)
            .into_par_iter()
            .map(|b| {
                let start = b * per;
                encoder.block(store, start..(start + per).min(rows))
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(ColumnError::Format)?;
        for e in encoded {
            w.raw(&e.bytes)?;
            crc.update(&e.bytes);
            entries.push(BlockEntry {
                offset: at,
                clen: e.bytes.len() as u32,
                rlen: e.rlen,
                crc: e.crc,
                rows: e.rows,
            });
            at += e.bytes.len() as u64;
            if let Some(p) = &opts.progress {
                p.fetch_add(u64::from(e.rows), Ordering::Relaxed);
            }
        }
    }
    w.sections.push(Section {
        kind: SectionKind::TwinData,
        column: NO_COLUMN,
        offset,
        len: at,
        crc: crc.finalize(),
    });
    w.section(
        SectionKind::TwinIndex,
        NO_COLUMN,
        bytemuck::cast_slice(&entries),
    )?;
    Ok(())
}
