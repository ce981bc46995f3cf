//! The pool exports: CSV that Excel opens correctly (UTF-8 with a byte-order mark, a header
//! row, RFC 4180 quoting, CRLF line ends) and the same rows as JSON.

use serde::Serialize;
use utoipa::ToSchema;

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

/// One CSV field, quoted when it holds a comma, a quote, a line break or leading/trailing
/// space (quotes doubled, RFC 4180 §2.6–2.7).
pub fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) || value.trim() != value {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn row(out: &mut String, values: &[&str]) {
    let line: Vec<String> = values.iter().map(|v| field(v)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

/// The CSV document of `entries`.
pub fn csv(entries: &[PoolEntry]) -> String {
    let mut out = String::with_capacity(256 * (entries.len() + 1));
    out.push_str(BOM);
    row(&mut out, &HEADER);
    for e in entries {
        let codes: Vec<&str> = e.items.iter().map(|i| i.code.as_str()).collect();
        let names: Vec<&str> = e
            .items
            .iter()
            .map(|i| i.name_zh.as_deref().unwrap_or(i.code.as_str()))
            .collect();
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
                &codes.join(";"),
                &names.join("、"),
                &until,
                &contracts,
                &standing,
            ],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("南宁市体育中心"), "南宁市体育中心");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field(" padded"), "\" padded\"");
        assert_eq!(field(""), "");
    }
}
