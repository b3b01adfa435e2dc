"""Script-bearing documents are refused however they are written: PDF names with #xx
escapes, actions hidden in compressed object streams, OpenDocument macros and scripts."""

import io
import zipfile
import zlib
from pathlib import Path

import pytest
from pypdf import PdfWriter

from cms.models import MediaAsset
from media import filetypes
from media.filetypes import RejectedFileError, identify
from tests.conftest import use_api_token
from tests.media.conftest import ODT_CONTENT, ODT_MANIFEST, MediaApp, odt_document, pdf_document

OPEN_ACTION_JS = b" /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"


def pdf_with_object_stream(open_action: bytes | None) -> bytes:
    """A PDF 1.5 whose catalog, pages and (when given) open action live in a
    Flate-compressed object stream, found through a cross-reference stream: the
    action's bytes appear nowhere in the file as written."""
    action_ref = b" /OpenAction 4 0 R" if open_action is not None else b""
    in_stream = [
        b"<< /Type /Catalog /Pages 2 0 R" + action_ref + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        open_action if open_action is not None else b"null",
    ]
    header = bytearray()
    body = bytearray()
    for number, obj in enumerate(in_stream, start=1):
        header += b"%d %d " % (number, len(body))
        body += obj + b"\n"
    packed = zlib.compress(bytes(header) + bytes(body))
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    object_stream_at = len(out)
    out += (
        b"5 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(in_stream), len(header), len(packed))
        + packed
        + b"\nendstream\nendobj\n"
    )
    xref_at = len(out)
    rows = [b"\x00" + (0).to_bytes(4, "big") + b"\xff\xff"]
    rows += [b"\x02" + (5).to_bytes(4, "big") + i.to_bytes(2, "big") for i in range(4)]
    rows += [b"\x01" + object_stream_at.to_bytes(4, "big") + b"\x00\x00"]
    rows += [b"\x01" + xref_at.to_bytes(4, "big") + b"\x00\x00"]
    table = b"".join(rows)
    out += (
        b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
        % len(table)
        + table
        + b"\nendstream\nendobj\n"
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def odt_with(entries: dict[str, str], content: str | None = None) -> bytes:
    """An ODT package with extra entries and, when given, its own content.xml."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        if "META-INF/manifest.xml" not in entries:
            archive.writestr("META-INF/manifest.xml", ODT_MANIFEST, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content or ODT_CONTENT, zipfile.ZIP_DEFLATED)
        for name, text in entries.items():
            archive.writestr(name, text, zipfile.ZIP_DEFLATED)
    return out.getvalue()


NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink"'
)
MACRO_URL = "vnd.sun.star.script:Standard.Module1.Main?language=Basic&amp;location=document"
EVENT_LISTENER = (
    f"<office:document-content {NS}><office:scripts><office:event-listeners>"
    '<script:event-listener script:language="ooo:script" script:event-name="dom:load" '
    f'xlink:href="{MACRO_URL}"/></office:event-listeners></office:scripts>'
    "<office:body><office:text/></office:body></office:document-content>"
)
# The same under other prefixes: the namespace decides, not the spelling.
EVENT_LISTENER_OTHER_PREFIX = (
    '<o:document-content xmlns:o="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:s="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
    'xmlns:l="http://www.w3.org/1999/xlink"><o:event-listeners>'
    '<s:event-listener s:language="ooo:script" s:event-name="dom:load" '
    'l:href="macro:///Standard.Module1.Main"/></o:event-listeners></o:document-content>'
)
MACRO_LINK = (
    f"<office:document-content {NS}><office:body><office:text><text:p>"
    f'<text:a xlink:href="{MACRO_URL}">Нажмите</text:a>'
    "</text:p></office:text></office:body></office:document-content>"
)
EMPTY_SCRIPTS = (
    f"<office:document-content {NS}><office:scripts/>"
    "<office:body><office:text><text:p>Текст</text:p></office:text></office:body>"
    "</office:document-content>"
)

ACTIVE_DOCUMENTS = [
    pytest.param(
        pdf_document(catalog_extra=b" /OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"),
        "скрипты",
        id="pdf-javascript-name-escaped",
    ),
    pytest.param(
        pdf_document(catalog_extra=b" /OpenAction << /S /L#61unch /F (calc.exe) >>"),
        "запуск программ",
        id="pdf-launch-name-escaped",
    ),
    pytest.param(
        pdf_with_object_stream(b"<< /S /JavaScript /JS (app.alert(1)) >>"),
        "скрипты",
        id="pdf-javascript-in-object-stream",
    ),
    pytest.param(
        pdf_with_object_stream(b"<< /S /Launch /F (calc.exe) >>"),
        "запуск программ",
        id="pdf-launch-in-object-stream",
    ),
    pytest.param(
        odt_with({"Basic/Standard/Module1.xml": "<script:module/>"}),
        "макросы",
        id="odt-basic-library",
    ),
    pytest.param(
        odt_with({"Scripts/python/run.py": "import os"}),
        "макросы",
        id="odt-scripts-folder",
    ),
    pytest.param(odt_with({}, EVENT_LISTENER), "макросы", id="odt-event-listener"),
    pytest.param(
        odt_with({}, EVENT_LISTENER_OTHER_PREFIX), "макросы", id="odt-event-listener-prefixed"
    ),
    pytest.param(odt_with({}, MACRO_LINK), "макросы", id="odt-macro-link"),
    pytest.param(
        odt_with(
            {
                "META-INF/manifest.xml": '<manifest:manifest xmlns:manifest="urn:oasis:names:'
                'tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
                'manifest:full-path="Basic/" manifest:media-type=""/></manifest:manifest>'
            }
        ),
        "макросы",
        id="odt-manifest-names-basic",
    ),
]


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "file"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(("content", "words"), ACTIVE_DOCUMENTS)
def test_active_documents_are_refused_with_a_reason(
    tmp_path: Path, content: bytes, words: str
) -> None:
    with pytest.raises(RejectedFileError) as caught:
        identify(write(tmp_path, content))
    assert words in caught.value.message, caught.value.message
    assert not caught.value.unsupported  # the type is allowed; this file is not


def test_clean_documents_of_the_same_shapes_pass(tmp_path: Path) -> None:
    assert identify(write(tmp_path, pdf_with_object_stream(None))) is filetypes.PDF
    assert identify(write(tmp_path, pdf_document())) is filetypes.PDF
    # LibreOffice writes an empty <office:scripts/> into ordinary documents.
    assert identify(write(tmp_path, odt_with({}, EMPTY_SCRIPTS))) is filetypes.ODT
    assert identify(write(tmp_path, odt_document())) is filetypes.ODT


def test_a_pdf_that_cannot_be_parsed_is_refused(tmp_path: Path) -> None:
    broken = b"%PDF-1.7\n" + b"\x00garbage\n" * 20 + b"%%EOF\n"
    with pytest.raises(RejectedFileError, match="PDF"):
        identify(write(tmp_path, broken))


@pytest.mark.parametrize("route", ["graphql", "http"])
async def test_active_documents_are_refused_by_both_routes(media_app: MediaApp, route: str) -> None:
    await use_api_token(media_app.client, "write")
    content = pdf_with_object_stream(b"<< /S /JavaScript /JS (app.alert(1)) >>")
    if route == "graphql":
        response = await media_app.upload_graphql(content, "doc.pdf", alt=None)
        errors = response.json()["data"]["uploadMedia"]["errors"]
    else:
        response = await media_app.upload_http(content, "doc.pdf", alt=None)
        assert response.status_code == 422, response.text
        errors = [
            {"message": error["message"], **error["extensions"]}
            for error in response.json()["errors"]
        ]
    assert [error["code"] for error in errors] == ["INVALID"]
    assert "скрипты" in errors[0]["message"]
    assert media_app.stored_files() == []
    assert await MediaAsset.all().count() == 0


def encrypted_pdf(user_password: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_encrypted_pdfs_are_opened_or_refused_as_such(tmp_path: Path) -> None:
    # Restricted (printing, copying) but readable by anyone: checked and taken.
    assert identify(write(tmp_path, encrypted_pdf(""))) is filetypes.PDF
    with pytest.raises(RejectedFileError, match="защищён паролем"):
        identify(write(tmp_path, encrypted_pdf("secret")))
