"""Inline media: one media type per image whichever format it is built for, and data:
URLs read as inline data (or refused) by every reader, so no neutral part holds one."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from cherry_nb._exceptions import WireFormatError
from cherry_nb.wire import anthropic as wire_anthropic
from cherry_nb.wire import gemini as wire_gemini
from cherry_nb.wire import openai as wire_openai
from cherry_nb.wire._common import image_media_type, split_data_url
from cherry_nb.wire.neutral import ChatRequest, Document, Image, Message, Part

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


# ---- data: URLs ------------------------------------------------------------------------

PNG = base64.b64encode(OPENINGS["image/png"]).decode()
PDF = base64.b64encode(b"%PDF-1.4\n").decode()


@pytest.mark.parametrize(
    ("url", "split"),
    [
        (f"data:image/png;base64,{PNG}", ("image/png", PNG)),
        (f"data:;base64,{PNG}", (None, PNG)),
        (f"DATA:image/png;BASE64,{PNG}", ("image/png", PNG)),  # case-insensitive (RFC 2397)
        (f"data:image/svg+xml;charset=utf-8;base64,{PNG}", ("image/svg+xml", PNG)),
        ("https://example.com/cat.png", None),
        ("gs://bucket/data:image.png", None),
    ],
)
def test_split_data_url(url: str, split: tuple[str | None, str] | None) -> None:
    assert split_data_url(url, "where") == split


@pytest.mark.parametrize(
    "url", ["data:image/png,%3Csvg%3E", "data:image/png;base64,", "data:image/png;base64"]
)
def test_split_data_url_refuses_what_is_not_base64_data(url: str) -> None:
    with pytest.raises(WireFormatError, match="base64") as caught:
        split_data_url(url, "messages.0.content.0.source.url")
    assert caught.value.param == "messages.0.content.0.source.url"


def _openai_read(part: dict[str, Any]) -> list[Part]:
    body = {"model": "m", "messages": [{"role": "user", "content": [part]}]}
    return wire_openai.parse_request(body).messages[0].content


def _anthropic_read(block: dict[str, Any]) -> list[Part]:
    body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": [block]}]}
    return wire_anthropic.parse_request(body).messages[0].content


def _gemini_read(part: dict[str, Any]) -> list[Part]:
    body = {"contents": [{"role": "user", "parts": [part]}]}
    return wire_gemini.parse_request(body, model="m").messages[0].content


def _anthropic_url(kind: str, url: str) -> dict[str, Any]:
    return {"type": kind, "source": {"type": "url", "url": url}}


# Each reader's place for a URL: (read, the part holding `url`, the param naming it).
READERS = {
    "openai-image": (
        _openai_read,
        lambda url: {"type": "image_url", "image_url": {"url": url}},
        "messages.0.content.0.image_url.url",
    ),
    "openai-file": (
        _openai_read,
        lambda url: {"type": "file", "file": {"file_data": url}},
        "messages.0.content.0.file.file_data",
    ),
    "anthropic-image": (
        _anthropic_read,
        lambda url: _anthropic_url("image", url),
        "messages.0.content.0.source.url",
    ),
    "anthropic-document": (
        _anthropic_read,
        lambda url: _anthropic_url("document", url),
        "messages.0.content.0.source.url",
    ),
    "gemini-file": (
        _gemini_read,
        lambda url: {"fileData": {"fileUri": url}},
        "contents[0].parts[0].fileData.fileUri",
    ),
}
NORMALISED = [
    ("openai-image", f"data:image/png;base64,{PNG}", Image("image/png", PNG)),
    ("openai-image", f"data:;base64,{PNG}", Image(data=PNG)),
    ("openai-file", f"data:application/pdf;base64,{PDF}", Document(data=PDF)),
    ("anthropic-image", f"data:image/png;base64,{PNG}", Image("image/png", PNG)),
    ("anthropic-image", f"data:;base64,{PNG}", Image(data=PNG)),
    ("anthropic-document", f"data:application/pdf;base64,{PDF}", Document(data=PDF)),
    ("anthropic-document", f"data:;base64,{PDF}", Document(data=PDF)),
    ("gemini-file", f"data:image/png;base64,{PNG}", Image("image/png", PNG)),
    ("gemini-file", f"data:;base64,{PNG}", Image(data=PNG)),
    ("gemini-file", f"data:application/pdf;base64,{PDF}", Document(data=PDF)),
]


@pytest.mark.parametrize(("reader", "url", "part"), NORMALISED)
def test_readers_turn_data_urls_into_inline_data(reader: str, url: str, part: Part) -> None:
    read, wrap, _ = READERS[reader]
    assert read(wrap(url)) == [part]


@pytest.mark.parametrize("reader", list(READERS))
def test_readers_refuse_a_data_url_that_is_not_base64(reader: str) -> None:
    """`data:image/png,%3Csvg%3E` once went to Anthropic as a base64 source of `%3Csvg%3E`."""
    read, wrap, param = READERS[reader]
    with pytest.raises(WireFormatError, match="base64") as caught:
        read(wrap("data:image/png,%3Csvg%3E"))
    assert caught.value.param == param


def test_gemini_file_data_takes_the_data_urls_own_media_type() -> None:
    part = {"fileData": {"mimeType": "image/jpeg", "fileUri": f"data:image/png;base64,{PNG}"}}
    assert _gemini_read(part) == [Image("image/png", PNG)]
    part = {"fileData": {"mimeType": "image/jpeg", "fileUri": f"data:;base64,{PNG}"}}
    assert _gemini_read(part) == [Image("image/jpeg", PNG)]


@pytest.mark.parametrize("reader", ["openai-image", "anthropic-image", "gemini-file"])
def test_a_data_url_image_reaches_every_format_inline(reader: str) -> None:
    read, wrap, _ = READERS[reader]
    (image,) = read(wrap(f"data:image/png;base64,{PNG}"))
    assert isinstance(image, Image)
    assert _built_media_types(image) == dict.fromkeys(
        ["openai", "anthropic", "gemini"], "image/png"
    )
