"""Reading the multipart/form-data body of POST /media as it arrives: the `file`
part goes straight into a StagedFile (never whole in memory, never a second
temporary copy), the few text fields are collected."""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from media.staging import StagedFile

FILE_FIELD = "file"
TEXT_FIELDS = ("alt", "caption", "credit")
_MAX_TEXT_BYTES = 16 * 1024
_MAX_PARTS = 10
_MAX_HEADER_BYTES = 8 * 1024


class FormError(ValueError):
    """The body is not the form we take; `message` says why, in Russian."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class UploadForm:
    texts: dict[str, str] = field(default_factory=dict)
    file_name: str | None = None
    has_file: bool = False


@dataclass
class _Part:
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    name: str = ""
    is_file: bool = False
    data: bytearray = field(default_factory=bytearray)


class _Reader:
    def __init__(self, staged: StagedFile) -> None:
        self.staged = staged
        self.form = UploadForm()
        self.part = _Part()
        self.parts = 0
        self.header_name = b""
        self.header_value = b""
        self.pending: list[bytes] = []  # file bytes parsed but not yet written

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > _MAX_PARTS:
            raise FormError("Слишком много полей в форме.")
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]
        self._check_header()

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]
        self._check_header()

    def _check_header(self) -> None:
        if len(self.header_name) + len(self.header_value) > _MAX_HEADER_BYTES:
            raise FormError("Слишком длинный заголовок части формы.")

    def on_header_end(self) -> None:
        self.part.headers.append((self.header_name.lower(), self.header_value))
        self.header_name = self.header_value = b""

    def on_headers_finished(self) -> None:
        disposition = next((v for k, v in self.part.headers if k == b"content-disposition"), b"")
        _, options = parse_options_header(disposition)
        self.part.name = _decode(options.get(b"name", b""))
        self.part.is_file = b"filename" in options
        if self.part.is_file:
            if self.part.name != FILE_FIELD or self.form.has_file:
                raise FormError(f"Ожидается один файл в поле «{FILE_FIELD}».")
            self.form.has_file = True
            self.form.file_name = _decode(options[b"filename"])
        elif self.part.name not in TEXT_FIELDS:
            names = ", ".join((FILE_FIELD, *TEXT_FIELDS))
            raise FormError(f"Неизвестное поле «{self.part.name[:50]}»; поля формы: {names}.")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part.is_file:
            self.pending.append(data[start:end])
            return
        self.part.data += data[start:end]
        if len(self.part.data) > _MAX_TEXT_BYTES:
            raise FormError(f"Поле «{self.part.name}» слишком длинное.")

    def on_part_end(self) -> None:
        if not self.part.is_file:
            self.form.texts[self.part.name] = _decode(bytes(self.part.data))

    async def flush(self) -> None:
        for chunk in self.pending:
            await self.staged.write(chunk)
        self.pending.clear()


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormError("Поля формы должны быть в кодировке UTF-8.") from None


async def read_upload_form(
    content_type: str, body: AsyncIterable[bytes], staged: StagedFile
) -> UploadForm:
    """Parses the body into `staged` (the file) and the text fields.
    FormError for a malformed form; FileTooLargeError from `staged` when the file
    is over the limit (reading stops there)."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise FormError("В заголовке Content-Type нет границы (boundary) multipart.")
    reader = _Reader(staged)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": reader.on_part_begin,
            "on_part_data": reader.on_part_data,
            "on_part_end": reader.on_part_end,
            "on_header_field": reader.on_header_field,
            "on_header_value": reader.on_header_value,
            "on_header_end": reader.on_header_end,
            "on_headers_finished": reader.on_headers_finished,
        },
    )
    try:
        async for chunk in body:
            parser.write(chunk)
            await reader.flush()
        parser.finalize()
    except FormParserError:
        raise FormError("Тело запроса не является корректной формой multipart/form-data.") from None
    if parser.state not in (MultipartState.END, MultipartState.BOUNDARY_PADDING):
        raise FormError("Форма оборвалась: нет завершающей границы multipart.")
    await reader.flush()
    return reader.form
