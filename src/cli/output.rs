//! Writing result rows: a JSON array and JSON Lines stream row by row; CSV and the table need
//! every row to know the columns (and the table its widths), so they collect first.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};

use serde_json::Value;
use unicode_width::UnicodeWidthStr;

/// How result rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns, nested values as compact JSON, long cells cut (default on a terminal).
    Table,
    /// One JSON array, one row per line: exactly the service's result shape (default when
    /// piped).
    Json,
    /// One JSON object per line.
    Jsonl,
    /// A header of every key in first-seen order, then one line per row; nested values as
    /// compact JSON, `null` as `null`, an undefined value as an empty field.
    Csv,
}

impl Format {
    /// `table` when standard output is a terminal, `json` otherwise.
    pub fn for_stdout() -> Format {
        if io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Json
        }
    }
}

/// Writes `rows` in `format`; returns how many there were.
pub fn write_rows(
    format: Format,
    rows: impl Iterator<Item = Value>,
    out: &mut impl Write,
) -> io::Result<u64> {
    match format {
        Format::Json => write_json_array(&mut Owned::new(rows.map(|v| v.to_string())), out),
        Format::Jsonl => write_json_lines(&mut Owned::new(rows.map(|v| v.to_string())), out),
        Format::Csv => write_csv(rows, out),
        Format::Table => {
            let (table, n) = json_table(rows, usize::MAX);
            table.write(out, "")?;
            writeln!(out, "({n} {})", if n == 1 { "row" } else { "rows" })?;
            Ok(n)
        }
    }
}

/// Rows of compact JSON text, borrowed one at a time ([`crate::JsonRows`] writes them without
/// an allocation per row).
pub trait TextRows {
    fn next_text(&mut self) -> Option<&str>;
}

impl TextRows for crate::JsonRows<'_> {
    fn next_text(&mut self) -> Option<&str> {
        self.next_row()
    }
}

/// Owned strings as [`TextRows`].
pub struct Owned<I> {
    rows: I,
    current: Option<String>,
}

impl<I: Iterator<Item = String>> Owned<I> {
    pub fn new(rows: I) -> Self {
        Owned {
            rows,
            current: None,
        }
    }
}

impl<I: Iterator<Item = String>> TextRows for Owned<I> {
    fn next_text(&mut self) -> Option<&str> {
        self.current = self.rows.next();
        self.current.as_deref()
    }
}

/// `[`, then one compact row per line separated by commas, then `]`: valid JSON that is
/// written as the rows come and that line-oriented tools can still read.
pub fn write_json_array(rows: &mut impl TextRows, out: &mut impl Write) -> io::Result<u64> {
    let mut n = 0u64;
    while let Some(row) = rows.next_text() {
        out.write_all(if n == 0 { b"[\n" } else { b",\n" })?;
        out.write_all(row.as_bytes())?;
        n += 1;
    }
    out.write_all(if n == 0 { b"[]\n" } else { b"\n]\n" })?;
    Ok(n)
}

/// One compact JSON row per line, as the rows come.
pub fn write_json_lines(rows: &mut impl TextRows, out: &mut impl Write) -> io::Result<u64> {
    let mut n = 0u64;
    while let Some(row) = rows.next_text() {
        out.write_all(row.as_bytes())?;
        out.write_all(b"\n")?;
        n += 1;
    }
    Ok(n)
}

/// The keys of `rows` in first-seen order, and each row's fields by key index.
struct Columns {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Columns {
    fn new() -> Columns {
        Columns {
            names: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// The row's values by column (a row that is not an object is one column, `value`).
    fn split(&mut self, row: Value) -> Vec<Option<Value>> {
        let members = match row {
            Value::Object(map) => map.into_iter().collect::<Vec<_>>(),
            other => vec![("value".to_string(), other)],
        };
        let mut fields = vec![None; self.names.len()];
        for (key, value) in members {
            let i = match self.index.get(&key) {
                Some(&i) => i,
                None => {
                    self.names.push(key.clone());
                    self.index.insert(key, self.names.len() - 1);
                    fields.push(None);
                    self.names.len() - 1
                }
            };
            fields[i] = Some(value);
        }
        fields
    }
}

pub fn write_csv(rows: impl Iterator<Item = Value>, out: &mut impl Write) -> io::Result<u64> {
    let mut columns = Columns::new();
    let records: Vec<Vec<Option<String>>> = rows
        .map(|row| {
            columns
                .split(row)
                .into_iter()
                .map(|v| v.map(|v| csv_text(&v)))
                .collect()
        })
        .collect();
    if columns.names.is_empty() {
        return Ok(records.len() as u64);
    }
    let header: Vec<String> = columns.names.iter().map(|n| csv_field(n)).collect();
    writeln!(out, "{}", header.join(","))?;
    let mut line = String::new();
    for record in &records {
        line.clear();
        for i in 0..columns.names.len() {
            if i > 0 {
                line.push(',');
            }
            if let Some(Some(text)) = record.get(i) {
                line.push_str(text);
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(records.len() as u64)
}

/// A value as one CSV field, quoted when it must be. An empty string is written `""` so that
/// it differs from an undefined value's empty field.
fn csv_text(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "\"\"".to_string(),
        Value::String(s) => csv_field(s),
        other => csv_field(&other.to_string()),
    }
}

fn csv_field(s: &str) -> String {
    let must_quote = s.contains([',', '"', '\n', '\r'])
        || s.starts_with(char::is_whitespace)
        || s.ends_with(char::is_whitespace);
    if must_quote {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Widest a table cell gets, in terminal columns; longer text is cut with `…`.
pub const MAX_CELL: usize = 48;

/// Aligned text columns.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
    max_cell: usize,
}

impl Table {
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Table {
        let headers: Vec<String> = headers.into_iter().map(Into::into).collect();
        Table {
            right: vec![false; headers.len()],
            headers,
            rows: Vec::new(),
            max_cell: MAX_CELL,
        }
    }

    /// Cuts cells pushed from now on at `width` columns instead of [`MAX_CELL`].
    pub fn max_cell(mut self, width: usize) -> Table {
        self.max_cell = width.max(1);
        self
    }

    /// Adds a row; cells past the headers are dropped, long cells cut.
    pub fn push<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let row = cells
            .into_iter()
            .take(self.headers.len())
            .map(|c| cut(c.as_ref(), self.max_cell))
            .collect();
        self.rows.push(row);
    }

    /// Right-aligns a column (for numbers).
    pub fn align_right(&mut self, column: usize) {
        if let Some(r) = self.right.get_mut(column) {
            *r = true;
        }
    }

    /// Writes the header, a rule and the rows, each line prefixed with `indent`.
    pub fn write(&self, out: &mut impl Write, indent: &str) -> io::Result<()> {
        if self.headers.is_empty() {
            return Ok(());
        }
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.width()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.width());
            }
        }
        let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
        self.write_line(out, indent, &widths, &self.headers)?;
        self.write_line(out, indent, &widths, &rule)?;
        for row in &self.rows {
            self.write_line(out, indent, &widths, row)?;
        }
        Ok(())
    }

    fn write_line(
        &self,
        out: &mut impl Write,
        indent: &str,
        widths: &[usize],
        cells: &[String],
    ) -> io::Result<()> {
        let mut line = String::from(indent);
        let last = widths.len() - 1;
        for (i, &w) in widths.iter().enumerate() {
            let cell = cells.get(i).map_or("", String::as_str);
            let pad = w.saturating_sub(cell.width());
            if i > 0 {
                line.push_str("  ");
            }
            if self.right[i] {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if i < last {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        writeln!(out, "{}", line.trim_end())
    }
}

/// Text cut to at most `max` terminal columns, ending in `…` when cut; control characters
/// escaped so that a cell stays on its line.
pub fn cut(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut width = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let piece: String = if c.is_control() {
            c.escape_default().collect()
        } else {
            c.to_string()
        };
        let w = piece.width();
        // Leave room for the ellipsis unless this is the last character and it fits.
        let room = if chars.peek().is_some() { max - 1 } else { max };
        if width + w > room {
            out.push('…');
            return out;
        }
        width += w;
        out.push_str(&piece);
    }
    out
}

/// Text of at most `max` characters with its middle replaced by `…` when longer, for paths
/// whose both ends matter (`properties.desired.$meta…sendFrequencyInSecs.$lastUpdated`).
pub fn cut_middle(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max || max < 3 {
        return s.to_string();
    }
    let tail = (max - 1) / 2;
    let head = max - 1 - tail;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    out
}

/// Result rows as a table: one column per key in first-seen order, strings as they are, other
/// values as compact JSON, numeric columns right-aligned. Keeps at most `limit` rows but
/// counts them all.
pub fn json_table(rows: impl Iterator<Item = Value>, limit: usize) -> (Table, u64) {
    let mut columns = Columns::new();
    let mut cells: Vec<Vec<Option<String>>> = Vec::new();
    let mut numeric: Vec<bool> = Vec::new();
    let mut n = 0u64;
    for row in rows {
        n += 1;
        if cells.len() >= limit {
            continue;
        }
        let fields = columns.split(row);
        numeric.resize(columns.names.len(), true);
        let row: Vec<Option<String>> = fields
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                v.map(|v| {
                    numeric[i] &= v.is_number();
                    match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    }
                })
            })
            .collect();
        cells.push(row);
    }
    let mut table = Table::new(columns.names.iter().cloned());
    for (i, &num) in numeric.iter().enumerate() {
        if num {
            table.align_right(i);
        }
    }
    for row in cells {
        let row: Vec<String> = (0..columns.names.len())
            .map(|i| row.get(i).cloned().flatten().unwrap_or_default())
            .collect();
        table.push(row);
    }
    (table, n)
}

/// A count with thousands separators: `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A size in decimal units, as PERF-NOTES and disk tools state them: `1.53 GB`, `880 kB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    if v < 10.0 {
        format!("{v:.2} {unit}")
    } else if v < 100.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.0} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(rows: Vec<Value>) -> String {
        let mut out = Vec::new();
        write_rows(Format::Table, rows.into_iter(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_array_streams_one_row_per_line() {
        let mut out = Vec::new();
        let n = write_json_array(
            &mut Owned::new(
                [json!({"a": 1}), json!({"b": [2]})]
                    .iter()
                    .map(Value::to_string),
            ),
            &mut out,
        )
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[\n{\"a\":1},\n{\"b\":[2]}\n]\n"
        );
        let mut out = Vec::new();
        write_json_array(&mut Owned::new(std::iter::empty()), &mut out).unwrap();
        assert_eq!(out, b"[]\n");
    }

    #[test]
    fn csv_has_union_header_and_quotes() {
        let mut out = Vec::new();
        let rows = vec![
            json!({"id": "a,b", "n": 1}),
            json!({"id": "q\"", "tags": {"x": 1}, "e": "", "z": null}),
        ];
        write_csv(rows.into_iter(), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "id,n,tags,e,z\n\"a,b\",1,,,\n\"q\"\"\",,\"{\"\"x\"\":1}\",\"\",null\n"
        );
    }

    #[test]
    fn table_aligns_and_counts() {
        let got = table(vec![
            json!({"deviceId": "d1", "n": 5}),
            json!({"deviceId": "device-22", "n": 10, "tags": {"a": 1}}),
        ]);
        assert_eq!(
            got,
            "deviceId    n  tags\n---------  --  -------\nd1          5\ndevice-22  10  {\"a\":1}\n(2 rows)\n"
        );
    }

    #[test]
    fn counts_and_sizes_read_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1530), "1.53 kB");
        assert_eq!(bytes(1_530_000_000), "1.53 GB");
        assert_eq!(bytes(880_400), "880 kB");
        assert_eq!(bytes(12_345_678), "12.3 MB");
    }

    #[test]
    fn cut_respects_width_and_escapes_controls() {
        assert_eq!(cut("abcdef", 6), "abcdef");
        assert_eq!(cut("abcdefg", 6), "abcde…");
        assert_eq!(cut("東京東京", 5), "東京…");
        assert_eq!(cut("a\nb", 10), "a\\nb");
        assert_eq!(cut_middle("abcdefghij", 10), "abcdefghij");
        assert_eq!(cut_middle("abcdefghijk", 6), "abc…jk");
    }
}
