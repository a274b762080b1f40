"""PDF documents through the real gateway: what the official SDKs send arrives at the
upstream in its own format, or is refused with a 400 that says what to do."""

from __future__ import annotations

import base64
from typing import Any

import anthropic
import openai
import pytest

from .conftest import GATEWAY_KEY, Stack

# A minimal one-page PDF (catalog, page tree, page, xref table).
PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>\nendobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n"
    b"0000000115 00000 n \ntrailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n184\n%%EOF\n"
)
PDF_B64 = base64.b64encode(PDF).decode()
DOCUMENT = {
    "type": "document",
    "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_B64},
    "title": "q3-report.pdf",
}


def ant(stack: Stack) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=stack.url, api_key=GATEWAY_KEY, max_retries=0)


def last_upstream_body(stack: Stack, path_end: str) -> dict[str, Any]:
    requests = [r for r in stack.upstream.simulator.requests if r.path.endswith(path_end)]
    assert requests, f"no upstream request to …{path_end}"
    return requests[-1].json


def test_the_pdf_is_well_formed() -> None:
    """Its xref table points at each object and startxref at the table."""
    table = PDF[PDF.index(b"xref") :].split(b"\n")[3:6]
    for number, entry in enumerate(table, 1):
        assert PDF[int(entry[:10]) :].startswith(b"%d 0 obj" % number)
    assert PDF.index(b"xref") == int(PDF.split(b"startxref\n")[1].split(b"\n")[0])


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_sdk_pdf_reaches_an_openai_upstream_as_a_file_part(
    stack: Stack, stream: bool
) -> None:
    messages: Any = [{"role": "user", "content": [{"type": "text", "text": "summarise"}, DOCUMENT]}]
    with ant(stack) as client:
        if stream:
            with client.messages.stream(
                model="up-openai:sim-chat", max_tokens=100, messages=messages
            ) as events:
                reply = events.get_final_message()
        else:
            reply = client.messages.create(
                model="up-openai:sim-chat", max_tokens=100, messages=messages
            )
    assert "summarise" in reply.content[0].text  # type: ignore[union-attr]
    upstream = last_upstream_body(stack, "/chat/completions")
    assert upstream["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "summarise"},
                {
                    "type": "file",
                    "file": {
                        "filename": "q3-report.pdf",
                        "file_data": f"data:application/pdf;base64,{PDF_B64}",
                    },
                },
            ],
        }
    ]


def test_anthropic_sdk_pdf_reaches_a_gemini_upstream_as_inline_data(stack: Stack) -> None:
    with ant(stack) as client:
        client.messages.create(
            model="up-gemini:sim-chat",
            max_tokens=100,
            messages=[{"role": "user", "content": [DOCUMENT, {"type": "text", "text": "sum"}]}],
        )
    upstream = last_upstream_body(stack, ":generateContent")
    assert upstream["contents"][0]["parts"][0] == {
        "inlineData": {"mimeType": "application/pdf", "data": PDF_B64}
    }


def test_claude_code_pdf_read_reaches_an_openai_upstream_after_the_tool_message(
    stack: Stack,
) -> None:
    """Claude Code's Read tool returns a PDF inside its tool_result."""
    messages: Any = [
        {"role": "user", "content": "read the report"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Read"}]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "PDF read"}, DOCUMENT],
                }
            ],
        },
    ]
    with ant(stack) as client:
        client.messages.create(model="up-openai:sim-chat", max_tokens=100, messages=messages)
    upstream = last_upstream_body(stack, "/chat/completions")
    tool, after = upstream["messages"][-2:]
    assert tool == {"role": "tool", "tool_call_id": "toolu_1", "content": "PDF read"}
    assert after["role"] == "user" and after["content"][0]["type"] == "file"
    assert after["content"][0]["file"]["file_data"].endswith(PDF_B64)


def test_openai_sdk_file_part_reaches_an_anthropic_upstream_as_a_document(stack: Stack) -> None:
    with openai.OpenAI(base_url=f"{stack.url}/v1", api_key=GATEWAY_KEY, max_retries=0) as client:
        client.chat.completions.create(
            model="up-anthropic:sim-chat",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "summarise"},
                        {
                            "type": "file",
                            "file": {
                                "filename": "q3-report.pdf",
                                "file_data": f"data:application/pdf;base64,{PDF_B64}",
                            },
                        },
                    ],
                }
            ],
        )
    upstream = last_upstream_body(stack, "/v1/messages")
    assert upstream["messages"][0]["content"][1] == DOCUMENT
