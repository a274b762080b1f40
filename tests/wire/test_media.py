"""Inline images: one media type per image whichever format it is built for."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from cherry_nb.wire import anthropic as wire_anthropic
from cherry_nb.wire import gemini as wire_gemini
from cherry_nb.wire import openai as wire_openai
from cherry_nb.wire._common import image_media_type
from cherry_nb.wire.neutral import ChatRequest, Image, Message

# The first bytes of each format (its magic number and a little more), base64-encoded.
OPENINGS = {
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "image/gif": b"GIF89a\x01\x00\x01\x00",
    "image/webp": b"RIFF\x1a\x00\x00\x00WEBPVP8L",
}


def _built_media_types(image: Image) -> dict[str, str]:
    """The media type each format's builder gives `image`."""
    chat = ChatRequest("m", [Message("user", [image])], max_tokens=10)
    openai_part = wire_openai.build_request(chat)["messages"][0]["content"][0]
    anthropic_block = wire_anthropic.build_request(chat)["messages"][0]["content"][0]
    gemini_part = wire_gemini.build_request(chat)["contents"][0]["parts"][0]
    url = openai_part["image_url"]["url"]
    return {
        "openai": url[len("data:") : url.index(";base64,")],
        "anthropic": anthropic_block["source"]["media_type"],
        "gemini": gemini_part["inlineData"]["mimeType"],
    }


@pytest.mark.parametrize("media_type", list(OPENINGS))
def test_an_untyped_base64_image_gets_one_media_type_in_every_format(media_type: str) -> None:
    data = base64.b64encode(OPENINGS[media_type]).decode()
    assert image_media_type(data) == media_type
    built: dict[str, Any] = _built_media_types(Image(data=data))
    assert built == dict.fromkeys(built, media_type)


def test_an_unknown_base64_image_is_labelled_png_everywhere() -> None:
    built = _built_media_types(Image(data=base64.b64encode(b"BM\x00\x00").decode()))  # BMP
    assert set(built.values()) == {"image/png"}


def test_a_given_media_type_is_kept_everywhere() -> None:
    data = base64.b64encode(OPENINGS["image/png"]).decode()
    assert set(_built_media_types(Image("image/heic", data)).values()) == {"image/heic"}
