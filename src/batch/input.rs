//! Readers: `.jsonl`, `.csv` (delimiter sniffed; UTF-8 with or without BOM, UTF-16 with BOM, GBK/GB18030 or
//! Big5, detected) and `.xlsx`
//! (streamed cell by cell). Every reader yields [`RawRow`]s in file order: the row's fields, unchanged, and
//! the problem that makes it unusable (broken line, undecodable bytes), if any. A bad row never stops a run;
//! only an unreadable file does.

use super::BatchError;
use encoding_rs::{DecoderResult, Encoding, BIG5, GB18030, UTF_8};
use serde_json::{Map, Number, Value};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Input file types, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Jsonl,
    Csv,
    Xlsx,
}

impl InputFormat {
    pub fn from_path(path: &Path) -> Result<Self, BatchError> {
        let ext = extension(path);
        match ext.as_str() {
            "jsonl" | "json" | "ndjson" => Ok(Self::Jsonl),
            "csv" | "tsv" | "txt" => Ok(Self::Csv),
            "xlsx" | "xlsm" => Ok(Self::Xlsx),
            _ => Err(BatchError::Usage(format!(
                "{}: unsupported input type {ext:?}; use .jsonl, .csv or .xlsx",
                path.display()
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Jsonl => "jsonl",
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

pub(crate) fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// One input row: its fields in column order, and why it cannot be analyzed when the row itself is
/// broken (the text field is checked later, by [`super::request_for`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    pub fields: Map<String, Value>,
    pub problem: Option<String>,
}

/// A stream of rows. `columns` is the header of a CSV or xlsx file (empty for JSONL); `position` and
/// `total` drive the progress bar (bytes for text files, rows for xlsx).
pub trait RowSource: Send {
    fn next_row(&mut self) -> Result<Option<RawRow>, BatchError>;
    fn columns(&self) -> &[String];
    fn position(&self) -> u64;
    fn total(&self) -> u64;
}

/// What one pass over the input file says: its size, a content hash (for the resume journal) and, for
/// text files, the evidence for its encoding: the byte-order mark, how many malformed sequences it has as
/// UTF-8, and how GB18030 and Big5 read it ([`Reading`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    pub size: u64,
    pub hash: u64,
    pub utf8_errors: u64,
    /// The encoding a byte-order mark at the start names (UTF-8, UTF-16LE or UTF-16BE).
    pub bom: Option<&'static Encoding>,
    pub gb18030: Reading,
    pub big5: Reading,
    /// JSONL: the lines holding only whitespace (each is a row with an `empty line` error).
    pub blank_lines: u64,
    /// JSONL, when asked for: the field names of every object line, in the order they first appear (the
    /// columns of a CSV output, so a field first seen late in the file is not dropped).
    pub keys: Vec<String>,
}

/// The field names of one JSON object, its values skipped unread.
struct KeysOf(Vec<String>);

impl<'de> serde::Deserialize<'de> for KeysOf {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = KeysOf;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<KeysOf, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = m.next_key::<String>()? {
                    m.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(KeysOf(keys))
            }
        }
        d.deserialize_map(V)
    }
}

/// The fields of one JSON object in file order, a repeated name included.
struct PairsOf(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for PairsOf {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = PairsOf;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<PairsOf, A::Error> {
                let mut pairs = Vec::new();
                while let Some(kv) = m.next_entry::<String, Value>()? {
                    pairs.push(kv);
                }
                Ok(PairsOf(pairs))
            }
        }
        d.deserialize_map(V)
    }
}

/// The field names of one object line as the reader names them: a name repeated in the line gets `_2`,
/// `_3` … (as a repeated CSV header does), so no value is lost.
fn dedupe_keys(keys: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(keys.len());
    for k in keys {
        push_numbered(&mut out, k);
    }
    out
}

/// Adds `name` to `names`, as `name_2`, `name_3` … when it is already there.
fn push_numbered(names: &mut Vec<String>, name: String) {
    let mut unique = name.clone();
    let mut k = 2;
    while names.contains(&unique) {
        unique = format!("{name}_{k}");
        k += 1;
    }
    names.push(unique);
}

/// Reads JSONL lines as the scan's blocks arrive: counts blank lines and collects field names.
#[derive(Default)]
struct JsonlLines {
    partial: Vec<u8>,
    blank: u64,
    keys: Vec<String>,
    seen: std::collections::HashSet<String>,
    collect_keys: bool,
}

impl JsonlLines {
    fn line(&mut self, line: &[u8]) {
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            self.blank += 1;
        } else if self.collect_keys {
            // Lines that are not objects (or not JSON) have no fields: the reader keeps them under `raw`.
            if let Ok(KeysOf(keys)) = serde_json::from_slice::<KeysOf>(line) {
                for k in dedupe_keys(keys) {
                    if !self.seen.contains(&k) {
                        self.seen.insert(k.clone());
                        self.keys.push(k);
                    }
                }
            }
        }
    }

    fn feed(&mut self, mut block: &[u8]) {
        while let Some(i) = block.iter().position(|b| *b == b'\n') {
            if self.partial.is_empty() {
                self.line(&block[..i]);
            } else {
                self.partial.extend_from_slice(&block[..i]);
                let line = std::mem::take(&mut self.partial);
                self.line(&line);
            }
            block = &block[i + 1..];
        }
        self.partial.extend_from_slice(block);
    }

    fn finish(&mut self) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line);
        }
    }
}

/// How a legacy Chinese encoding reads a file: its malformed sequences, and how many of the characters it
/// decodes are common Chinese characters (`common`) or anything else beyond ASCII and common punctuation
/// (`unusual`: rare characters, kana, Greek, private use …). A file read in the wrong one of GB18030 and
/// Big5 decodes mostly without errors but into rare characters and symbols (`客服態度` in Big5 read as
/// GB18030 is `狝篈び`), so the two are told apart by what they read, not by their errors.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Reading {
    pub errors: u64,
    pub common: u64,
    pub unusual: u64,
}

impl Reading {
    /// Common characters read, less unusual ones and malformed sequences.
    fn score(&self) -> i64 {
        self.common as i64 - self.unusual as i64 - self.errors as i64
    }
}

/// The common Chinese characters, simplified and traditional: level 1 of GB2312 (3,755 characters) and level 1
/// of Big5 (5,401), as a bit set over U+4E00..=U+9FFF, built once by decoding those code ranges.
fn common_hanzi() -> &'static [u64] {
    static SET: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        let mut bits = vec![0u64; (0x9FFF - 0x4E00 + 1) / 64 + 1];
        let mut add = |enc: &'static Encoding, lead: u8, trail: u8| {
            let pair = [lead, trail];
            let (text, had_errors) = enc.decode_without_bom_handling(&pair);
            if had_errors {
                return;
            }
            for c in text.chars() {
                let u = c as usize;
                if (0x4E00..=0x9FFF).contains(&u) {
                    bits[(u - 0x4E00) / 64] |= 1 << ((u - 0x4E00) % 64);
                }
            }
        };
        for lead in 0xB0..=0xD7u8 {
            for trail in 0xA1..=0xFEu8 {
                add(GB18030, lead, trail);
            }
        }
        for lead in 0xA4..=0xC6u8 {
            for trail in (0x40..=0x7Eu8).chain(0xA1..=0xFE) {
                if lead == 0xC6 && trail > 0x7E {
                    break; // level 1 ends at C67E
                }
                add(BIG5, lead, trail);
            }
        }
        bits
    })
}

fn is_common_hanzi(c: char) -> bool {
    let u = c as usize;
    (0x4E00..=0x9FFF).contains(&u)
        && common_hanzi()[(u - 0x4E00) / 64] >> ((u - 0x4E00) % 64) & 1 == 1
}

/// Punctuation and symbols ordinary Chinese text uses: CJK punctuation, full-width forms, quotes, dashes,
/// the ellipsis and the middle dot.
fn is_common_symbol(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x303F | 0xFF00..=0xFFEF | 0x2010..=0x2027 | 0x00B7)
}

/// FNV-1a, 64 bit: stable across Rust versions (the journal outlives the binary that wrote it).
#[derive(Clone, Copy)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub fn update(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Counts malformed sequences a decoder finds in a stream fed block by block, and (when `read` is set)
/// what it decodes, as a [`Reading`].
struct ErrorCounter {
    decoder: encoding_rs::Decoder,
    out: Vec<u8>,
    reading: Reading,
    read: bool,
}

impl ErrorCounter {
    fn new(enc: &'static Encoding, read: bool) -> Self {
        Self {
            decoder: enc.new_decoder_without_bom_handling(),
            out: vec![0; 64 * 1024],
            reading: Reading::default(),
            read,
        }
    }

    fn feed(&mut self, mut src: &[u8], last: bool) {
        loop {
            let (res, read, written) =
                self.decoder
                    .decode_to_utf8_without_replacement(src, &mut self.out, last);
            src = &src[read..];
            if self.read {
                // The decoder writes whole characters only.
                for c in String::from_utf8_lossy(&self.out[..written]).chars() {
                    if c.is_ascii() || is_common_symbol(c) {
                    } else if is_common_hanzi(c) {
                        self.reading.common += 1;
                    } else {
                        self.reading.unusual += 1;
                    }
                }
            }
            match res {
                DecoderResult::InputEmpty => return,
                DecoderResult::OutputFull => {}
                DecoderResult::Malformed(_, _) => self.reading.errors += 1,
            }
        }
    }
}

/// Reads the whole file once: size, hash; for a CSV file the malformed-sequence counts that decide its
/// encoding; for a JSONL file its blank lines and (when `keys` is set) every field name.
pub fn scan(path: &Path, format: InputFormat, keys: bool) -> Result<Scan, BatchError> {
    let text = format == InputFormat::Csv;
    let mut jsonl = (format == InputFormat::Jsonl).then(|| JsonlLines {
        collect_keys: keys,
        ..JsonlLines::default()
    });
    let mut file = File::open(path).map_err(|e| BatchError::input(path, e))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut hash = Fnv::default();
    let mut size = 0u64;
    let mut utf8 = ErrorCounter::new(UTF_8, false);
    let mut gb = ErrorCounter::new(GB18030, true);
    let mut big5 = ErrorCounter::new(BIG5, true);
    let mut first = true;
    let mut bom = None;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| BatchError::input(path, e))?;
        if n == 0 {
            break;
        }
        let mut block = &buf[..n];
        hash.update(block);
        size += n as u64;
        if first {
            first = false;
            if let Some((enc, len)) = Encoding::for_bom(block) {
                bom = Some(enc);
                block = &block[len..];
            }
        }
        // A file with a UTF-16 byte-order mark is UTF-16: the other readings would be noise.
        if text && bom.is_none_or(|e| e == UTF_8) {
            utf8.feed(block, false);
            gb.feed(block, false);
            big5.feed(block, false);
        }
        if let Some(j) = jsonl.as_mut() {
            j.feed(block);
        }
    }
    if text {
        utf8.feed(&[], true);
        gb.feed(&[], true);
        big5.feed(&[], true);
    }
    let (blank_lines, keys) = match jsonl {
        Some(mut j) => {
            j.finish();
            (j.blank, j.keys)
        }
        None => (0, Vec::new()),
    };
    Ok(Scan {
        size,
        hash: hash.0,
        utf8_errors: utf8.reading.errors,
        bom,
        gb18030: gb.reading,
        big5: big5.reading,
        blank_lines,
        keys,
    })
}

/// The encoding of a CSV file: the forced one; else the one a byte-order mark names (UTF-8, UTF-16LE or
/// UTF-16BE, as Excel's "Unicode text" writes); else UTF-8 when the whole file decodes as UTF-8; else
/// whichever of GB18030 (a superset of GBK and GB2312) and Big5 reads it as more common Chinese characters
/// ([`Reading`]; GB18030 on a tie), when that decodes with fewer errors than UTF-8; else UTF-8 (the bad rows
/// then get an error).
pub fn choose_encoding(forced: Option<&str>, scan: &Scan) -> Result<&'static Encoding, BatchError> {
    if let Some(label) = forced {
        let label = label.trim();
        // "gbk" maps to GBK in the WHATWG table; GB18030 decodes everything GBK does and more.
        return Encoding::for_label(label.as_bytes())
            .map(|e| if e == encoding_rs::GBK { GB18030 } else { e })
            .ok_or_else(|| {
                BatchError::Usage(format!(
                    "unknown --encoding {label:?}; use utf-8, gbk, gb18030, big5, utf-16le …"
                ))
            });
    }
    if let Some(enc) = scan.bom {
        return Ok(enc);
    }
    if scan.utf8_errors == 0 {
        return Ok(UTF_8);
    }
    let (enc, reading) = if scan.big5.score() > scan.gb18030.score() {
        (BIG5, scan.big5)
    } else {
        (GB18030, scan.gb18030)
    };
    Ok(if reading.errors >= scan.utf8_errors {
        UTF_8
    } else {
        enc
    })
}

/// Counts bytes read from the file (the progress bar's position), shared with the source.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Turns a byte stream in any encoding into UTF-8 (BOM removed); malformed input becomes U+FFFD, which
/// marks the row as undecodable.
struct DecodeReader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    inbuf: Vec<u8>,
    in_start: usize,
    in_end: usize,
    out: Vec<u8>,
    out_start: usize,
    out_end: usize,
    eof: bool,
    done: bool,
}

impl<R: Read> DecodeReader<R> {
    fn new(inner: R, enc: &'static Encoding) -> Self {
        Self {
            inner,
            decoder: enc.new_decoder_with_bom_removal(),
            inbuf: vec![0; 64 * 1024],
            in_start: 0,
            in_end: 0,
            out: vec![0; 3 * 64 * 1024 + 16],
            out_start: 0,
            out_end: 0,
            eof: false,
            done: false,
        }
    }
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.out_start == self.out_end && !self.done {
            if self.in_start == self.in_end && !self.eof {
                let n = self.inner.read(&mut self.inbuf)?;
                self.in_start = 0;
                self.in_end = n;
                self.eof = n == 0;
            }
            let (res, read, written, _) = self.decoder.decode_to_utf8(
                &self.inbuf[self.in_start..self.in_end],
                &mut self.out,
                self.eof,
            );
            self.in_start += read;
            self.out_start = 0;
            self.out_end = written;
            if self.eof && res == encoding_rs::CoderResult::InputEmpty {
                self.done = true;
            }
        }
        let n = buf.len().min(self.out_end - self.out_start);
        buf[..n].copy_from_slice(&self.out[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
    }
}

/// Picks the delimiter of a CSV sample: among `, ; \t |`, the one that splits the header and most of the
/// following lines into the same number (> 1) of fields; quotes are respected.
pub fn sniff_delimiter(sample: &str) -> u8 {
    let lines: Vec<&str> = sample
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(30)
        .collect();
    let count = |line: &str, d: char| {
        let mut quoted = false;
        let mut n = 0;
        for c in line.chars() {
            if c == '"' {
                quoted = !quoted;
            } else if c == d && !quoted {
                n += 1;
            }
        }
        n
    };
    let mut best = (b',', 0usize, 0usize);
    for d in [',', ';', '\t', '|'] {
        let Some(head) = lines.first() else { break };
        let h = count(head, d);
        if h == 0 {
            continue;
        }
        let agree = lines.iter().filter(|l| count(l, d) == h).count();
        if agree > best.1 || (agree == best.1 && h > best.2) {
            best = (d as u8, agree, h);
        }
    }
    best.0
}

/// Header cells become unique, non-empty column names.
fn unique_columns(raw: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, name) in raw.into_iter().enumerate() {
        let name = name.trim().trim_start_matches('\u{feff}').to_string();
        let name = if name.is_empty() {
            format!("column_{}", i + 1)
        } else {
            name
        };
        push_numbered(&mut out, name);
    }
    out
}

pub struct JsonlSource {
    path: PathBuf,
    reader: BufReader<Counting<File>>,
    count: Arc<AtomicU64>,
    total: u64,
    line: Vec<u8>,
    /// The first line has been read (a byte order mark can only stand before it).
    started: bool,
}

impl JsonlSource {
    pub fn open(path: &Path, total: u64) -> Result<Self, BatchError> {
        let file = File::open(path).map_err(|e| BatchError::input(path, e))?;
        let count = Arc::new(AtomicU64::new(0));
        Ok(Self {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(
                256 * 1024,
                Counting {
                    inner: file,
                    count: count.clone(),
                },
            ),
            count,
            total,
            line: Vec::new(),
            started: false,
        })
    }
}

/// One JSONL line as a row: an object keeps its fields; anything else is kept under `raw` with a problem.
pub fn parse_jsonl_line(bytes: &[u8]) -> RawRow {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches(['\n', '\r']);
    let mut fields = Map::new();
    if std::str::from_utf8(bytes).is_err() {
        fields.insert("raw".into(), Value::String(text.to_string()));
        return RawRow {
            fields,
            problem: Some("undecodable bytes: line is not valid UTF-8".into()),
        };
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => {
            // serde_json keeps the last value of a repeated name; keep each instead (`text`, `text_2`).
            let repeated = serde_json::from_str::<KeysOf>(text).is_ok_and(|k| k.0.len() > m.len());
            let pairs = repeated
                .then(|| serde_json::from_str::<PairsOf>(text).ok())
                .flatten();
            let fields = match pairs {
                Some(PairsOf(pairs)) => {
                    let names = dedupe_keys(pairs.iter().map(|(k, _)| k.clone()).collect());
                    names
                        .into_iter()
                        .zip(pairs.into_iter().map(|(_, v)| v))
                        .collect()
                }
                None => m,
            };
            RawRow {
                fields,
                problem: None,
            }
        }
        Ok(other) => {
            fields.insert("raw".into(), other);
            RawRow {
                fields,
                problem: Some("broken line: row is not a JSON object".into()),
            }
        }
        Err(e) => {
            fields.insert("raw".into(), Value::String(text.to_string()));
            RawRow {
                fields,
                problem: Some(format!("broken line: not valid JSON: {e}")),
            }
        }
    }
}

impl RowSource for JsonlSource {
    fn next_row(&mut self) -> Result<Option<RawRow>, BatchError> {
        self.line.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.line)
            .map_err(|e| BatchError::input(&self.path, e))?;
        if n == 0 {
            return Ok(None);
        }
        if !self.started {
            self.started = true;
            if self.line.starts_with(b"\xEF\xBB\xBF") {
                self.line.drain(..3);
            }
        }
        // A blank line is a row too (with an error), so output line N stays input line N.
        if self.line.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(Some(RawRow {
                fields: Map::new(),
                problem: Some("empty line: the line holds no JSON".into()),
            }));
        }
        Ok(Some(parse_jsonl_line(&self.line)))
    }
    fn columns(&self) -> &[String] {
        &[]
    }
    fn position(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
    fn total(&self) -> u64 {
        self.total
    }
}

pub struct CsvSource {
    path: PathBuf,
    reader: csv::Reader<DecodeReader<Counting<BufReader<File>>>>,
    columns: Vec<String>,
    count: Arc<AtomicU64>,
    total: u64,
    record: csv::ByteRecord,
    /// The file's last visible character is a quote (a quoted field closed at the very end).
    ends_with_quote: bool,
    /// A record read ahead (to learn whether the one before it was the last).
    pending: Option<Result<csv::ByteRecord, csv::Error>>,
}

/// Whether the file's last character other than whitespace is `"`, read in `encoding`.
fn ends_with_quote(path: &Path, encoding: &'static Encoding) -> Result<bool, BatchError> {
    use std::io::{Seek, SeekFrom};
    let mut f = File::open(path).map_err(|e| BatchError::input(path, e))?;
    let len = f.metadata().map_err(|e| BatchError::input(path, e))?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(64)))
        .map_err(|e| BatchError::input(path, e))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail)
        .map_err(|e| BatchError::input(path, e))?;
    let (text, _) = encoding.decode_without_bom_handling(&tail);
    Ok(text.trim_end().ends_with('"'))
}

impl CsvSource {
    /// Opens a CSV file in `encoding`; the delimiter is `forced` or sniffed from the first 64 KiB.
    pub fn open(
        path: &Path,
        encoding: &'static Encoding,
        forced: Option<u8>,
        total: u64,
    ) -> Result<(Self, u8), BatchError> {
        let delimiter = match forced {
            Some(d) => d,
            None => {
                let mut head = Vec::new();
                File::open(path)
                    .map_err(|e| BatchError::input(path, e))?
                    .take(64 * 1024)
                    .read_to_end(&mut head)
                    .map_err(|e| BatchError::input(path, e))?;
                let (sample, _, _) = encoding.decode(&head);
                sniff_delimiter(&sample)
            }
        };
        let count = Arc::new(AtomicU64::new(0));
        let file = File::open(path).map_err(|e| BatchError::input(path, e))?;
        let decoded = DecodeReader::new(
            Counting {
                inner: BufReader::with_capacity(256 * 1024, file),
                count: count.clone(),
            },
            encoding,
        );
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(decoded);
        let mut header = csv::ByteRecord::new();
        let ok = reader
            .read_byte_record(&mut header)
            .map_err(|e| BatchError::Input(format!("{}: header: {e}", path.display())))?;
        if !ok {
            return Err(BatchError::Input(format!(
                "{}: the file is empty (a CSV file needs a header row)",
                path.display()
            )));
        }
        let columns = unique_columns(
            header
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect(),
        );
        Ok((
            Self {
                path: path.to_path_buf(),
                reader,
                columns,
                count,
                total,
                record: csv::ByteRecord::new(),
                ends_with_quote: ends_with_quote(path, encoding)?,
                pending: None,
            },
            delimiter,
        ))
    }
}

impl CsvSource {
    /// The next record into `self.record` (the one read ahead, if any).
    fn read_record(&mut self) -> Result<bool, csv::Error> {
        match self.pending.take() {
            Some(Ok(r)) => {
                self.record = r;
                Ok(true)
            }
            Some(Err(e)) => Err(e),
            None => self.reader.read_byte_record(&mut self.record),
        }
    }

    /// Whether no record follows the current one (reads the next one ahead).
    fn at_last_record(&mut self) -> bool {
        let mut next = csv::ByteRecord::new();
        match self.reader.read_byte_record(&mut next) {
            Ok(false) => true,
            Ok(true) => {
                self.pending = Some(Ok(next));
                false
            }
            Err(e) => {
                self.pending = Some(Err(e));
                false
            }
        }
    }
}

impl RowSource for CsvSource {
    fn next_row(&mut self) -> Result<Option<RawRow>, BatchError> {
        match self.read_record() {
            Ok(false) => Ok(None),
            Ok(true) => {
                let mut fields = Map::new();
                let mut undecodable = false;
                for (i, name) in self.columns.iter().enumerate() {
                    let v = self
                        .record
                        .get(i)
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .unwrap_or_default();
                    undecodable |= v.contains('\u{fffd}');
                    fields.insert(name.clone(), Value::String(v));
                }
                let n = self.record.len();
                // A quote never closed runs to the end of the file: the last record, with line breaks in
                // a field, in a file that does not end with the closing quote.
                let runaway = !self.ends_with_quote
                    && self.record.iter().any(|f| f.contains(&b'\n'))
                    && self.at_last_record();
                let problem = if runaway {
                    let lines: usize = self
                        .record
                        .iter()
                        .map(|f| f.iter().filter(|b| **b == b'\n').count())
                        .sum();
                    Some(format!(
                        "broken CSV line: a quote in the row starting on line {} is never closed, so the \
                         rest of the file ({lines} more lines) ran into this row; close the quote and label \
                         the file again",
                        self.record.position().map_or(0, |p| p.line())
                    ))
                } else if n != self.columns.len() {
                    if n > self.columns.len() {
                        let extra: Vec<Value> = self
                            .record
                            .iter()
                            .skip(self.columns.len())
                            .map(|b| Value::String(String::from_utf8_lossy(b).into_owned()))
                            .collect();
                        fields.insert("_extra".into(), Value::Array(extra));
                    }
                    Some(format!(
                        "broken CSV line: {n} fields, the header has {}",
                        self.columns.len()
                    ))
                } else if undecodable {
                    Some("undecodable bytes in this row (check --encoding)".to_string())
                } else {
                    None
                };
                Ok(Some(RawRow { fields, problem }))
            }
            Err(e) => match e.kind() {
                csv::ErrorKind::Io(_) => {
                    Err(BatchError::Input(format!("{}: {e}", self.path.display())))
                }
                _ => Ok(Some(RawRow {
                    fields: Map::new(),
                    problem: Some(format!("broken CSV line: {e}")),
                })),
            },
        }
    }
    fn columns(&self) -> &[String] {
        &self.columns
    }
    fn position(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
    fn total(&self) -> u64 {
        self.total
    }
}

/// Days since 1970-01-01 → (year, month, day) (proleptic Gregorian).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * if m > 2 { m - 3 } else { m + 9 } + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn cell_value(cell: &calamine::DataRef<'_>) -> Value {
    use calamine::DataRef as D;
    match cell {
        D::String(s) => Value::String(s.clone()),
        D::SharedString(s) => Value::String(s.to_string()),
        D::Int(i) => Value::Number((*i).into()),
        // Excel stores every number as a float: whole numbers come out as integers (ids, counts).
        D::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::Number((*f as i64).into()),
        D::Float(f) => Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        D::Bool(b) => Value::Bool(*b),
        D::DateTime(dt) if dt.is_datetime() => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            if h == 0 && mi == 0 && s == 0 {
                Value::String(format!("{y:04}-{mo:02}-{d:02}"))
            } else {
                Value::String(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
            }
        }
        D::DateTime(dt) => Number::from_f64(dt.as_f64())
            .map(Value::Number)
            .unwrap_or(Value::Null),
        D::DateTimeIso(s) | D::DurationIso(s) => Value::String(s.clone()),
        // Not text: a text column holding one makes the row's error, never an analysis of "#DIV/0!".
        D::Error(e) => serde_json::json!({ "cell_error": e.to_string() }),
        D::Empty => Value::Null,
    }
}

/// An xlsx sheet, streamed: a thread walks the cells (calamine's cell reader borrows the workbook) and
/// sends rows through a small bounded channel, so memory stays flat whatever the sheet size.
pub struct XlsxSource {
    rx: std::sync::mpsc::Receiver<Result<Vec<Value>, String>>,
    columns: Vec<String>,
    rows_read: u64,
    total: u64,
    path: PathBuf,
}

impl XlsxSource {
    /// Opens `sheet` (or the first sheet); the first row is the header.
    pub fn open(path: &Path, sheet: Option<&str>) -> Result<Self, BatchError> {
        use calamine::Reader;
        let mut wb: calamine::Xlsx<BufReader<File>> =
            calamine::open_workbook(path).map_err(|e| {
                BatchError::Input(format!("{}: not a readable xlsx file: {e}", path.display()))
            })?;
        let names = wb.sheet_names();
        let name = match sheet {
            Some(s) => names
                .iter()
                .find(|n| n.as_str() == s)
                .cloned()
                .ok_or_else(|| {
                    BatchError::Usage(format!(
                        "{}: no sheet {s:?}; the sheets are {names:?}",
                        path.display()
                    ))
                })?,
            None => names.first().cloned().ok_or_else(|| {
                BatchError::Input(format!("{}: the workbook has no sheet", path.display()))
            })?,
        };
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Value>, String>>(4096);
        let (dim_tx, dim_rx) = std::sync::mpsc::sync_channel::<Result<u64, String>>(1);
        std::thread::spawn(move || {
            let mut cells = match wb.worksheet_cells_reader(&name) {
                Ok(c) => c,
                Err(e) => {
                    let _ = dim_tx.send(Err(e.to_string()));
                    return;
                }
            };
            let dims = cells.dimensions();
            let _ = dim_tx.send(Ok((dims.end.0 as u64).saturating_sub(dims.start.0 as u64)));
            let mut current: Option<u32> = None;
            let mut row: Vec<Value> = Vec::new();
            loop {
                match cells.next_cell() {
                    Ok(Some(cell)) => {
                        let (r, c) = cell.get_position();
                        // Rows without any cell are not rows.
                        if current != Some(r) {
                            if current.is_some() && tx.send(Ok(std::mem::take(&mut row))).is_err() {
                                return;
                            }
                            current = Some(r);
                        }
                        let c = c.saturating_sub(dims.start.1) as usize;
                        if row.len() <= c {
                            row.resize(c + 1, Value::Null);
                        }
                        row[c] = cell_value(cell.get_value());
                    }
                    Ok(None) => {
                        if current.is_some() {
                            let _ = tx.send(Ok(row));
                        }
                        return;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                        return;
                    }
                }
            }
        });
        let total = dim_rx
            .recv()
            .map_err(|_| BatchError::Input(format!("{}: sheet reader failed", path.display())))?
            .map_err(|e| BatchError::Input(format!("{}: {e}", path.display())))?;
        let header = match rx.recv() {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => return Err(BatchError::Input(format!("{}: {e}", path.display()))),
            Err(_) => {
                return Err(BatchError::Input(format!(
                    "{}: the sheet is empty (it needs a header row)",
                    path.display()
                )))
            }
        };
        let columns = unique_columns(
            header
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect(),
        );
        Ok(Self {
            rx,
            columns,
            rows_read: 0,
            total,
            path: path.to_path_buf(),
        })
    }
}

impl RowSource for XlsxSource {
    fn next_row(&mut self) -> Result<Option<RawRow>, BatchError> {
        match self.rx.recv() {
            Err(_) => Ok(None),
            Ok(Err(e)) => Err(BatchError::Input(format!("{}: {e}", self.path.display()))),
            Ok(Ok(cells)) => {
                self.rows_read += 1;
                let mut fields = Map::new();
                for (i, name) in self.columns.iter().enumerate() {
                    fields.insert(name.clone(), cells.get(i).cloned().unwrap_or(Value::Null));
                }
                let problem = if cells.len() > self.columns.len()
                    && cells[self.columns.len()..].iter().any(|v| !v.is_null())
                {
                    fields.insert(
                        "_extra".into(),
                        Value::Array(cells[self.columns.len()..].to_vec()),
                    );
                    Some(format!(
                        "broken row: {} cells, the header has {}",
                        cells.len(),
                        self.columns.len()
                    ))
                } else {
                    None
                };
                Ok(Some(RawRow { fields, problem }))
            }
        }
    }
    fn columns(&self) -> &[String] {
        &self.columns
    }
    fn position(&self) -> u64 {
        self.rows_read
    }
    fn total(&self) -> u64 {
        self.total
    }
}

/// Column names that say a column holds the text: content, feedback, comment … (compared
/// case-insensitively).
pub const TEXT_FIELD_NAMES: &[&str] = &[
    "text",
    "content",
    "内容",
    "评论",
    "反馈",
    "留言",
    "描述",
    "文本",
    "comment",
    "comments",
    "feedback",
    "message",
    "review",
    "body",
    "评价",
    "意见",
    "投诉内容",
    "反馈内容",
    "评论内容",
    "留言内容",
    "问题描述",
    "客户反馈",
    "正文",
];

/// Names of remarks columns: the text column only when no column has a name from [`TEXT_FIELD_NAMES`] (a
/// help-desk export's `备注` is mostly `无`, beside the real `客户反馈内容`).
pub const NOTE_FIELD_NAMES: &[&str] = &["备注"];

/// How plausible a column name is as the text column, best first: 0 `text` itself (the API's name), 1 a
/// name from [`TEXT_FIELD_NAMES`], 2 a name ending with one (`客户反馈内容`; a Chinese or English compound
/// names what it is last, so `反馈时间` is a time), 3 a name containing one (`评论id`), 4 a name from
/// [`NOTE_FIELD_NAMES`], 5 a name containing one (`客服备注`). `None`: not a candidate.
pub fn text_name_rank(name: &str) -> Option<u8> {
    let n = name.trim().to_lowercase();
    if n == "text" {
        return Some(0);
    }
    let rank = |names: &[&str], exact: u8, ends: u8, contains: u8| {
        if names.iter().any(|c| n == *c) {
            Some(exact)
        } else if names.iter().any(|c| n.ends_with(c)) {
            Some(ends)
        } else if names.iter().any(|c| n.contains(c)) {
            Some(contains)
        } else {
            None
        }
    };
    rank(TEXT_FIELD_NAMES, 1, 2, 3).or_else(|| rank(NOTE_FIELD_NAMES, 4, 5, 5))
}

/// The columns that could hold the text, most plausible first ([`text_name_rank`]; column order within a
/// rank), with their ranks.
pub fn text_field_candidates(columns: &[String]) -> Vec<(u8, String)> {
    let mut c: Vec<(u8, String)> = columns
        .iter()
        .filter_map(|c| text_name_rank(c).map(|r| (r, c.clone())))
        .collect();
    c.sort_by_key(|(r, _)| *r);
    c
}

/// The text column: the one given (it must exist when the file has a header), else the one column of the
/// best [`text_name_rank`]. Two columns of the best rank are equally plausible (`客户反馈内容` and
/// `客服回复内容`): that is refused, naming both, rather than a silent guess. With no candidate, a file with
/// a header is refused and a JSONL file gets `text`.
pub fn resolve_text_field(
    given: Option<&str>,
    columns: &[String],
    strict: bool,
) -> Result<String, BatchError> {
    if let Some(g) = given {
        if strict && !columns.iter().any(|c| c == g) {
            return Err(BatchError::Usage(format!(
                "--text-field {g:?} is not a column; the columns are {columns:?}"
            )));
        }
        return Ok(g.to_string());
    }
    let candidates = text_field_candidates(columns);
    match candidates.as_slice() {
        [] if strict => Err(BatchError::Usage(format!(
            "no text column found among {columns:?}; name it with --text-field"
        ))),
        [] => Ok("text".to_string()),
        [(best, name), rest @ ..] => {
            let tied: Vec<&String> = rest
                .iter()
                .filter(|(r, _)| r == best)
                .map(|(_, n)| n)
                .collect();
            if tied.is_empty() {
                Ok(name.clone())
            } else {
                let mut all = vec![name];
                all.extend(tied);
                Err(BatchError::Usage(format!(
                    "more than one column could hold the text: {}; choose one with --text-field",
                    all.iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreadsheet_error_cells_are_not_text() {
        let v = cell_value(&calamine::DataRef::Error(calamine::CellErrorType::Div0));
        assert_eq!(v, serde_json::json!({"cell_error": "#DIV/0!"}));
        assert_eq!(
            cell_value(&calamine::DataRef::String("好".into())),
            Value::String("好".into())
        );
    }

    #[test]
    fn delimiters_are_sniffed() {
        assert_eq!(sniff_delimiter("a,b,c\n1,2,3\n"), b',');
        assert_eq!(sniff_delimiter("a;b;c\n1;\"x,y\";3\n4;5;6\n"), b';');
        assert_eq!(sniff_delimiter("a\tb\n1\t2\n"), b'\t');
        assert_eq!(sniff_delimiter("id|内容\n1|太慢了, 真的\n2|好\n"), b'|');
        assert_eq!(sniff_delimiter("text\n只有一列\n"), b',');
    }

    #[test]
    fn text_fields_are_detected() {
        let cols = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            resolve_text_field(None, &cols(&["id", "Content"]), true).unwrap(),
            "Content"
        );
        assert_eq!(
            resolve_text_field(None, &cols(&["编号", "客户评论内容", "日期"]), true).unwrap(),
            "客户评论内容"
        );
        assert!(resolve_text_field(None, &cols(&["a", "b"]), true).is_err());
        // A remarks column never beats a column named for the content (the audit's help-desk export).
        let export = cols(&["工单号", "日期", "客户反馈内容", "备注"]);
        assert_eq!(
            resolve_text_field(None, &export, true).unwrap(),
            "客户反馈内容"
        );
        assert_eq!(
            resolve_text_field(None, &cols(&["工单号", "备注"]), true).unwrap(),
            "备注"
        );
        // A name ending with a text word beats one that only contains it: 反馈时间 is a time.
        assert_eq!(
            resolve_text_field(None, &cols(&["客户反馈时间", "客户反馈内容"]), true).unwrap(),
            "客户反馈内容"
        );
        assert_eq!(
            resolve_text_field(None, &cols(&["comment", "text"]), true).unwrap(),
            "text"
        );
        // Two equally plausible columns: refused, naming both and the flag.
        let e = resolve_text_field(None, &cols(&["客户反馈内容", "客服回复内容", "备注"]), true)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"客户反馈内容\", \"客服回复内容\"")
                && e.contains("--text-field")
                && !e.contains("备注"),
            "{e}"
        );
        assert!(resolve_text_field(None, &cols(&["内容", "评论"]), false).is_err());
        assert_eq!(
            resolve_text_field(Some("备注"), &export, true).unwrap(),
            "备注"
        );
        assert!(resolve_text_field(Some("x"), &cols(&["a"]), true).is_err());
        assert_eq!(resolve_text_field(None, &[], false).unwrap(), "text");
        assert_eq!(
            unique_columns(vec!["a".into(), "".into(), "a".into()]),
            vec!["a", "column_2", "a_2"]
        );
    }

    #[test]
    fn encodings_are_chosen_by_decoding() {
        let dir = tempfile::tempdir().unwrap();
        let text = "编号,内容\n1,客服态度太差了\n2,物流很快\n";
        let (gbk, _, _) = GB18030.encode(text);
        let p = dir.path().join("g.csv");
        std::fs::write(&p, &gbk).unwrap();
        let s = scan(&p, InputFormat::Csv, false).unwrap();
        assert!(s.utf8_errors > 0 && s.gb18030.errors == 0);
        assert_eq!(choose_encoding(None, &s).unwrap(), GB18030);
        let p2 = dir.path().join("u.csv");
        std::fs::write(&p2, format!("\u{feff}{text}")).unwrap();
        let s2 = scan(&p2, InputFormat::Csv, false).unwrap();
        assert_eq!(s2.bom, Some(UTF_8));
        assert_eq!(choose_encoding(None, &s2).unwrap(), UTF_8);
        assert_ne!(s.hash, s2.hash);
        assert_eq!(choose_encoding(Some("GBK"), &s2).unwrap(), GB18030);
        assert!(choose_encoding(Some("klingon"), &s2).is_err());
        // The decoded stream reads back as UTF-8 with the header and rows intact.
        let (mut src, d) = CsvSource::open(&p, GB18030, None, 0).unwrap();
        assert_eq!(d, b',');
        assert_eq!(src.columns(), ["编号", "内容"]);
        let row = src.next_row().unwrap().unwrap();
        assert_eq!(row.fields["内容"], "客服态度太差了");
        assert!(row.problem.is_none());
    }

    /// Writes `bom` then `bytes` to `dir/name`, scans the file and returns the encoding chosen for it.
    fn detect(dir: &Path, name: &str, bom: &[u8], bytes: &[u8]) -> &'static Encoding {
        let p = dir.join(name);
        std::fs::write(&p, [bom, bytes].concat()).unwrap();
        choose_encoding(None, &scan(&p, InputFormat::Csv, false).unwrap()).unwrap()
    }

    fn utf16(text: &str, little: bool) -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|u| {
                if little {
                    u.to_le_bytes()
                } else {
                    u.to_be_bytes()
                }
            })
            .collect()
    }

    #[test]
    fn big5_and_utf16_are_detected_even_in_tiny_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Traditional text in Big5, as Excel in Taiwan or Hong Kong saves it: GB18030 decodes these bytes
        // too, mostly without errors, into rare characters and kana.
        for (i, text) in [
            "id,text\n1,客服態度太差了，我要投訴\n",
            "text\n等了一個星期都沒人處理\n",
            "內容\n謝謝\n",
            "編號,內容,日期\n1,物流很慢，包裝也破了，退貨還要自己付運費。\n2,服務很好，下次還會再來！\n",
        ]
        .iter()
        .enumerate()
        {
            let (big5, _, bad) = BIG5.encode(text);
            assert!(!bad);
            assert_eq!(detect(d, &format!("b{i}.csv"), &[], &big5), BIG5, "{text}");
            // The same text in simplified characters, in GBK, stays GB18030.
            let simplified = text
                .replace("態", "态")
                .replace("訴", "诉")
                .replace("個", "个")
                .replace("沒", "没")
                .replace("處", "处")
                .replace("謝", "谢")
                .replace("內", "内")
                .replace("編號", "编号")
                .replace("裝", "装")
                .replace("貨", "货")
                .replace("運費", "运费")
                .replace("務", "务")
                .replace("還會", "还会")
                .replace("還", "还")
                .replace("來", "来")
                .replace("內容", "内容");
            let (gbk, _, _) = GB18030.encode(&simplified);
            assert_eq!(detect(d, &format!("g{i}.csv"), &[], &gbk), GB18030, "{simplified}");
            // Traditional characters written in GBK are GBK too.
            let (gbk_trad, _, _) = GB18030.encode(text);
            assert_eq!(detect(d, &format!("t{i}.csv"), &[], &gbk_trad), GB18030, "{text}");
            // UTF-16 with its byte-order mark, as Excel's "Unicode text" writes it.
            assert_eq!(
                detect(d, &format!("le{i}.csv"), &[0xFF, 0xFE], &utf16(text, true)),
                encoding_rs::UTF_16LE
            );
            assert_eq!(
                detect(d, &format!("be{i}.csv"), &[0xFE, 0xFF], &utf16(text, false)),
                encoding_rs::UTF_16BE
            );
        }
        // A UTF-16 file reads back with its header and rows intact (tab-delimited, as Excel writes it).
        let p = d.join("excel.txt");
        let text = "编号\t客户评论\n1\t客服態度太差了\n2\t\"物流很快，谢谢\"\n";
        std::fs::write(&p, [&[0xFF, 0xFE][..], &utf16(text, true)].concat()).unwrap();
        let enc = choose_encoding(None, &scan(&p, InputFormat::Csv, false).unwrap()).unwrap();
        let (mut src, delim) = CsvSource::open(&p, enc, None, 0).unwrap();
        assert_eq!(delim, b'\t');
        assert_eq!(src.columns(), ["编号", "客户评论"]);
        let row = src.next_row().unwrap().unwrap();
        assert_eq!(row.fields["客户评论"], "客服態度太差了");
        let row = src.next_row().unwrap().unwrap();
        assert_eq!(row.fields["客户评论"], "物流很快，谢谢");
        assert!(row.problem.is_none());
        assert!(src.next_row().unwrap().is_none());
        // A Big5 file reads back as the text it holds.
        let p = d.join("big5.csv");
        let (big5, _, _) = BIG5.encode("id,text\n1,客服態度太差了\n");
        std::fs::write(&p, &big5).unwrap();
        let (mut src, _) = CsvSource::open(&p, BIG5, None, 0).unwrap();
        assert_eq!(
            src.next_row().unwrap().unwrap().fields["text"],
            "客服態度太差了"
        );
    }

    #[test]
    fn common_characters_cover_both_scripts() {
        for c in "的一是了我不人在他有这个们态度服务诉处没谢個們態務訴處沒謝".chars()
        {
            assert!(is_common_hanzi(c), "{c}");
        }
        for c in "狝篈畉璶禗びщ".chars() {
            assert!(!is_common_hanzi(c), "{c}");
        }
    }

    #[test]
    fn a_jsonl_scan_finds_every_field_and_the_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("late.jsonl");
        // Fields first seen on the last line, a line across the scan's 1 MiB blocks, a blank and a
        // whitespace-only line, a broken line, a non-object line, a BOM and no final newline.
        let long = "长".repeat(400_000);
        let body = format!(
            "\u{feff}{{\"id\":1,\"text\":\"好\"}}\n\n{{\"id\":2,\"text\":\"{long}\",\"x\":{{\"deep\":[1]}}}}\n  \t\r\n{{broken\n[1,2]\n{{\"text\":\"差\",\"vip\":\"金卡\",\"phone\":\"1\"}}"
        );
        std::fs::write(&p, &body).unwrap();
        let s = scan(&p, InputFormat::Jsonl, true).unwrap();
        assert_eq!(s.keys, ["id", "text", "x", "vip", "phone"]);
        assert_eq!(s.blank_lines, 2);
        assert_eq!(s.size, body.len() as u64);
        let s = scan(&p, InputFormat::Jsonl, false).unwrap();
        assert!(s.keys.is_empty());
        assert_eq!(s.blank_lines, 2);
        // The reader sees the same lines: blank ones are rows too.
        let mut src = JsonlSource::open(&p, 0).unwrap();
        let mut problems = Vec::new();
        while let Some(r) = src.next_row().unwrap() {
            problems.push(r.problem.map(|p| p.split(':').next().unwrap().to_string()));
        }
        assert_eq!(
            problems,
            [
                None,
                Some("empty line".into()),
                None,
                Some("empty line".into()),
                Some("broken line".into()),
                Some("broken line".into()),
                None
            ]
        );
    }

    #[test]
    fn a_repeated_jsonl_field_keeps_both_values() {
        let row = parse_jsonl_line(
            "{\"id\":14,\"text\":\"重复字段\",\"text\":\"第二个值\",\"text\":3}\n".as_bytes(),
        );
        assert!(row.problem.is_none());
        assert_eq!(
            Value::Object(row.fields),
            serde_json::json!({"id": 14, "text": "重复字段", "text_2": "第二个值", "text_3": 3})
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dup.jsonl");
        std::fs::write(&p, "{\"text\":\"a\",\"text\":\"b\"}\n{\"text_2\":1}\n").unwrap();
        assert_eq!(
            scan(&p, InputFormat::Jsonl, true).unwrap().keys,
            ["text", "text_2"]
        );
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2024, 2, 29), 19782);
        assert_eq!(civil_from_days(19782), (2024, 2, 29));
    }
}
