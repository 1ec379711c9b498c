"""Files for the background-job tests."""
import io
from functools import lru_cache


@lru_cache(maxsize=None)
def xlsx_bomb() -> bytes:
    """A workbook whose first sheet holds a header and 1,000,000 rows: a few MB zipped (under the
    8 MB upload limit), far more expanded. Its parts are written directly (the smallest workbook
    openpyxl and Excel open), in about a second where openpyxl's writer takes some twenty."""
    import zipfile

    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>employee_no</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>name</t></is></c></row>']
    rows.extend(f'<row r="{n + 2}"><c r="A{n + 2}"><v>{n}</v></c></row>' for n in range(1_000_000))
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '</Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{relationships}">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '</Relationships>'),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>' + "".join(rows)
            + '</sheetData></worksheet>'),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def staff_csv(rows: int, start: int = 0) -> bytes:
    lines = ["employee_no,name,team"] + [f"J{start + n:05d},员工{n},热线一组" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")
