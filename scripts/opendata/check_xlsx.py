"""Reads the pool's XLSX export with openpyxl, a third-party reader, and checks what a
spreadsheet user relies on: the header, an 18-digit all-numeric credit code kept as a text
cell with every digit, the telephone as text with its leading 0, Chinese names intact, the
validity start and end as date cells, a formula-like address kept as plain text.

usage: check_xlsx.py FILE USCC NAME PHONE VALID_FROM VALID_UNTIL ADDRESS
Exit status 0 and "ok" when every check passes; an assertion error otherwise."""

import datetime
import sys

import openpyxl

path, uscc, name, phone, valid_from, valid_until, address = sys.argv[1:8]
sheet = openpyxl.load_workbook(path).active
header = [c.value for c in sheet[1]]
assert header[:3] == ["机构编号", "机构名称", "统一社会信用代码"], header
col = {title: i for i, title in enumerate(header)}
rows = [r for r in sheet.iter_rows(min_row=2) if r[col["统一社会信用代码"]].value == uscc]
assert len(rows) == 1, f"no single row with the credit code {uscc} as text"
row = rows[0]
code = row[col["统一社会信用代码"]]
assert code.data_type == "s" and code.number_format == "@", (code.data_type, code.number_format)
assert row[col["机构名称"]].value == name, row[col["机构名称"]].value
tel = row[col["联系电话"]]
assert tel.value == phone and tel.data_type == "s" and tel.number_format == "@", tel.value
for title, expected in (("有效期起", valid_from), ("有效期至", valid_until)):
    cell = row[col[title]]
    assert cell.is_date, (title, cell.value, cell.number_format)
    assert cell.value == datetime.datetime.fromisoformat(expected), (title, cell.value)
addr = row[col["地址"]]
assert addr.data_type == "s" and addr.value == address, (addr.data_type, addr.value)
assert isinstance(row[col["机构编号"]].value, int), row[col["机构编号"]].value
print("ok")
