"""The LINE rich menu: six Thai buttons (the main menu), its image, and installing it."""

from __future__ import annotations

import io
import logging
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.core.contract import Choice
from bot.core.feature import MENU
from handlers.settings import Settings

_LOG = logging.getLogger(__name__)

WIDTH, HEIGHT = 2500, 1686
COLUMNS, ROWS = 3, 2
CHAT_BAR_TEXT = "เมนู"
NAME = "elaas-main-menu"
# One colour per button, light enough for dark text; in MENU order.
COLOURS: tuple[tuple[int, int, int], ...] = (
    (0xFF, 0xE0, 0xB2), (0xC8, 0xE6, 0xC9), (0xBB, 0xDE, 0xFB),
    (0xF8, 0xBB, 0xD0), (0xD1, 0xC4, 0xE9), (0xFF, 0xF5, 0x9D),
)
BORDER = (0x33, 0x33, 0x33)
INK = (0x21, 0x21, 0x21)
_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/tlwg/Loma-Bold.ttf",
    "/usr/share/fonts/truetype/tlwg/Garuda-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansThai-Bold.ttf",
)


def _cells() -> list[tuple[int, int, int, int]]:
    """``(x, y, width, height)`` of the six buttons, left to right, top to bottom."""
    xs = [round(i * WIDTH / COLUMNS) for i in range(COLUMNS + 1)]
    ys = [round(j * HEIGHT / ROWS) for j in range(ROWS + 1)]
    return [(xs[i], ys[j], xs[i + 1] - xs[i], ys[j + 1] - ys[j])
            for j in range(ROWS) for i in range(COLUMNS)]


def rich_menu_definition(choices: Sequence[Choice] = MENU) -> dict[str, Any]:
    """The rich menu as LINE's JSON: 2500x1686, 3x2 postback areas with Thai labels."""
    if len(choices) != COLUMNS * ROWS:
        raise ValueError(f"the rich menu needs exactly {COLUMNS * ROWS} choices")
    areas = [
        {"bounds": {"x": x, "y": y, "width": w, "height": h},
         "action": {"type": "postback", "label": c.label, "data": c.action,
                    "displayText": c.label}}
        for (x, y, w, h), c in zip(_cells(), choices, strict=True)
    ]  # fmt: skip
    return {"size": {"width": WIDTH, "height": HEIGHT}, "selected": True, "name": NAME,
            "chatBarText": CHAT_BAR_TEXT, "areas": areas}


def _font_path() -> Path | None:
    try:
        import fontpkg_sarabun  # type: ignore[import-not-found,unused-ignore]

        path = Path(fontpkg_sarabun.ROOT) / "files" / "Sarabun-Bold.ttf"
        if path.is_file():
            return path
    except ImportError:
        pass
    return next((Path(p) for p in _FONT_CANDIDATES if Path(p).is_file()), None)


def menu_image(choices: Sequence[Choice] = MENU) -> bytes:
    """A 2500x1686 PNG: coloured tiles with the Thai labels (Pillow), or plain tiles without."""
    try:
        return _pillow_image(choices)
    except Exception as exc:  # Pillow missing or no Thai font: tiles without text still work
        _LOG.info("rich menu image without labels (%s)", type(exc).__name__)
        return plain_png()


def _pillow_image(choices: Sequence[Choice]) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    font_path = _font_path()
    if font_path is None:
        raise FileNotFoundError("no Thai font")
    img = Image.new("RGB", (WIDTH, HEIGHT), BORDER)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(font_path), 110)
    for (x, y, w, h), colour, c in zip(_cells(), COLOURS, choices, strict=True):
        draw.rectangle((x + 6, y + 6, x + w - 7, y + h - 7), fill=colour)
        draw.text((x + w / 2, y + h / 2), c.label, fill=INK, font=font, anchor="mm")
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def plain_png() -> bytes:
    """The tiles as a PNG written with zlib alone (no Pillow, no text)."""
    cells = _cells()
    rows: list[bytes] = []
    for j in range(ROWS):
        h = cells[j * COLUMNS][3]
        line = bytearray()
        for i in range(COLUMNS):
            w = cells[j * COLUMNS + i][2]
            colour = bytes(COLOURS[j * COLUMNS + i])
            line += bytes(BORDER) * 6 + colour * (w - 12) + bytes(BORDER) * 6
        border_line = b"\x00" + bytes(BORDER) * WIDTH
        inner = b"\x00" + bytes(line)
        for dy in range(h):
            rows.append(border_line if dy < 6 or dy >= h - 6 else inner)
    raw = b"".join(rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


async def install_rich_menu(settings: Settings, image: bytes | None = None,
                            content_type: str = "image/png") -> str:
    """Create the rich menu, upload its image and make it every user's default.

    Args:
        settings: LINE_API_BASE and LINE_CHANNEL_ACCESS_TOKEN are used.
        image: a 2500x1686 PNG/JPEG under 1 MB (default: :func:`menu_image`).
        content_type: ``image/png`` or ``image/jpeg``.

    Returns:
        The new rich menu id.
    """
    from linebot.v3.messaging import (
        AsyncApiClient,
        AsyncMessagingApi,
        AsyncMessagingApiBlob,
        Configuration,
        RichMenuRequest,
    )

    data = image if image is not None else menu_image()
    cfg = Configuration(host=settings.line_api_base,
                        access_token=settings.line_channel_access_token)
    client = AsyncApiClient(cfg)
    try:
        api = AsyncMessagingApi(client)
        blob = AsyncMessagingApiBlob(client)
        request = RichMenuRequest.from_dict(rich_menu_definition())
        created = await api.create_rich_menu(request)
        menu_id = str(created.rich_menu_id)
        await blob.set_rich_menu_image(menu_id, body=data,
                                      _headers={"Content-Type": content_type})
        await api.set_default_rich_menu(menu_id)
        _LOG.info("rich menu %s installed as default", menu_id)
        return menu_id
    finally:
        await client.close()
