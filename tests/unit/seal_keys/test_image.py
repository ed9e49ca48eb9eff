"""Seal images look like the seals people know: red ring, star, name on the upper arc, transparent ground."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from seal_keys.errors import SealImageError, SealKeyError
from seal_keys.image import (
    SEAL_RED,
    SealImage,
    draw_name_seal,
    draw_round_seal,
    find_cjk_font,
)

ORG = "某某市市场监督管理局"


def _open(seal: SealImage) -> Image.Image:
    image = Image.open(io.BytesIO(seal.png))
    image.load()
    return image


def _px(seal: SealImage, mm: float) -> float:
    return mm * seal.dpi / 25.4


def _polar(seal: SealImage, image: Image.Image, radius_mm: float, angle_deg: float) -> tuple[int, int]:
    """Pixel at ``radius_mm`` from the centre, ``angle_deg`` clockwise from 12 o'clock."""
    c = image.width / 2
    r = _px(seal, radius_mm)
    theta = math.radians(angle_deg)
    return int(c + r * math.sin(theta)), int(c - r * math.cos(theta))


def _rgba(image: Image.Image, xy: tuple[int, int]) -> tuple[int, int, int, int]:
    pixel = image.getpixel(xy)
    assert isinstance(pixel, tuple) and len(pixel) == 4
    return (pixel[0], pixel[1], pixel[2], pixel[3])


def _is_red(pixel: tuple[int, int, int, int]) -> bool:
    r, g, b, a = pixel
    return a > 200 and r > 200 and g < 40 and b < 60


def _alpha_on_circle(seal: SealImage, image: Image.Image, radius_mm: float, angles) -> list[int]:
    return [_rgba(image, _polar(seal, image, radius_mm, a))[3] for a in angles]


def _annulus(seal: SealImage, image: Image.Image, inner_mm: float, outer_mm: float) -> Image.Image:
    """The image's alpha kept only between two radii (the ring and the star fall outside)."""
    c = image.width / 2
    keep = Image.new("L", image.size, 0)
    draw = ImageDraw.Draw(keep)
    r = _px(seal, outer_mm)
    draw.ellipse((c - r, c - r, c + r, c + r), fill=255)
    r = _px(seal, inner_mm)
    draw.ellipse((c - r, c - r, c + r, c + r), fill=0)
    return ImageChops.multiply(image.getchannel("A"), keep)


def _ink(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Sum of alpha in a box: how much ink is there."""
    alpha = image.getchannel("A").crop(box)
    return sum(alpha.tobytes())


@pytest.fixture(scope="module")
def plain() -> SealImage:
    return draw_round_seal(organization=ORG)


@pytest.fixture(scope="module")
def full() -> SealImage:
    return draw_round_seal(
        organization="测试市公安局交通警察支队", seal_name="合同专用章", seal_code="3301060012345"
    )


def test_round_seal_is_rgba_png_of_the_printed_size_with_a_transparent_ground(plain: SealImage) -> None:
    image = _open(plain)
    assert image.format == "PNG"
    assert image.mode == "RGBA"
    assert image.size == (496, 496)  # 42 mm at 300 dpi
    assert (plain.width_mm, plain.height_mm, plain.dpi) == (42.0, 42.0, 300)
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    for corner in ((0, 0), (495, 0), (0, 495), (495, 495)):
        assert _rgba(image, corner)[3] == 0
    # Every inked pixel is the seal red; only coverage varies.
    rgba = image.tobytes()
    colours = {rgba[i : i + 3] for i in range(0, len(rgba), 4) if rgba[i + 3] > 0}
    assert colours == {bytes(SEAL_RED)}


@pytest.mark.parametrize(("diameter_mm", "dpi"), [(40.0, 300), (42.0, 600), (38.0, 450)])
def test_pixel_size_follows_millimetres_and_dpi(diameter_mm: float, dpi: int) -> None:
    seal = draw_round_seal(organization=ORG, diameter_mm=diameter_mm, dpi=dpi)
    assert _open(seal).size == (round(diameter_mm * dpi / 25.4),) * 2
    assert seal.width_mm == seal.height_mm == diameter_mm


def test_ring_is_red_all_the_way_round_at_the_rim(full: SealImage) -> None:
    image = _open(full)
    for angle in range(0, 360, 3):
        assert _is_red(_rgba(image, _polar(full, image, 21.0 - 0.6, angle))), angle
    # Nothing outside the ring; a clear gap inside it before the text and the seal code.
    diagonals = [a + d for a in (45, 135, 225, 315) for d in range(-10, 11, 2)]
    assert max(_alpha_on_circle(full, image, 21.25, diagonals)) == 0
    assert max(_alpha_on_circle(full, image, 21.0 - 1.45, range(0, 360, 2))) < 40


def test_star_is_solid_in_the_centre_and_clear_of_the_name(plain: SealImage) -> None:
    image = _open(plain)
    assert _is_red(_rgba(image, (248, 248)))
    # The top point of a 14 mm star reaches 7 mm up; its arms are red near 5 mm out.
    assert _is_red(_rgba(image, _polar(plain, image, 6.0, 0)))
    assert _is_red(_rgba(image, _polar(plain, image, 5.0, 72)))
    # Between the star's points: transparent.
    assert _rgba(image, _polar(plain, image, 6.0, 36))[3] == 0
    # A clear band between the star and the name on the upper arc.
    assert max(_alpha_on_circle(plain, image, 10.0, range(-120, 121, 2))) == 0


def test_name_runs_along_the_upper_arc_only(plain: SealImage) -> None:
    image = _open(plain)
    upper = _alpha_on_circle(plain, image, 16.0, range(-110, 111))
    lower = _alpha_on_circle(plain, image, 16.0, range(150, 211))
    assert sum(a > 128 for a in upper) > 40
    assert max(lower) == 0
    # Without a seal name or code, nothing below the star.
    c = image.width // 2
    assert _ink(image, (c - 100, c + 90, c + 100, c + 200)) == 0


def test_name_reads_clockwise_from_the_left() -> None:
    # Light strokes first, heavy last: the right side of the arc carries more ink.
    seal = draw_round_seal(organization="一一一一一国国国国国")
    band = _annulus(seal, _open(seal), 12.0, 19.6)
    c = band.width // 2
    left = sum(band.crop((0, 0, c, band.height)).tobytes())
    right = sum(band.crop((c, 0, band.width, band.height)).tobytes())
    assert right > 2 * left > 0


def test_name_glyphs_stand_upright_with_their_tops_outward() -> None:
    # 上 has its long horizontal stroke at the bottom. The middle glyph sits at 12 o'clock; upright and
    # facing outward, its heaviest row is the one nearest the centre.
    seal = draw_round_seal(organization="上上上")
    image = _open(seal)
    alpha = image.getchannel("A")
    c = image.width // 2
    top = round(_px(seal, 21.0 - 1.2 - 0.5))
    bottom = round(_px(seal, 21.0 - 1.2 - 0.5 - 7.0))
    rows = {y: sum(alpha.crop((c - 30, y, c + 30, y + 1)).tobytes()) for y in range(c - top, c - bottom)}
    heaviest = max(rows, key=lambda y: rows[y])
    inked = [y for y, ink in rows.items() if ink > 0]
    assert heaviest > (min(inked) + max(inked)) / 2


def test_seal_name_sits_horizontally_below_the_star(full: SealImage, plain: SealImage) -> None:
    image = _open(full)
    c = image.width // 2
    band = (
        c - round(_px(full, 9)),
        c + round(_px(full, 7.6)),
        c + round(_px(full, 9)),
        c + round(_px(full, 11.6)),
    )
    assert _ink(image, band) > 255 * 1500
    # A horizontal row of glyphs: ink on both sides of the centre line.
    left = _ink(image, (band[0], band[1], c - 20, band[3]))
    right = _ink(image, (c + 20, band[1], band[2], band[3]))
    assert left > 0 and right > 0
    assert _ink(_open(plain), band) == 0


def test_seal_code_runs_along_the_lower_rim_read_from_the_left() -> None:
    # 7's bar is at its top; along the lower rim tops point inward, so at 6 o'clock the heaviest
    # row of the middle digit is the one nearest the centre.
    seal = draw_round_seal(organization=ORG, seal_code="7777777777777")
    image = _open(seal)
    alpha = image.getchannel("A")
    c = image.width // 2
    outer = round(_px(seal, 21.0 - 1.2 - 0.2))
    inner = round(_px(seal, 21.0 - 1.2 - 0.5 - 3.0))
    rows = {y: sum(alpha.crop((c - 8, y, c + 8, y + 1)).tobytes()) for y in range(c + inner, c + outer)}
    inked = [y for y, ink in rows.items() if ink > 0]
    assert inked, "no digit at 6 o'clock"
    heaviest = max(rows, key=lambda y: rows[y])
    assert heaviest < (min(inked) + max(inked)) / 2
    # Reading order: a code light on the left and heavy on the right.
    seal = draw_round_seal(organization=ORG, seal_code="1111118888888")
    band = _annulus(seal, _open(seal), 16.0, 19.6)
    lower = c + round(_px(seal, 10))
    left = sum(band.crop((0, lower, c, band.height)).tobytes())
    right = sum(band.crop((c, lower, band.width, band.height)).tobytes())
    assert right > 1.25 * left > 0


def test_different_names_give_different_images(plain: SealImage) -> None:
    other = draw_round_seal(organization="某某市公安局")
    assert other.png != plain.png
    assert _open(other).tobytes() != _open(plain).tobytes()
    named = draw_round_seal(organization=ORG, seal_name="财务专用章")
    assert _open(named).tobytes() != _open(plain).tobytes()


def test_same_input_gives_the_same_png(plain: SealImage) -> None:
    assert draw_round_seal(organization=ORG).png == plain.png


def test_long_names_stay_inside_the_ring_and_clear_of_the_star() -> None:
    seal = draw_round_seal(
        organization="中华人民共和国某某省某某市某某县人民政府行政审批服务管理局",
        seal_name="行政审批专用章",
        seal_code="3301060012345",
    )
    image = _open(seal)
    assert max(_alpha_on_circle(seal, image, 21.0 - 1.45, range(0, 360, 2))) < 40
    assert max(_alpha_on_circle(seal, image, 10.0, range(-110, 111, 2))) == 0


def test_name_seal_is_a_bordered_square_read_right_to_left() -> None:
    seal = draw_name_seal(name="一国")
    image = _open(seal)
    assert image.mode == "RGBA"
    assert image.size == (213, 213)  # 18 mm at 300 dpi
    assert (seal.width_mm, seal.height_mm) == (18.0, 18.0)
    border = round(_px(seal, 0.5))
    for i in range(0, 213, 7):
        for xy in ((i, border), (border, i), (i, 212 - border), (212 - border, i)):
            assert _is_red(_rgba(image, xy)), xy
    c = image.width // 2
    inside = round(_px(seal, 1.4))
    # The first character stands in the right column: 一 (right) carries less ink than 国 (left).
    right = _ink(image, (c, inside, 213 - inside, 213 - inside))
    left = _ink(image, (inside, inside, c, 213 - inside))
    assert left > 2 * right > 0


@pytest.mark.parametrize("name", ["张三", "张三丰", "欧阳明月"])
def test_name_seal_draws_two_to_four_characters(name: str) -> None:
    image = _open(draw_name_seal(name=name, side_mm=20.0))
    assert image.size == (236, 236)
    c = image.width // 2
    assert _ink(image, (30, 30, c - 5, 206)) > 0
    assert _ink(image, (c + 5, 30, 206, 206)) > 0


def test_names_select_different_name_seals() -> None:
    assert _open(draw_name_seal(name="张三")).tobytes() != _open(draw_name_seal(name="李四")).tobytes()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"organization": ""}, "organization must not be empty"),
        ({"organization": "   "}, "organization must not be empty"),
        ({"organization": "某某 公司"}, "spaces"),
        ({"organization": "某" * 33}, "at most 32"),
        ({"organization": ORG, "seal_code": "330106001234"}, "13 digits"),
        ({"organization": ORG, "seal_code": "33010600123456"}, "13 digits"),
        ({"organization": ORG, "seal_code": "330106001234X"}, "13 digits"),
        ({"organization": ORG, "seal_code": "３３０１０６００１２３４５"}, "13 digits"),
        ({"organization": ORG, "dpi": 299}, "dpi"),
        ({"organization": ORG, "dpi": 1201}, "dpi"),
        ({"organization": ORG, "dpi": True}, "dpi"),
        ({"organization": ORG, "diameter_mm": 10.0}, "diameter_mm"),
        ({"organization": ORG, "diameter_mm": math.nan}, "diameter_mm"),
        ({"organization": ORG, "seal_name": "某" * 9}, "seal_name"),
        ({"organization": "某某\U00013000局"}, r"U\+13000"),
    ],
)
def test_bad_round_seal_input_is_refused_with_a_clear_message(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(SealImageError, match=message) as caught:
        draw_round_seal(**kwargs)  # type: ignore[arg-type]
    assert isinstance(caught.value, SealKeyError)
    assert caught.value.code == "seal_image_error"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "张"}, "2 to 4"),
        ({"name": "张三四五六"}, "at most 4"),
        ({"name": ""}, "must not be empty"),
        ({"name": "张三", "side_mm": 5.0}, "side_mm"),
        ({"name": "张三", "dpi": 72}, "dpi"),
    ],
)
def test_bad_name_seal_input_is_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SealImageError, match=message):
        draw_name_seal(**kwargs)  # type: ignore[arg-type]


def test_font_is_the_simplified_chinese_face_of_noto_cjk() -> None:
    font = find_cjk_font()
    assert font.path.is_file()
    assert font.family in {"Noto Serif CJK SC", "Noto Sans CJK SC"}


def test_missing_cjk_font_names_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(SealImageError, match="fonts-noto-cjk"):
        find_cjk_font(search_dirs=[tmp_path])


def test_a_font_without_simplified_chinese_is_not_taken(tmp_path: Path) -> None:
    # A collection whose faces are all JP/KR/TC would draw traditional or Japanese forms.
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not dejavu.is_file():
        pytest.skip("DejaVu Sans not installed")
    (tmp_path / "NotoSerifCJK-Bold.ttc").write_bytes(dejavu.read_bytes())
    with pytest.raises(SealImageError, match="Noto Serif CJK SC"):
        find_cjk_font(search_dirs=[tmp_path])
