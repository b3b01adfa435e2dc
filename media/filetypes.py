"""What a file is, decided from its bytes: never from its name or the Content-Type a
client claims.

`identify(path)` recognises the allowlisted types by their magic numbers and then
walks their structure to its end, so that a truncated file, or one with
something appended after the real end (a ZIP or a page with a script after a
JPEG: a polyglot), or in front of it (HTML before `%PDF-`), is refused.
Well-known dangerous types (programs, HTML, SVG) get a message saying what they
are. Pixels are checked separately by `media.images`.
"""

from __future__ import annotations

import mmap
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING
from xml.etree import ElementTree

if TYPE_CHECKING:
    from pypdf import PdfReader
    from pypdf.generic import PdfObject


@dataclass(frozen=True, slots=True)
class FileType:
    mime: str
    extension: str
    label: str  # for messages
    pillow_format: str | None = None  # images only

    @property
    def is_image(self) -> bool:
        return self.pillow_format is not None


JPEG = FileType("image/jpeg", "jpg", "JPEG", "JPEG")
PNG = FileType("image/png", "png", "PNG", "PNG")
GIF = FileType("image/gif", "gif", "GIF", "GIF")
WEBP = FileType("image/webp", "webp", "WebP", "WEBP")
AVIF = FileType("image/avif", "avif", "AVIF", "AVIF")
PDF = FileType("application/pdf", "pdf", "PDF")
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", "DOCX"
)
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", "XLSX")
ODT = FileType("application/vnd.oasis.opendocument.text", "odt", "ODT")

ALLOWED: tuple[FileType, ...] = (JPEG, PNG, GIF, WEBP, AVIF, PDF, DOCX, XLSX, ODT)
BY_EXTENSION: dict[str, FileType] = {kind.extension: kind for kind in ALLOWED}
ALLOWED_LIST = "JPEG, PNG, WebP, GIF, AVIF, PDF, DOCX, XLSX, ODT"


class RejectedFileError(ValueError):
    """The file cannot be accepted; `message` says why, in Russian."""

    def __init__(self, message: str, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unsupported = unsupported  # a type we do not take, rather than a broken file


def _unsupported(what: str) -> RejectedFileError:
    return RejectedFileError(
        f"{what} Принимаются только {ALLOWED_LIST}.",
        unsupported=True,
    )


def _damaged(kind: FileType, detail: str) -> RejectedFileError:
    return RejectedFileError(f"Файл {kind.label} повреждён или обрезан: {detail}.")


def _appended(kind: FileType, extra: int) -> RejectedFileError:
    return RejectedFileError(
        f"После конца {kind.label} есть посторонние данные ({extra} байт): "
        "такие файлы могут скрывать программы или скрипты. Сохраните файл заново."
    )


def identify(path: Path) -> FileType:
    """The allowlisted type of the file, its structure checked; RejectedFileError otherwise."""
    with path.open("rb") as file:
        size = file.seek(0, 2)
        if size == 0:
            raise RejectedFileError("Файл пустой.")
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            kind = _sniff(data)
            try:
                _CHECKS[kind](data, kind)
            except (IndexError, struct.error, OverflowError) as error:
                raise _damaged(kind, "неверная структура") from error
        if kind is PDF:
            file.seek(0)
            _check_pdf_objects(file)  # pypdf reads a real file faster than the mmap
        return kind


# ---------------------------------------------------------------- magic numbers

_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|script|iframe|meta|div|a\s)",
    re.IGNORECASE | re.DOTALL,
)
_SVG = re.compile(rb"<svg[\s>]", re.IGNORECASE)


def _sniff(data: mmap.mmap) -> FileType:
    head = data[:4096]
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _zip_document(data)
    raise _refusal_for_unknown(head)


def _iso_media(head: bytes) -> FileType:
    (box_size,) = struct.unpack(">I", head[:4])
    brands = head[8 : min(max(box_size, 16), 256)]
    names = {brands[i : i + 4] for i in range(0, len(brands) - 3, 4)} - {b"\0\0\0\0"}
    if names & {b"avif", b"avis"}:
        return AVIF
    if names & {b"heic", b"heix", b"mif1", b"heim", b"heis", b"hevc"}:
        raise _unsupported("Формат HEIC/HEIF не принимается: сохраните фото как JPEG.")
    raise _unsupported("Видео и другие файлы ISO Media не принимаются.")


def _refusal_for_unknown(head: bytes) -> RejectedFileError:
    text = head.lstrip(b"\xef\xbb\xbf")
    if text.startswith(b"MZ"):
        return _unsupported("Файл — программа Windows (EXE/DLL), а не изображение или документ.")
    if text.startswith(b"\x7fELF") or text[:4] in (
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    ):
        return _unsupported("Файл — исполняемая программа, а не изображение или документ.")
    if text.startswith(b"#!"):
        return _unsupported("Файл — скрипт, а не изображение или документ.")
    if _SVG.search(text):
        return _unsupported(
            "SVG не принимается: это документ, который может содержать скрипты и ссылки, "
            "выполняемые браузером. Загрузите логотип в PNG или WebP."
        )
    if _HTML_START.match(text) or b"<script" in text.lower():
        return _unsupported("HTML-страницы и скрипты не принимаются.")
    if text.startswith((b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b")):
        return _unsupported("Архивы не принимаются.")
    if text.startswith(b"\xd0\xcf\x11\xe0"):
        return _unsupported("Старые форматы Office (DOC, XLS) и защищённые паролем документы.")
    return _unsupported("Тип файла не распознан.")


# ---------------------------------------------------------------- images


def _be16(data: mmap.mmap, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "big")


def _be32(data: mmap.mmap, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "big")


def _jpeg_end(data: mmap.mmap, start: int) -> int:
    """The offset just past the EOI marker of the JPEG that starts at `start`."""
    size = len(data)
    pos = start + 2
    while True:
        if pos + 2 > size or data[pos] != 0xFF:
            raise _damaged(JPEG, "нет маркера конца изображения")
        while pos + 1 < size and data[pos + 1] == 0xFF:  # fill bytes
            pos += 1
        marker = data[pos + 1] if pos + 1 < size else -1
        if marker == 0xD9:
            return pos + 2
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if pos + 4 > size:
            raise _damaged(JPEG, "нет маркера конца изображения")
        segment_end = pos + 2 + _be16(data, pos + 2)
        if segment_end > size:
            raise _damaged(JPEG, "сегмент выходит за конец файла")
        pos = segment_end
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= size:
                    raise _damaged(JPEG, "нет маркера конца изображения")
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    pos += 2
                elif following == 0xFF:
                    pos += 1
                else:
                    break


def _check_jpeg(data: mmap.mmap, kind: FileType) -> None:
    end = _jpeg_end(data, 0)
    # Phones append further complete JPEGs (MPF: gain maps, depth maps); they are
    # images too and re-encoding drops them. Anything else after the end is refused.
    while data[end : end + 3] == b"\xff\xd8\xff":
        end = _jpeg_end(data, end)
    _refuse_trailer(data, end, kind)


def _refuse_trailer(data: mmap.mmap, end: int, kind: FileType) -> None:
    trailer = data[end:]
    if trailer.strip(b"\x00\xff\r\n\t "):
        raise _appended(kind, len(trailer))


def _check_png(data: mmap.mmap, kind: FileType) -> None:
    pos, size = 8, len(data)
    while True:
        if pos + 12 > size:
            raise _damaged(kind, "нет завершающего блока IEND")
        length = _be32(data, pos)
        chunk_type = data[pos + 4 : pos + 8]
        if not chunk_type.isalpha():
            raise _damaged(kind, "неверный блок")
        pos += 12 + length
        if pos > size:
            raise _damaged(kind, "блок выходит за конец файла")
        if chunk_type == b"IEND":
            break
    _refuse_trailer(data, pos, kind)


def _gif_sub_blocks(data: mmap.mmap, pos: int) -> int:
    size = len(data)
    while True:
        if pos >= size:
            raise _damaged(GIF, "блок данных не завершён")
        length = data[pos]
        pos += 1 + length
        if length == 0:
            return pos


def _check_gif(data: mmap.mmap, kind: FileType) -> None:
    size = len(data)
    if size < 13:
        raise _damaged(kind, "нет заголовка")
    flags = data[10]
    pos = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    while True:
        if pos >= size:
            raise _damaged(kind, "нет завершающего байта")
        block = data[pos]
        if block == 0x3B:  # trailer
            pos += 1
            break
        if block == 0x21:  # extension: label, then sub-blocks
            pos = _gif_sub_blocks(data, pos + 2)
        elif block == 0x2C:  # image descriptor, local colour table, LZW code size, data
            if pos + 10 > size:
                raise _damaged(kind, "неполный кадр")
            local = data[pos + 9]
            pos += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0) + 1
            pos = _gif_sub_blocks(data, pos)
        else:
            raise _damaged(kind, "неизвестный блок")
    _refuse_trailer(data, pos, kind)


def _check_webp(data: mmap.mmap, kind: FileType) -> None:
    end = 8 + int.from_bytes(data[4:8], "little")
    if end > len(data):
        raise _damaged(kind, "файл короче заявленного")
    _refuse_trailer(data, end, kind)  # a padding byte after an odd size is a zero


_ISO_TOP_LEVEL_BOXES = {
    b"ftyp", b"meta", b"mdat", b"moov", b"free", b"skip", b"uuid", b"moof", b"mfra",
    b"styp", b"sidx", b"pdin", b"prft", b"emsg", b"meco",
}  # fmt: skip


def _check_iso_boxes(data: mmap.mmap, kind: FileType) -> None:
    pos, size = 0, len(data)
    while pos < size:
        box_type = data[pos + 4 : pos + 8]
        if pos > 0 and box_type not in _ISO_TOP_LEVEL_BOXES:
            raise _appended(kind, size - pos)  # not a box of the format: something appended
        if pos + 8 > size:
            raise _damaged(kind, "неполный блок")
        box_size = _be32(data, pos)
        if box_size == 1:
            if pos + 16 > size:
                raise _damaged(kind, "неполный блок")
            box_size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif box_size == 0:
            box_size = size - pos
        if box_size < 8 or pos + box_size > size:
            raise _damaged(kind, "блок выходит за конец файла")
        pos += box_size


# ---------------------------------------------------------------- documents

# Active content a PDF viewer may run, by the name that marks it, and what to say.
_PDF_ACTIVE: dict[str, str] = {
    "/JavaScript": "скрипты (JavaScript)",
    "/JS": "скрипты (JavaScript)",
    "/Launch": "запуск программ (Launch)",
    "/EmbeddedFile": "вложенные файлы",
    "/EmbeddedFiles": "вложенные файлы",
    "/RichMedia": "встроенное мультимедиа (RichMedia)",
    "/XFA": "формы XFA, которые могут выполнять скрипты",
}
# The same names as written plainly: a cheap first look before the file is parsed.
_PDF_ACTIVE_RAW = re.compile(
    rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA)(?![A-Za-z0-9])"
)
# Checking costs about 0.1 ms an object; real documents of the size limit have tens
# of thousands.
_PDF_MAX_OBJECTS = 200_000
_HTML_MARKERS = re.compile(rb"<\s*(?:script|html|iframe|body|svg)[\s>/]", re.IGNORECASE)


def _check_pdf(data: mmap.mmap, kind: FileType) -> None:
    tail = data[max(0, len(data) - 1024) :].rstrip(b"\x00\r\n\t ")
    if not tail.endswith(b"%%EOF"):
        if b"%%EOF" in tail:
            raise _appended(kind, len(tail) - tail.rindex(b"%%EOF") - 5)
        raise _damaged(kind, "нет отметки конца файла %%EOF")
    if _HTML_MARKERS.search(data[:1024]):
        raise RejectedFileError("PDF содержит HTML в начале файла: такие файлы не принимаются.")
    plain = _PDF_ACTIVE_RAW.search(data)
    if plain is not None:
        raise _pdf_active(plain.group().decode())
    # What is written encoded is checked by _check_pdf_objects, once this passed.


def _pdf_active(name: str) -> RejectedFileError:
    return RejectedFileError(
        f"PDF содержит {_PDF_ACTIVE[name]}: такие документы не принимаются. "
        "Сохраните его заново (например, «Печать в PDF»)."
    )


def _check_pdf_objects(file: IO[bytes]) -> None:
    """Every object of the PDF as a viewer reads it, with pypdf: names with #xx escapes
    decoded (/J#61vaScript is /JavaScript) and compressed object streams unpacked, so
    that active content cannot hide from the plain-bytes look."""
    # pypdf is imported with the first PDF: about 12 MiB in every process otherwise.
    from pypdf import PdfReader

    try:
        reader = PdfReader(file, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise RejectedFileError(
                "PDF защищён паролем: такие документы не принимаются. Снимите защиту "
                "и сохраните его заново."
            )
        _refuse_active_names(reader.trailer)
        for count, obj in enumerate(_pdf_objects(reader)):
            if count >= _PDF_MAX_OBJECTS:
                raise RejectedFileError(
                    f"PDF состоит из слишком многих объектов (больше {_PDF_MAX_OBJECTS}): "
                    "такой документ не проверить. Сохраните его заново или разделите."
                )
            _refuse_active_names(obj)
    except RejectedFileError:
        raise
    except Exception as error:
        # pypdf fails in many ways on hostile input; what cannot be read cannot be
        # checked, and is not taken.
        raise _damaged(PDF, "структуру документа не удалось разобрать") from error


def _pdf_objects(reader: PdfReader) -> Iterator[PdfObject | None]:
    """Every indirect object: those at file offsets and those inside object streams."""
    from pypdf.generic import IndirectObject

    for generation, numbers in reader.xref.items():
        for number in numbers:
            yield reader.get_object(IndirectObject(number, generation, reader))
    for number in reader.xref_objStm:
        yield reader.get_object(number)


def _refuse_active_names(root: PdfObject | None) -> None:
    """Walks one object's direct contents (references are objects of their own, each
    walked once by the caller)."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    pending = [root]
    while pending:
        item = pending.pop()
        if isinstance(item, NameObject):
            if item in _PDF_ACTIVE:
                raise _pdf_active(item)
        elif isinstance(item, DictionaryObject):  # streams too
            for key, value in item.items():
                if key in _PDF_ACTIVE:
                    raise _pdf_active(key)
                pending.append(value)
        elif isinstance(item, ArrayObject):
            pending.extend(item)


_OOXML_MAIN = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}
_MACRO_CONTENT = re.compile(rb"macroEnabled|vbaProject", re.IGNORECASE)
_MAX_ZIP_ENTRIES = 10_000
_MAX_ZIP_UNPACKED = 512 * 1024 * 1024


def _zip_document(data: mmap.mmap) -> FileType:
    """DOCX, XLSX or ODT: a ZIP container with the structure of one of them."""
    # The end-of-central-directory record must close the file: bytes after it
    # (a script, another file) make a polyglot.
    eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if eocd < 0:
        raise RejectedFileError("Документ повреждён или обрезан: нет оглавления ZIP.")
    comment_length = int.from_bytes(data[eocd + 20 : eocd + 22], "little")
    if eocd + 22 + comment_length != len(data):
        raise RejectedFileError(
            "После конца документа есть посторонние данные: такие файлы не принимаются."
        )
    try:
        with zipfile.ZipFile(_MmapReader(data)) as archive:
            entries = archive.infolist()
            _check_zip_entries(entries)
            names = {entry.filename for entry in entries}
            if entries[0].filename == "mimetype":
                return _odf_type(archive, entries[0])
            if "[Content_Types].xml" in names:
                return _ooxml_type(archive, names)
    except RejectedFileError:
        raise
    except Exception as error:
        # zipfile fails in many ways on hostile input (bad offsets, encryption,
        # unknown compression): whatever it is, the document cannot be taken.
        raise RejectedFileError("Документ повреждён или обрезан.") from error
    raise _unsupported("Архивы ZIP не принимаются.")


def _check_zip_entries(entries: list[zipfile.ZipInfo]) -> None:
    if not entries:
        raise RejectedFileError("Документ пустой.")
    if len(entries) > _MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > _MAX_ZIP_UNPACKED:
        raise RejectedFileError("Документ распаковывается в слишком большой объём.")
    if min(entry.header_offset for entry in entries) != 0:
        raise RejectedFileError("Перед документом есть посторонние данные.")
    for entry in entries:
        name = entry.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/"):
            raise RejectedFileError("Документ содержит файлы с недопустимыми путями.")


def _odf_type(archive: zipfile.ZipFile, first: zipfile.ZipInfo) -> FileType:
    if first.compress_type != zipfile.ZIP_STORED or first.file_size > 100:
        raise RejectedFileError("Документ ODT повреждён: неверная запись mimetype.")
    mimetype = archive.read(first).strip()
    if mimetype == ODT.mime.encode() and "META-INF/manifest.xml" in archive.namelist():
        _refuse_odf_scripts(archive)
        return ODT
    raise _unsupported(f"Документ OpenDocument типа {mimetype[:80].decode(errors='replace')}.")


# Where an OpenDocument package keeps macros and scripts: StarBasic libraries in
# Basic/, other languages in Scripts/; documents run them from event listeners
# (script:event-listener, in office:scripts or on any object), or from links and
# buttons whose target is a macro URL.
_ODF_SCRIPT_FOLDERS = ("Basic/", "Scripts/")
_ODF_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_ODF_SCRIPT = "{urn:oasis:names:tc:opendocument:xmlns:script:1.0}"
_ODF_MANIFEST_PATH = "{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}full-path"
_ODF_MACRO_URLS = ("vnd.sun.star.script:", "macro:")


def _odf_macros(where: str) -> RejectedFileError:
    return RejectedFileError(
        f"Документ ODT содержит макросы или скрипты ({where}): такие файлы не принимаются. "
        "Сохраните его как ODT без макросов."
    )


def _refuse_odf_scripts(archive: zipfile.ZipFile) -> None:
    for info in archive.infolist():
        if info.filename.startswith(_ODF_SCRIPT_FOLDERS):
            raise _odf_macros(f"папка {info.filename.split('/', 1)[0]}/")
    for info in archive.infolist():
        if info.filename.endswith(".xml"):
            with archive.open(info) as xml:
                _refuse_odf_xml_scripts(xml, info.filename)


def _refuse_odf_xml_scripts(xml: IO[bytes], name: str) -> None:
    """Elements and attributes are matched by namespace, whatever the prefixes."""
    try:
        for _, element in ElementTree.iterparse(xml, events=("start",)):
            tag = element.tag
            if tag == f"{_ODF_SCRIPT}event-listener":
                raise _odf_macros(f"обработчик события в {name}")
            if tag == f"{_ODF_OFFICE}script":
                raise _odf_macros(f"скрипт в {name}")
            for attribute, value in element.attrib.items():
                target = value.strip().lower()
                if target.startswith(_ODF_MACRO_URLS):
                    raise _odf_macros(f"ссылка на макрос в {name}")
                if attribute == _ODF_MANIFEST_PATH and value.startswith(_ODF_SCRIPT_FOLDERS):
                    raise _odf_macros(f"{value} в списке файлов")
    except ElementTree.ParseError as error:
        raise RejectedFileError(f"Документ ODT повреждён: неверный XML в {name}.") from error


def _ooxml_type(archive: zipfile.ZipFile, names: set[str]) -> FileType:
    info = archive.getinfo("[Content_Types].xml")
    if info.file_size > 1024 * 1024:
        raise RejectedFileError("Документ повреждён: слишком большой [Content_Types].xml.")
    content_types = archive.read(info)
    if _MACRO_CONTENT.search(content_types) or any(n.endswith("vbaProject.bin") for n in names):
        raise RejectedFileError(
            "Документ содержит макросы: такие файлы не принимаются. Сохраните его как DOCX "
            "или XLSX без макросов."
        )
    for main, kind in _OOXML_MAIN.items():
        if main in content_types and "_rels/.rels" in names:
            return kind
    raise _unsupported("Документ Office этого типа (например, PPTX).")


def _check_nothing(data: mmap.mmap, kind: FileType) -> None:
    """ZIP documents are checked while they are recognised."""


class _MmapReader:
    """A seekable file over an mmap for zipfile, without copying the file into memory."""

    def __init__(self, data: mmap.mmap) -> None:
        self._data = data
        self._pos = 0

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, len(self._data))[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size is None or size < 0 else self._pos + size
        chunk = self._data[self._pos : end]
        self._pos += len(chunk)
        return chunk


_CHECKS = {
    JPEG: _check_jpeg,
    PNG: _check_png,
    GIF: _check_gif,
    WEBP: _check_webp,
    AVIF: _check_iso_boxes,
    PDF: _check_pdf,
    DOCX: _check_nothing,
    XLSX: _check_nothing,
    ODT: _check_nothing,
}
