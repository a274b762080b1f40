"""PDF documents: read from and built for each wire format, translated between them, and
refused — naming the place and what to do — where the target format cannot hold them."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming
from pydantic import TypeAdapter

from cherry_nb._exceptions import WireFormatError
from cherry_nb.wire import anthropic as wire_anthropic
from cherry_nb.wire import gemini as wire_gemini
from cherry_nb.wire import openai as wire_openai
from cherry_nb.wire.neutral import (
    ChatRequest,
    Document,
    Image,
    Message,
    Text,
    ToolCall,
    ToolResult,
)


def make_pdf(pages: int) -> bytes:
    """A minimal valid PDF: catalog, page tree, `pages` empty pages, a correct xref table."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        *[b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * pages,
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out + trailer.encode()


PDF_B64 = base64.b64encode(make_pdf(1)).decode()
PDF_URL = "https://assets.example.com/reports/q3-report.pdf"
DATA_URL = f"data:application/pdf;base64,{PDF_B64}"

ANTHROPIC_PARAMS = TypeAdapter(MessageCreateParamsNonStreaming)
OPENAI_PARAMS = TypeAdapter(CompletionCreateParamsNonStreaming)


def _consume(value: Any) -> None:
    """The SDKs type message lists as Iterables, which pydantic validates lazily: walk them."""
    if isinstance(value, dict):
        for item in value.values():
            _consume(item)
    elif isinstance(value, list | Iterator):
        for item in value:
            _consume(item)


def valid_anthropic(body: dict[str, Any]) -> dict[str, Any]:
    _consume(ANTHROPIC_PARAMS.validate_python(body))
    return body


def valid_openai(body: dict[str, Any]) -> dict[str, Any]:
    _consume(OPENAI_PARAMS.validate_python(body))
    return body


def request(*messages: Message) -> ChatRequest:
    return ChatRequest("m", list(messages), max_tokens=100)


def user(*parts: Any) -> Message:
    return Message("user", list(parts))


def assistant(*parts: Any) -> Message:
    return Message("assistant", list(parts))


def refusal(build: Any, chat: ChatRequest) -> WireFormatError:
    with pytest.raises(WireFormatError) as caught:
        build(chat)
    return caught.value


def user_turn(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def test_sdk_validation_is_not_lazy() -> None:
    bad = {"type": "document", "source": {"type": "base64", "media_type": "image/png"}}
    with pytest.raises(ValueError, match="media_type"):
        valid_anthropic({"model": "m", "max_tokens": 1, "messages": [user_turn(bad)]})


# ---- Anthropic ------------------------------------------------------------------------

BASE64_BLOCK = {
    "type": "document",
    "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_B64},
}
URL_BLOCK = {"type": "document", "source": {"type": "url", "url": PDF_URL}}


def anthropic_body(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"model": "m", "max_tokens": 100, "messages": list(messages)}


CLAUDE_CODE_READ = anthropic_body(
    {"role": "user", "content": "Summarise docs/q3-report.pdf"},
    {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "I'll read the report."},
            {
                "type": "tool_use",
                "id": "toolu_01Pdf",
                "name": "Read",
                "input": {"file_path": "/repo/docs/q3-report.pdf"},
            },
        ],
    },
    {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01Pdf",
                "content": "PDF file read: /repo/docs/q3-report.pdf (327 bytes)",
            },
            BASE64_BLOCK,
        ],
    },
)
"""What Claude Code sends after its Read tool opened a PDF: the result names the file, the
PDF itself follows as a document block in the same user turn."""


def test_anthropic_reads_base64_and_url_documents() -> None:
    titled = {**BASE64_BLOCK, "title": "Q3 report", "citations": {"enabled": True}}
    parsed = wire_anthropic.parse_request(anthropic_body(user_turn(titled, URL_BLOCK)))
    assert parsed.messages[0].content == [
        Document("application/pdf", PDF_B64, title="Q3 report"),
        Document(url=PDF_URL),
    ]


def test_anthropic_document_context_becomes_text_before_it() -> None:
    block = {**URL_BLOCK, "context": "Figures are in EUR."}
    parsed = wire_anthropic.parse_request(anthropic_body(user_turn(block)))
    assert parsed.messages[0].content == [Text("Figures are in EUR."), Document(url=PDF_URL)]


def test_anthropic_documents_in_tool_results() -> None:
    body = anthropic_body(
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "fetch"}]},
        user_turn({"type": "tool_result", "tool_use_id": "t", "content": [BASE64_BLOCK]}),
    )
    parsed = wire_anthropic.parse_request(body)
    assert parsed.messages[1].content == [ToolResult("t", [Document(data=PDF_B64)])]


def test_anthropic_round_trip_of_documents() -> None:
    chat = request(
        user(Text("compare"), Document(data=PDF_B64, title="a.pdf"), Document(url=PDF_URL)),
        assistant(ToolCall("t", "fetch", {})),
        user(ToolResult("t", [Text("here"), Document(data=PDF_B64)])),
    )
    built = valid_anthropic(wire_anthropic.build_request(chat))
    assert built["messages"][0]["content"][1:] == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_B64},
            "title": "a.pdf",
        },
        {"type": "document", "source": {"type": "url", "url": PDF_URL}},
    ]
    assert wire_anthropic.parse_request(built) == chat


def test_anthropic_reads_a_data_url_document_as_inline_data() -> None:
    block = {"type": "document", "source": {"type": "url", "url": DATA_URL}}
    parsed = wire_anthropic.parse_request(anthropic_body(user_turn(block)))
    assert parsed.messages[0].content == [Document(data=PDF_B64)]
    built = wire_anthropic.build_request(parsed)
    assert valid_anthropic(built)["messages"][0]["content"][0]["source"] == {
        "type": "base64",
        "media_type": "application/pdf",
        "data": PDF_B64,
    }


def test_anthropic_refuses_a_data_url_document_that_is_not_a_pdf() -> None:
    url = "data:text/plain;base64,aGk="
    block = {"type": "document", "source": {"type": "url", "url": url}}
    with pytest.raises(WireFormatError, match="'text/plain'") as caught:
        wire_anthropic.parse_request(anthropic_body(user_turn(block)))
    assert caught.value.param == "messages.0.content.0.source.url"


@pytest.mark.parametrize(
    ("source", "param"),
    [
        ({"type": "file", "file_id": "file_011CPdf"}, "source.type"),
        ({"type": "content", "content": [{"type": "text", "text": "x"}]}, "source.type"),
        ({"type": "base64", "media_type": "image/png", "data": "iVBOR"}, "source.media_type"),
        ({"type": "base64", "media_type": "application/pdf"}, "source.data"),
        ({"type": "url"}, "source.url"),
    ],
)
def test_anthropic_refuses_documents_it_cannot_carry(source: dict[str, Any], param: str) -> None:
    body = anthropic_body(
        user_turn({"type": "text", "text": "read"}, {"type": "document", "source": source})
    )
    with pytest.raises(WireFormatError) as caught:
        wire_anthropic.parse_request(body)
    assert caught.value.param == f"messages.0.content.1.{param}"


def test_anthropic_count_tokens_counts_pdf_pages() -> None:
    def count(*parts: Any) -> int:
        return wire_anthropic.count_tokens(request(user(*parts)))

    base = count(Text("x"))
    two_pages = base64.b64encode(make_pdf(2)).decode()
    page = wire_anthropic.PDF_PAGE_TOKENS
    assert count(Text("x"), Document(data=PDF_B64)) == base + page
    assert count(Text("x"), Document(data=two_pages)) == base + 2 * page
    assert count(Text("x"), Document(url=PDF_URL)) == base + page  # pages unknown: one
    assert count(Text("x"), Document(data="not base64!")) == base + page


# ---- OpenAI ---------------------------------------------------------------------------


def file_part(file: Any) -> dict[str, Any]:
    return {"type": "file", "file": file}


def openai_body(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"model": "m", "messages": list(messages)}


def test_openai_reads_file_parts() -> None:
    body = openai_body(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Summarise both."},
                file_part({"filename": "q3-report.pdf", "file_data": DATA_URL}),
                file_part({"file_data": PDF_B64}),  # raw base64, as some clients send
            ],
        }
    )
    assert wire_openai.parse_request(body).messages[0].content == [
        Text("Summarise both."),
        Document(data=PDF_B64, title="q3-report.pdf"),
        Document(data=PDF_B64),
    ]


def test_openai_reads_file_parts_in_tool_messages() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "fetch", "arguments": "{}"}}
    body = openai_body(
        {"role": "user", "content": "fetch it"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": [file_part({"file_data": DATA_URL})]},
    )
    parsed = wire_openai.parse_request(body)
    assert parsed.messages[2].content == [
        ToolResult("call_1", [Document(data=PDF_B64)], name="fetch")
    ]


def test_openai_round_trip_of_documents() -> None:
    chat = request(user(Text("read"), Document(data=PDF_B64, title="q3-report.pdf")))
    built = valid_openai(wire_openai.build_request(chat))
    assert built["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "read"},
                {"type": "file", "file": {"filename": "q3-report.pdf", "file_data": DATA_URL}},
            ],
        }
    ]
    assert wire_openai.parse_request(built) == chat


@pytest.mark.parametrize(
    ("document", "filename"),
    [
        (Document(data=PDF_B64), "document.pdf"),  # OpenAI refuses file_data without a name
        (Document(data=PDF_B64, title="Q3 report"), "Q3 report.pdf"),
        (Document(data=PDF_B64, title="SCAN.PDF"), "SCAN.PDF"),
    ],
)
def test_openai_file_parts_always_carry_a_pdf_file_name(document: Document, filename: str) -> None:
    built = valid_openai(wire_openai.build_request(request(user(document))))
    assert built["messages"][0]["content"] == [
        {"type": "file", "file": {"filename": filename, "file_data": DATA_URL}}
    ]


@pytest.mark.parametrize(
    ("message", "param", "words"),
    [
        (
            {"role": "user", "content": [file_part({"file_id": "file-6F2ksmvXxt4VdoqmHRw6kL"})]},
            "messages.0.content.0.file.file_id",
            "file_id",
        ),
        (
            {"role": "user", "content": [file_part({"file_data": "data:text/plain;base64,aGk="})]},
            "messages.0.content.0.file.file_data",
            "'text/plain'",
        ),
        (
            {"role": "user", "content": [file_part({"file_data": "data:application/pdf,%PDF"})]},
            "messages.0.content.0.file.file_data",
            "base64",
        ),
        (
            {"role": "user", "content": [file_part({})]},
            "messages.0.content.0.file.file_data",
            "file_data",
        ),
        (
            {"role": "user", "content": [file_part("x.pdf")]},
            "messages.0.content.0.file",
            "object",
        ),
        (
            {"role": "user", "content": [file_part({"file_data": DATA_URL, "filename": 3})]},
            "messages.0.content.0.file.filename",
            "string",
        ),
        (
            {"role": "system", "content": [file_part({"file_data": DATA_URL})]},
            "messages.0.content.0.type",
            "role",
        ),
        (
            {"role": "assistant", "content": [file_part({"file_data": DATA_URL})]},
            "messages.0.content.0.type",
            "role",
        ),
    ],
)
def test_openai_refuses_file_parts_it_cannot_carry(
    message: dict[str, Any], param: str, words: str
) -> None:
    with pytest.raises(WireFormatError) as caught:
        wire_openai.parse_request(openai_body(message))
    assert caught.value.param == param
    assert words in str(caught.value)


def test_openai_refuses_a_document_by_url_rather_than_fetching_it() -> None:
    error = refusal(
        wire_openai.build_request,
        request(user(Text("hi")), assistant(Text("ok")), user(Document(url=PDF_URL))),
    )
    assert error.param == "messages.2.content"
    assert "messages.2" in str(error) and "does not fetch" in str(error)
    assert "base64" in str(error)


def test_openai_moves_documents_from_tool_results_into_a_user_message() -> None:
    chat = request(
        assistant(ToolCall("toolu_01Pdf", "fetch", {})),
        user(ToolResult("toolu_01Pdf", [Text("the file"), Document(data=PDF_B64)])),
    )
    built = valid_openai(wire_openai.build_request(chat))
    assert built["messages"][1:] == [
        {"role": "tool", "tool_call_id": "toolu_01Pdf", "content": "the file"},
        {
            "role": "user",
            "content": [
                {"type": "file", "file": {"filename": "document.pdf", "file_data": DATA_URL}}
            ],
        },
    ]


def test_openai_refuses_documents_in_assistant_messages() -> None:
    error = refusal(wire_openai.build_request, request(assistant(Document(data=PDF_B64))))
    assert error.param == "messages.0.content" and "assistant" in str(error)


# ---- Gemini ---------------------------------------------------------------------------


def gemini_parse(*parts: dict[str, Any]) -> list[Any]:
    body = {"contents": [{"role": "user", "parts": list(parts)}]}
    return wire_gemini.parse_request(body, model="gemini-2.5-flash").messages[0].content


def test_gemini_reads_media_by_mime_type() -> None:
    files_uri = "https://generativelanguage.googleapis.com/v1beta/files/8k2ojz3x5m1d"
    assert gemini_parse(
        {"text": "read"},
        {"inlineData": {"mimeType": "application/pdf", "data": PDF_B64}},
        {"inline_data": {"mime_type": "image/png", "data": "iVBOR"}},
        {"fileData": {"mimeType": "application/pdf", "fileUri": files_uri}},
        {"fileData": {"fileUri": "gs://bucket/q3-report.pdf"}},  # no type: by extension
        {"fileData": {"fileUri": "gs://bucket/photo"}},  # no type: an image, as before
    ) == [
        Text("read"),
        Document(data=PDF_B64),
        Image("image/png", "iVBOR"),
        Document(url=files_uri),
        Document(url="gs://bucket/q3-report.pdf"),
        Image(url="gs://bucket/photo"),
    ]


@pytest.mark.parametrize(
    ("part", "param", "mime"),
    [
        (
            {"inlineData": {"mimeType": "audio/wav", "data": "UklGR"}},
            "inlineData.mimeType",
            "audio/wav",
        ),
        (
            {"fileData": {"mimeType": "video/mp4", "fileUri": "https://youtu.be/dQw4w9WgXcQ"}},
            "fileData.mimeType",
            "video/mp4",
        ),
        (
            {"inlineData": {"mimeType": "text/csv", "data": "YSxi"}},
            "inlineData.mimeType",
            "text/csv",
        ),
    ],
)
def test_gemini_refuses_media_that_is_neither_image_nor_pdf(
    part: dict[str, Any], param: str, mime: str
) -> None:
    with pytest.raises(WireFormatError) as caught:
        gemini_parse({"text": "listen"}, part)
    assert caught.value.param == f"contents[0].parts[1].{param}"
    assert repr(mime) in str(caught.value) and "contents[0].parts[1]" in str(caught.value)


def test_gemini_builds_documents_and_round_trips() -> None:
    chat = ChatRequest(
        "gemini-2.5-flash",
        [user(Text("compare"), Document(data=PDF_B64), Document(url="gs://bucket/q2.pdf"))],
    )
    body = wire_gemini.build_request(chat)
    assert body["contents"][0]["parts"] == [
        {"text": "compare"},
        {"inlineData": {"mimeType": "application/pdf", "data": PDF_B64}},
        {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://bucket/q2.pdf"}},
    ]
    assert wire_gemini.parse_request(body, model="gemini-2.5-flash") == chat


def test_gemini_reads_a_data_url_document_as_inline_data() -> None:
    assert gemini_parse({"fileData": {"fileUri": DATA_URL}}) == [Document(data=PDF_B64)]
    body = wire_gemini.build_request(request(user(Document(data=PDF_B64, title="ignored"))))
    assert body["contents"][0]["parts"] == [
        {"inlineData": {"mimeType": "application/pdf", "data": PDF_B64}}
    ]


def test_gemini_sends_documents_from_tool_results_beside_the_function_response() -> None:
    chat = request(
        user(Text("fetch")),
        assistant(ToolCall("call_1", "fetch", {})),
        user(ToolResult("call_1", [Text("done"), Document(data=PDF_B64)], name="fetch")),
    )
    built = wire_gemini.build_request(chat)
    assert built["contents"][2]["parts"] == [
        {"functionResponse": {"name": "fetch", "response": {"result": "done"}}},
        {"inlineData": {"mimeType": "application/pdf", "data": PDF_B64}},
    ]


# ---- across formats -------------------------------------------------------------------


def test_claude_code_pdf_read_to_openai() -> None:
    chat = wire_anthropic.parse_request(CLAUDE_CODE_READ)
    built = valid_openai(wire_openai.build_request(chat))
    assert built["messages"][2:] == [
        {
            "role": "tool",
            "tool_call_id": "toolu_01Pdf",
            "content": "PDF file read: /repo/docs/q3-report.pdf (327 bytes)",
        },
        {
            "role": "user",
            "content": [
                {"type": "file", "file": {"filename": "document.pdf", "file_data": DATA_URL}}
            ],
        },
    ]


def test_claude_code_pdf_read_to_gemini() -> None:
    chat = wire_anthropic.parse_request(CLAUDE_CODE_READ)
    contents = wire_gemini.build_request(chat)["contents"]
    assert contents[2] == {
        "role": "user",
        "parts": [
            {
                "functionResponse": {
                    "name": "Read",
                    "response": {"result": "PDF file read: /repo/docs/q3-report.pdf (327 bytes)"},
                }
            },
            {"inlineData": {"mimeType": "application/pdf", "data": PDF_B64}},
        ],
    }


def test_anthropic_url_document_to_openai_is_refused_and_to_gemini_is_file_data() -> None:
    chat = wire_anthropic.parse_request(
        anthropic_body(user_turn({"type": "text", "text": "read"}, URL_BLOCK))
    )
    assert refusal(wire_openai.build_request, chat).param == "messages.0.content"
    parts = wire_gemini.build_request(chat)["contents"][0]["parts"]
    assert parts[1] == {"fileData": {"mimeType": "application/pdf", "fileUri": PDF_URL}}


def test_anthropic_document_in_a_tool_result_reaches_every_format() -> None:
    body = anthropic_body(
        user_turn({"type": "text", "text": "fetch the report"}),
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "fetch"}]},
        user_turn({"type": "tool_result", "tool_use_id": "t1", "content": [BASE64_BLOCK]}),
    )
    chat = wire_anthropic.parse_request(body)
    to_openai = valid_openai(wire_openai.build_request(chat))
    assert to_openai["messages"][-1]["content"][0]["file"]["file_data"] == DATA_URL
    to_gemini = wire_gemini.build_request(chat)
    assert {"inlineData": {"mimeType": "application/pdf", "data": PDF_B64}} in (
        to_gemini["contents"][-1]["parts"]
    )
    valid_anthropic(wire_anthropic.build_request(chat))


def test_openai_file_to_anthropic_and_gemini() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "fetch", "arguments": "{}"}}
    body = openai_body(
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Summarise"},
                file_part({"filename": "q3-report.pdf", "file_data": DATA_URL}),
            ],
        },
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": [file_part({"file_data": DATA_URL})]},
    )
    chat = wire_openai.parse_request(body)
    built = valid_anthropic(wire_anthropic.build_request(chat))
    document = {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_B64},
    }
    assert built["messages"][0]["content"][1] == {**document, "title": "q3-report.pdf"}
    assert built["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": [document]}
    ]
    first = wire_gemini.build_request(ChatRequest("m", chat.messages[:1]))["contents"][0]
    assert first["parts"][1] == {"inlineData": {"mimeType": "application/pdf", "data": PDF_B64}}


def test_gemini_pdf_to_openai_and_anthropic() -> None:
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "Summarise"},
                    {"inlineData": {"mimeType": "application/pdf", "data": PDF_B64}},
                ],
            }
        ]
    }
    chat = wire_gemini.parse_request(body, model="m")
    openai_parts = valid_openai(wire_openai.build_request(chat))["messages"][0]["content"]
    assert openai_parts[1] == {
        "type": "file",
        "file": {"filename": "document.pdf", "file_data": DATA_URL},
    }
    anthropic_blocks = valid_anthropic(wire_anthropic.build_request(chat))["messages"][0]["content"]
    assert anthropic_blocks[1]["source"]["data"] == PDF_B64
