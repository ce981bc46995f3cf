//! The pool exports: CSV that Excel opens correctly (UTF-8 with a byte-order mark, a header
//! row, RFC 4180 with every cell quoted, CRLF line ends; written by the `csv` crate) and the same rows as JSON.
//!
//! The CSV is public and opened in spreadsheets, so two rules protect its cells:
//! - **No formulas** (OWASP CSV injection, ASVS 5.0 V1.2.10): a cell starting with `=`, `+`, `-`,
//!   `@`, tab or CR gets a leading apostrophe ([`neutralise`]), so an institution's address
//!   `=HYPERLINK(…)` is shown as text, not run. Every cell goes through it; no column holds a
//!   legitimately negative number (ids, counts, scores 1–5, dates), so a leading `-` is always
//!   neutralised.
//! - **Codes stay text** ([`as_text`]): the credit code and the telephone column end with a
//!   tab. Without it a spreadsheet reads `914501007083294563` as the number 9.14501007083295E+17
//!   (the last digits lost: 15 significant digits), `91450100000000E123` as 9.1E+136, and
//!   drops the leading 0 of a landline. The tab is trailing, so the cell does not start with a
//!   formula trigger. Why not the alternatives: `="…"` is itself a formula (shown literally
//!   when LibreOffice's "Evaluate formulas" is off, and it defeats the rule above); a leading
//!   apostrophe stays visible (LibreOffice shows it); a leading tab is one of the OWASP
//!   formula triggers. The README (CSV export) has what was checked, and how.

use std::borrow::Cow;

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::pool::search::PoolEntry;

/// UTF-8 byte-order mark: without it Excel reads the file as the local code page.
pub const BOM: &str = "\u{feff}";

/// The CSV header row (Chinese, as the bureau's users read it).
pub const HEADER: [&str; 14] = [
    "机构编号",
    "机构名称",
    "统一社会信用代码",
    "主体类型",
    "所在城区",
    "地址",
    "联系人",
    "联系电话",
    "电子邮箱",
    "服务项目代码",
    "服务项目",
    "有效期至",
    "在履行合同数",
    "评价得分",
];

/// The JSON export: every matching entry, not one page.
#[derive(Debug, Serialize, ToSchema)]
pub struct PoolExport {
    /// The Beijing date the export describes.
    pub as_of: chrono::NaiveDate,
    pub total: i64,
    pub items: Vec<PoolEntry>,
}

/// The characters that make a spreadsheet read a cell as a formula (OWASP: CSV injection).
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell that cannot be a formula: one starting with a trigger gets a leading apostrophe.
pub fn neutralise(value: &str) -> Cow<'_, str> {
    if value.starts_with(FORMULA_TRIGGERS) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// A code that spreadsheets must keep as text (credit code, telephone): a non-empty value gets
/// a trailing tab, which keeps Excel, WPS and LibreOffice from reading it as a number.
pub fn as_text(value: &str) -> Cow<'_, str> {
    if value.is_empty() {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(format!("{value}\t"))
    }
}

/// The columns of [`HEADER`] kept as text: 统一社会信用代码 and 联系电话.
const TEXT_COLUMNS: [usize; 2] = [2, 7];

/// The CSV writer: every cell in double quotes (so the trailing tab of a code is inside them),
/// quotes doubled, CRLF line ends.
fn writer<W: std::io::Write>(w: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .terminator(csv::Terminator::CRLF)
        .from_writer(w)
}

/// One row: every cell neutralised, the [`TEXT_COLUMNS`] kept as text.
fn row<W: std::io::Write>(
    out: &mut csv::Writer<W>,
    values: &[&str],
    text_columns: &[usize],
) -> csv::Result<()> {
    out.write_record(values.iter().enumerate().map(|(i, v)| {
        let safe = neutralise(v);
        if text_columns.contains(&i) {
            as_text(&safe).into_owned()
        } else {
            safe.into_owned()
        }
    }))
}

/// The CSV document made of rows already written by [`csv_row`]: the byte-order mark, the
/// header row and the rows (what the read model stores per entry, so an export of 2,000
/// entries copies bytes).
pub fn csv_document<'a>(rows: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    static HEAD: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let head = HEAD.get_or_init(|| {
        let mut out = writer(BOM.as_bytes().to_vec());
        // Writing fixed strings into memory cannot fail.
        let _ = row(&mut out, &HEADER, &[]);
        out.into_inner().unwrap_or_default()
    });
    let mut buf = Vec::with_capacity(head.len() + 256 * rows.size_hint().0);
    buf.extend_from_slice(head);
    rows.for_each(|r| buf.extend_from_slice(r));
    buf
}

/// The items' cells: their codes (`;`-separated) and their Chinese names (`、`-separated).
fn item_cells(e: &PoolEntry) -> (String, String) {
    let codes: Vec<&str> = e.items.iter().map(|i| &*i.code).collect();
    let names: Vec<&str> = e
        .items
        .iter()
        .map(|i| i.name_zh.unwrap_or(&i.code))
        .collect();
    (codes.join(";"), names.join("、"))
}

/// The CSV row of one entry (every cell quoted, CRLF at the end; see [`writer`]).
pub fn csv_row(e: &PoolEntry) -> ApiResult<Vec<u8>> {
    let mut out = writer(Vec::with_capacity(256));
    let (codes, names) = item_cells(e);
    let id = e.institution_id.to_string();
    let until = e.valid_until.to_string();
    let contracts = e.contract_count.to_string();
    let standing = e
        .standing
        .map(|s| format!("{:.2}", s.score))
        .unwrap_or_default();
    row(
        &mut out,
        &[
            &id,
            &e.name,
            &e.uscc,
            e.entity_type_zh(),
            e.district.as_deref().unwrap_or(""),
            e.address.as_deref().unwrap_or(""),
            e.contact.person.as_deref().unwrap_or(""),
            e.contact.mobile.as_deref().unwrap_or(""),
            e.contact.email.as_deref().unwrap_or(""),
            &codes,
            &names,
            &until,
            &contracts,
            &standing,
        ],
        &TEXT_COLUMNS,
    )
    .map_err(internal)?;
    out.into_inner().map_err(|e| internal(e.into_error()))
}

fn internal(e: impl Into<anyhow::Error>) -> ApiError {
    ApiError::Internal(e.into())
}

/// The XLSX header row: the CSV's columns with the validity's start (有效期起) before its end.
pub fn xlsx_header() -> Vec<&'static str> {
    let mut header = HEADER.to_vec();
    header.insert(11, "有效期起");
    header
}

/// The Excel workbook of `entries` (rust_xlsxwriter): one sheet, a bold frozen header with an
/// autofilter, the credit code and telephone as **text cells** (format `@`: an 18-digit code
/// keeps every digit, a landline its leading 0), the validity as **date cells** (`yyyy-mm-dd`),
/// ids, counts and scores as numbers. Every value is written as a string or number cell, never
/// a formula, so a cell starting with `=` is text without any neutralising apostrophe.
pub fn xlsx(entries: &[PoolEntry]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("备选库")?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let score = Format::new().set_num_format("0.00");
    let plain = Format::new();
    for (col, title) in (0u16..).zip(xlsx_header()) {
        sheet.write_string_with_format(0, col, title, &bold)?;
    }
    let widths = [10, 36, 22, 16, 10, 36, 10, 14, 28, 30, 30, 12, 12, 12, 10];
    for (col, width) in (0u16..).zip(widths) {
        sheet.set_column_width(col, width)?;
    }
    for (row, e) in (1u32..).zip(entries) {
        let (codes, names) = item_cells(e);
        sheet.write_number(row, 0, e.institution_id as f64)?;
        let texts: [(u16, &str, &Format); 10] = [
            (1, &e.name, &plain),
            (2, &e.uscc, &text),
            (3, e.entity_type_zh(), &plain),
            (4, e.district.as_deref().unwrap_or(""), &plain),
            (5, e.address.as_deref().unwrap_or(""), &plain),
            (6, e.contact.person.as_deref().unwrap_or(""), &plain),
            (7, e.contact.mobile.as_deref().unwrap_or(""), &text),
            (8, e.contact.email.as_deref().unwrap_or(""), &plain),
            (9, &codes, &plain),
            (10, &names, &plain),
        ];
        for (col, value, format) in texts {
            sheet.write_string_with_format(row, col, value, format)?;
        }
        sheet.write_datetime_with_format(row, 11, e.valid_from, &date)?;
        sheet.write_datetime_with_format(row, 12, e.valid_until, &date)?;
        sheet.write_number(row, 13, e.contract_count as f64)?;
        if let Some(s) = e.standing {
            sheet.write_number_with_format(row, 14, s.score, &score)?;
        }
    }
    let last_row = u32::try_from(entries.len()).unwrap_or(u32::MAX);
    sheet.autofilter(0, 0, last_row, 14)?;
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_triggers_get_an_apostrophe_and_nothing_else_changes() {
        for hostile in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-1+2",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
        ] {
            assert_eq!(neutralise(hostile), format!("'{hostile}"));
        }
        for plain in ["南宁市青秀区", "'quoted", " =1", "4.25", "1-2", ""] {
            assert_eq!(neutralise(plain), plain);
        }
    }

    #[test]
    fn codes_end_with_a_tab_and_the_cell_is_quoted() {
        assert_eq!(as_text("914501007083294563"), "914501007083294563\t");
        assert_eq!(as_text(""), "");
    }

    #[test]
    fn every_cell_is_quoted_with_quotes_doubled_and_crlf() -> csv::Result<()> {
        let mut out = writer(Vec::new());
        row(
            &mut out,
            &["say \"hi\"", "=1", "914501007083294563", "a,b\nc", ""],
            &[2],
        )?;
        let bytes = out.into_inner().map_err(|e| e.into_error())?;
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "\"say \"\"hi\"\"\",\"'=1\",\"914501007083294563\t\",\"a,b\nc\",\"\"\r\n"
        );
        Ok(())
    }
}
