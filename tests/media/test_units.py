"""The framework-free parts on their own: type detection, rendition planning, storage."""

import asyncio
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from cms.settings import load_settings
from media import filetypes
from media.filetypes import RejectedFileError, identify
from media.renditions import (
    JPEG,
    WEBP,
    Fit,
    RenditionArgumentError,
    normalize,
    output_size,
    parse_name,
)
from media.storage import InvalidKeyError, LocalStorage
from tests.media.conftest import docx_document, jpeg_with_gps, odt_document, pdf_document

SETTINGS = load_settings({"CMS_SECRET_KEY": "k"})


def image_bytes(kind: str, **options: object) -> bytes:
    out = io.BytesIO()
    frames = [Image.new("RGB", (40, 30), colour) for colour in ("red", "green", "blue")]
    frames[0].save(out, kind, save_all=True, append_images=frames[1:], **options)
    return out.getvalue()


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "file"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("GIF", filetypes.GIF),
        ("WEBP", filetypes.WEBP),
        ("AVIF", filetypes.AVIF),
        ("PNG", filetypes.PNG),
    ],
)
def test_images_are_recognised_and_their_ends_checked(
    tmp_path: Path, kind: str, expected: filetypes.FileType
) -> None:
    content = image_bytes(kind)
    assert identify(write(tmp_path, content)) is expected
    with pytest.raises(RejectedFileError, match=r"повреждён|обрезан"):
        identify(write(tmp_path, content[: len(content) - 12]))
    with pytest.raises(RejectedFileError, match="посторонние"):
        identify(write(tmp_path, content + b"<script>alert(1)</script>"))


def test_documents_are_recognised_by_structure(tmp_path: Path) -> None:
    assert identify(write(tmp_path, pdf_document())) is filetypes.PDF
    assert identify(write(tmp_path, docx_document())) is filetypes.DOCX
    assert identify(write(tmp_path, odt_document())) is filetypes.ODT
    with pytest.raises(RejectedFileError, match="посторонние"):
        identify(write(tmp_path, docx_document() + b"MZ trailing program"))
    with pytest.raises(RejectedFileError, match="обрезан"):
        identify(write(tmp_path, pdf_document()[:-20]))


def test_macro_documents_are_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            "application/vnd.ms-word.document.macroEnabled.main+xml",
        )
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/vbaProject.bin", b"\x00macro")
    with pytest.raises(RejectedFileError, match="макросы"):
        identify(write(tmp_path, out.getvalue()))


def test_heic_gets_a_useful_message(tmp_path: Path) -> None:
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(RejectedFileError, match="HEIC") as caught:
        identify(write(tmp_path, heic))
    assert caught.value.unsupported


def plan(width: int | None, height: int | None, fit: Fit = Fit.COVER, source=(800, 1200)):
    spec = normalize(
        width=width, height=height, fit=fit, output=WEBP, source_size=source, settings=SETTINGS
    )
    return spec.name, output_size(spec, source)


def test_rendition_planning() -> None:
    assert plan(300, None) == ("w320.webp", (320, 480))
    assert plan(1, None) == ("w160.webp", (160, 240))
    assert plan(None, 500) == ("w480.webp", (480, 720))
    assert plan(None, None) == ("w960.webp", (800, 1200))  # the source, not upscaled
    assert plan(640, 360) == ("w640-16x9-cover.webp", (640, 360))
    assert plan(650, 370) == ("w960-16x9-cover.webp", (800, 450))  # box shrunk to the source
    assert plan(640, 480, Fit.CONTAIN) == ("w640-4x3-contain.webp", (320, 480))
    assert plan(300, 700) == ("w320-9x16-cover.webp", (320, 569))  # the nearest allowed shape
    # Every answer is one of a bounded set of names.
    names = {
        plan(w, h, fit)[0]
        for w in range(1, 3000, 37)
        for h in (None, *range(1, 3000, 41))
        for fit in Fit
    }
    widths, ratios = len(SETTINGS.rendition_widths), len(SETTINGS.rendition_ratios)
    assert len(names) <= widths * (1 + 2 * ratios)
    with pytest.raises(RenditionArgumentError):
        plan(0, None)


def test_rendition_names_parse_only_when_canonical_and_allowed() -> None:
    spec = parse_name("w640-16x9-cover.jpg", SETTINGS)
    assert spec is not None
    assert (spec.width, spec.ratio, spec.fit, spec.format) == (640, (16, 9), Fit.COVER, JPEG)
    for name in ("w641.webp", "w0640.webp", "w640-16x10-cover.webp", "w640.tiff", "../w640.webp"):
        assert parse_name(name, SETTINGS) is None, name


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        await asyncio.sleep(0)
        yield part


async def test_local_storage(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    assert await storage.save("ab/cd/file.bin", chunks(b"hello ", b"world")) == 11
    assert await storage.exists("ab/cd/file.bin")
    assert await storage.size("ab/cd/file.bin") == 11
    assert b"".join([c async for c in storage.read("ab/cd/file.bin", 6, 9)]) == b"wor"
    assert b"".join([c async for c in storage.read("ab/cd/file.bin")]) == b"hello world"
    assert files_under(tmp_path / ".staging") == []
    assert await storage.delete("ab/cd/file.bin")
    assert not await storage.delete("ab/cd/file.bin")
    assert await storage.size("ab/cd/file.bin") is None
    for key in ("../x", "/etc/passwd", "ab/../../x", "ab//x", ".staging/x", "AB/x", "a\\b"):
        with pytest.raises(InvalidKeyError):
            await storage.exists(key)


async def test_a_failed_save_leaves_nothing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)

    async def broken() -> AsyncIterator[bytes]:
        yield b"partial"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        await storage.save("ab/cd/file.bin", broken())
    assert files_under(tmp_path) == []


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_mangled_files_are_refused_never_crash(tmp_path: Path) -> None:
    """Truncations and flipped bytes of every allowed type: accepted or refused with a
    reason (RejectedFileError), nothing else, so that no upload can end in a 500."""
    import random

    from media.images import prepare_image

    generator = random.Random(4)
    refusals: list[str] = []
    samples = [image_bytes(kind) for kind in ("GIF", "WEBP", "AVIF", "PNG")]
    samples += [jpeg_with_gps(), pdf_document(), docx_document(), odt_document()]
    for sample in samples:
        for _ in range(25):
            mangled = bytearray(sample)
            if generator.random() < 0.5:
                del mangled[generator.randrange(1, len(mangled)) :]
            for _ in range(generator.randrange(1, 6)):
                mangled[generator.randrange(len(mangled))] = generator.randrange(256)
            path = write(tmp_path, bytes(mangled))
            try:
                kind = identify(path)
                if kind.is_image:
                    prepare_image(path, kind, tmp_path / "out", 10_000_000)
            except RejectedFileError as error:
                refusals.append(error.message)
    assert refusals
    assert all(refusals)
