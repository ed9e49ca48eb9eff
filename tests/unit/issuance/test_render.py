"""The licence face: a one-page A4 PDF whose Chinese text is real, extractable text."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
import qrcode
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from issuance.errors import RenderError
from issuance.render import LICENSE_IDENTIFIER_INFO_KEY, SEAL_BOX, LicenseFace, render_license_face

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils is not installed",
)

IDENTIFIER = "1.2.156.3005.2.11100000000013338W027.11100000000013338W.0000000000000000001A.001.K"
FIELDS = (
    ("证号", "110101199003077578"),
    ("姓名", "张三"),
    ("性别", "男"),
    ("国籍", "中国"),
    ("住址", "北京市东城区景山前街4号故宫博物院西华门内南三所东侧院落甲1号楼二单元"),
    ("出生日期", "1990年3月7日"),
    ("初次领证日期", "2010年6月1日"),
    ("准驾车型", "C1"),
    ("有效期限", "2020年6月1日至2030年6月1日"),
)


def _qr_png(text: str = "YX1:TESTPAYLOAD") -> bytes:
    image = qrcode.make(text, error_correction=qrcode.constants.ERROR_CORRECT_Q, border=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _face(**changes: object) -> LicenseFace:
    values: dict[str, object] = {
        "title": "中华人民共和国机动车驾驶证",
        "fields": FIELDS,
        "identifier": IDENTIFIER,
        "issuer_name": "北京市公安局公安交通管理局",
        "issue_date": date(2024, 5, 1),
        "qr_png": _qr_png(),
    }
    values.update(changes)
    return LicenseFace(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def face_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("face") / "face.pdf"
    path.write_bytes(render_license_face(_face()))
    return path


def _text(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return done.stdout.decode()


def test_chinese_text_is_extractable(face_pdf: Path) -> None:
    text = _text(face_pdf)
    assert "中华人民共和国机动车驾驶证" in text
    for label, value in FIELDS:
        assert label in text
        # Long values wrap over lines; the characters are all there, in order.
        assert value in re.sub(r"\s+", "", text)
    assert "北京市公安局公安交通管理局" in text
    assert "2024年5月1日" in text


def test_long_identifier_wraps_inside_the_licence_area(face_pdf: Path) -> None:
    assert IDENTIFIER in re.sub(r"\s+", "", _text(face_pdf))
    done = subprocess.run(
        ["pdftotext", "-bbox", str(face_pdf), "-"], capture_output=True, check=True, text=True
    )
    right_edges = [float(x) for x in re.findall(r'xMax="([0-9.]+)"', done.stdout)]
    assert right_edges
    # Every word stays on the page, inside the bordered licence area (x ≤ 545 pt).
    assert max(right_edges) <= 545


def test_one_a4_page_with_an_embedded_cjk_subset(face_pdf: Path) -> None:
    reader = PdfFileReader(io.BytesIO(face_pdf.read_bytes()))
    assert len(reader.root["/Pages"]["/Kids"]) == 1
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    assert [round(float(v)) for v in page["/MediaBox"]] == [0, 0, 595, 842]
    done = subprocess.run(["pdffonts", str(face_pdf)], capture_output=True, check=True, text=True)
    font_line = done.stdout.splitlines()[2]
    assert "NotoS" in font_line and "CJK" in font_line
    # embedded, subset, with a ToUnicode map
    assert font_line.split()[-5:-2] == ["yes", "yes", "yes"]
    # a subset is small, far from the 20+ MB collection
    assert face_pdf.stat().st_size < 300_000


def test_identifier_is_in_the_document_information(face_pdf: Path) -> None:
    reader = PdfFileReader(io.BytesIO(face_pdf.read_bytes()))
    info = reader.trailer["/Info"]
    assert str(info[LICENSE_IDENTIFIER_INFO_KEY]) == IDENTIFIER
    assert IDENTIFIER in str(info["/Title"])


def test_the_issuer_sits_where_the_seal_goes(face_pdf: Path) -> None:
    done = subprocess.run(
        ["pdftotext", "-bbox", str(face_pdf), "-"], capture_output=True, check=True, text=True
    )
    words = re.findall(
        r'xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]+)<', done.stdout
    )
    x1, y1, x2, y2 = SEAL_BOX
    page_height = 841.89
    for word in ("北京市公安局公安交通管理局", "2024年5月1日"):
        box = next(tuple(map(float, w[:4])) for w in words if w[4] == word)
        centre_x = (box[0] + box[2]) / 2
        centre_y = page_height - (box[1] + box[3]) / 2  # pdftotext measures from the top
        assert x1 < centre_x < x2 and y1 < centre_y < y2, word


def test_the_face_looks_like_a_licence(face_pdf: Path, tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-png", "-r", "72", "-singlefile", str(face_pdf), str(tmp_path / "p")],
                   check=True)
    image = Image.open(tmp_path / "p.png").convert("RGB")
    height = image.height
    # the red double border at the licence area's left edge (x = 50 pt), halfway down it
    pixel = image.getpixel((50, height - 565))
    assert isinstance(pixel, tuple)
    r, g, b = pixel[:3]
    assert r > 100 and g < 80 and b < 80
    # the QR code is drawn: dark modules inside its box (x 425–535, y 618–728)
    region = image.crop((425, height - 728, 535, height - 618)).convert("L")
    dark = sum(region.histogram()[:80])
    assert 0.2 < dark / (110 * 110) < 0.8


def test_a_character_the_font_lacks_is_refused() -> None:
    with pytest.raises(RenderError, match="no glyph"):
        render_license_face(_face(fields=(("姓名", "张\U0001f600"),)))


def test_too_many_fields_are_refused() -> None:
    fields = tuple((f"字段{i}", "很长的值" * 20) for i in range(30))
    with pytest.raises(RenderError, match="do not fit"):
        render_license_face(_face(fields=fields))


def test_a_broken_qr_image_is_refused() -> None:
    with pytest.raises(RenderError, match="QR"):
        render_license_face(_face(qr_png=b"not a png"))


def test_missing_font_is_reported() -> None:
    with pytest.raises(RenderError, match="fonts-noto-cjk"):
        render_license_face(_face(), font_candidates=(("/nonexistent/font.ttc", "X"),))


# --- GB/T 36903 metadata as XMP ------------------------------------------------------------------


def _metadata_xmp() -> tuple[bytes, dict[str, str]]:
    from issuance.catalog import DRIVING_LICENCE, validate_fields
    from issuance.identifier import LicenseIdentifier
    from issuance.metadata import build_metadata

    values = validate_fields(DRIVING_LICENCE, {
        "name": "张三", "sex": "男", "nationality": "中国", "address": "北京市东城区景山前街4号",
        "birth_date": "1990-03-07", "first_issue_date": "2010-06-01", "vehicle_class": "C1",
        "holder_id_number": "110101199003077571", "valid_from": "2020-06-01", "valid_until": "2030-06-01",
    }, today=date(2024, 5, 1))
    identifier = LicenseIdentifier.compose(
        type_code=DRIVING_LICENCE.code, issuer_code="11100000000013338W", serial="0000000000000000001A"
    )
    metadata = build_metadata(
        DRIVING_LICENCE, values, identifier=identifier, issuer_name="北京市公安局公安交通管理局 & 车管所",
        issue_date=date(2024, 5, 1),
    )
    return metadata.to_xmp(), metadata.elements()


@pytest.fixture(scope="module")
def face_with_metadata(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    xmp, elements = _metadata_xmp()
    path = tmp_path_factory.mktemp("face") / "face-xmp.pdf"
    path.write_bytes(render_license_face(_face(metadata_xmp=xmp, identifier=elements["ZZBS"])))
    return path, elements


def test_pdfinfo_shows_the_xmp_metadata(face_with_metadata: tuple[Path, dict[str, str]]) -> None:
    from issuance.metadata import read_xmp_elements

    path, elements = face_with_metadata
    done = subprocess.run(["pdfinfo", "-meta", str(path)], capture_output=True, check=True)
    packet = done.stdout.strip()
    assert packet.startswith(b"<?xpacket begin=")
    assert read_xmp_elements(packet) == elements
    text = packet.decode("utf-8")
    assert 'zz:ZZBH="110101199003077571"' in text or "<zz:ZZBH>110101199003077571<" in text
    assert "北京市公安局公安交通管理局 &amp; 车管所" in text
    # the document information and the XMP say the same
    assert "中华人民共和国机动车驾驶证" in text and "xmp:CreatorTool" in text
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout
    assert "Metadata Stream: yes" in info


def test_the_metadata_stream_is_an_uncompressed_xml_stream(face_with_metadata: tuple[Path, dict[str, str]]) -> None:
    path, elements = face_with_metadata
    reader = PdfFileReader(io.BytesIO(path.read_bytes()))
    stream = reader.root["/Metadata"]
    assert stream["/Type"] == "/Metadata" and stream["/Subtype"] == "/XML"
    assert "/Filter" not in stream
    # uncompressed: the packet is in the file as is, for tools that scan for XMP without parsing PDF
    assert elements["ZZBS"].encode() in path.read_bytes()
    assert str(reader.trailer["/Info"][LICENSE_IDENTIFIER_INFO_KEY]) == elements["ZZBS"]


def test_without_metadata_there_is_no_xmp(face_pdf: Path) -> None:
    info = subprocess.run(["pdfinfo", str(face_pdf)], capture_output=True, check=True, text=True).stdout
    assert "Metadata Stream: no" in info
    assert "Title:" in info and IDENTIFIER in info


@pytest.mark.parametrize("xmp", [b"", b"<x:xmpmeta", b"<a/>", "<x/>".encode("utf-16")], ids=["empty", "truncated",
                                                                                                "not-xmp", "utf-16"])
def test_bad_xmp_is_refused(xmp: bytes) -> None:
    with pytest.raises(RenderError, match="XMP"):
        render_license_face(_face(metadata_xmp=xmp))


def test_characters_beyond_the_bmp_are_extractable(tmp_path: Path) -> None:
    # 𠮷 (U+20BB7) is a real surname character; the ToUnicode map must give it back as one character.
    path = tmp_path / "rare.pdf"
    path.write_bytes(render_license_face(_face(fields=(("姓名", "吉𠮷祥"), ("住址", "A  b")))))
    text = _text(path)
    assert "吉𠮷祥" in text
    assert "A" in text and "b" in text


def test_the_same_face_renders_the_same_font_subset() -> None:
    first, second = render_license_face(_face()), render_license_face(_face())
    name = re.compile(rb"/BaseFont /([A-Z]{6})\+NotoS")
    assert name.search(first) and name.search(first).group(1) == name.search(second).group(1)  # type: ignore[union-attr]
