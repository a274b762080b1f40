"""The OpenAPI document and the offline Swagger UI page."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from pydantic import BaseModel
from quart import Quart

from cherry_nb.gateway import schemas
from cherry_nb.gateway.docs import SWAGGER_UI_DIR, docs_blueprint
from cherry_nb.gateway.openapi import build_openapi
from cherry_nb.gateway.openapi_downgrade import openapi_30

ROUTES = {
    "/": {"get"},
    "/health": {"get"},
    "/api-docs": {"get"},
    "/api-docs.json": {"get"},
    "/v1/models": {"get"},
    "/metrics": {"get"},
    "/v1/chat/completions": {"post"},
    "/v1/responses": {"post"},
    "/{provider_id}/v1/responses": {"post"},
    "/v1/responses/input_tokens": {"post"},
    "/{provider_id}/v1/responses/input_tokens": {"post"},
    "/v1/messages": {"post"},
    "/v1/messages/count_tokens": {"post"},
    "/{provider_id}/v1/messages": {"post"},
    "/{provider_id}/v1/messages/count_tokens": {"post"},
    "/v1/embeddings": {"post"},
    "/{provider_id}/v1/embeddings": {"post"},
}
NO_AUTH = {"/", "/health", "/api-docs", "/api-docs.json"}
ERROR_STATUSES = {"400", "401", "403", "404", "413", "429", "500", "502", "504"}


@pytest.fixture
def doc() -> dict[str, Any]:
    return build_openapi(version="1.2.3")


def _walk(node: Any):
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = doc["components"][kind][name]
    return node


# ---- the document -------------------------------------------------------------------------


def test_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["version"] == "1.2.3"
    validate(doc)
    json.dumps(doc)  # plain JSON


def test_document_is_cached_per_version_and_server(doc: dict[str, Any]) -> None:
    assert build_openapi(version="1.2.3") is doc
    other = build_openapi(version="1.2.3", server_url="http://127.0.0.1:23333/")
    assert other is not doc
    assert other["servers"] == [{"url": "http://127.0.0.1:23333"}]
    assert "servers" not in doc
    validate(other)


def test_every_route_is_documented_with_its_methods(doc: dict[str, Any]) -> None:
    methods = {"get", "post", "put", "patch", "delete", "head", "options"}
    documented = {path: set(item) & methods for path, item in doc["paths"].items()}
    assert documented == ROUTES
    for path, item in doc["paths"].items():
        for method in ROUTES[path]:
            op = item[method]
            assert op["summary"] and op["description"] and op["operationId"], (path, method)
            assert "200" in op["responses"]


def test_auth_schemes_and_which_routes_need_them(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyAuth"]["type"] == "apiKey"
    assert schemes["apiKeyAuth"]["in"] == "header"
    assert schemes["apiKeyAuth"]["name"].lower() == "x-api-key"
    for path, methods in ROUTES.items():
        for method in methods:
            security = doc["paths"][path][method]["security"]
            if path in NO_AUTH:
                assert security == [], path
            else:
                assert {"bearerAuth": []} in security and {"apiKeyAuth": []} in security, path


def test_request_bodies_are_the_validating_models(doc: dict[str, Any]) -> None:
    components = doc["components"]["schemas"]
    expected = {
        "/v1/chat/completions": schemas.ChatCompletionRequest,
        "/v1/responses": schemas.ResponsesRequest,
        "/{provider_id}/v1/responses": schemas.ResponsesRequest,
        "/v1/responses/input_tokens": schemas.ResponsesRequest,
        "/{provider_id}/v1/responses/input_tokens": schemas.ResponsesRequest,
        "/v1/messages": schemas.MessagesRequest,
        "/{provider_id}/v1/messages": schemas.MessagesRequest,
        "/v1/messages/count_tokens": schemas.CountTokensRequest,
        "/{provider_id}/v1/messages/count_tokens": schemas.CountTokensRequest,
        "/v1/embeddings": schemas.EmbeddingsRequest,
        "/{provider_id}/v1/embeddings": schemas.EmbeddingsRequest,
    }
    for path, model in expected.items():
        body = doc["paths"][path]["post"]["requestBody"]
        assert body["required"] is True
        media = body["content"]["application/json"]
        assert media["schema"] == {"$ref": f"#/components/schemas/{model.__name__}"}
        # The schema is the model's own, and the example is a body the model accepts.
        assert components[model.__name__]["properties"].keys() == model.model_fields.keys() - {
            "schema_"
        }
        model.model_validate(media["example"])
    required = components["MessagesRequest"]["required"]
    assert {"model", "messages", "max_tokens"} <= set(required)
    assert "max_tokens" not in components["CountTokensRequest"].get("required", [])
    assert components["ChatCompletionRequest"]["additionalProperties"] is True
    temperature = json.dumps(components["ChatCompletionRequest"]["properties"]["temperature"])
    assert '"maximum": 2' in temperature and '"minimum": 0' in temperature


def test_every_documented_property_has_a_description(doc: dict[str, Any]) -> None:
    missing = [
        f"{name}.{prop}"
        for name, schema in doc["components"]["schemas"].items()
        for prop, sub in schema.get("properties", {}).items()
        if not sub.get("description")
    ]
    assert missing == []
    for name, schema in doc["components"]["schemas"].items():
        assert schema.get("description"), name


def test_responses_and_error_envelopes_per_route_family(doc: dict[str, Any]) -> None:
    openai_envelope = "#/components/schemas/OpenAIErrorEnvelope"
    anthropic_envelope = "#/components/schemas/AnthropicErrorEnvelope"
    families = {
        "/v1/chat/completions": openai_envelope,
        "/v1/responses": openai_envelope,
        "/{provider_id}/v1/responses": openai_envelope,
        "/v1/responses/input_tokens": openai_envelope,
        "/{provider_id}/v1/responses/input_tokens": openai_envelope,
        "/v1/models": openai_envelope,
        "/v1/messages": anthropic_envelope,
        "/v1/messages/count_tokens": anthropic_envelope,
        "/{provider_id}/v1/messages": anthropic_envelope,
        "/{provider_id}/v1/messages/count_tokens": anthropic_envelope,
        "/v1/embeddings": openai_envelope,
        "/{provider_id}/v1/embeddings": openai_envelope,
    }
    for path, envelope in families.items():
        (method,) = ROUTES[path]
        responses = doc["paths"][path][method]["responses"]
        errors = {code for code in responses if code != "200"}
        if path != "/v1/models":
            assert errors == ERROR_STATUSES, path
        assert errors and errors <= ERROR_STATUSES
        for code in errors:
            response = _resolve(doc, responses[code])
            assert response["description"]
            media = response["content"]["application/json"]
            assert media["schema"] == {"$ref": envelope}, (path, code)
            model = (
                schemas.OpenAIErrorEnvelope
                if envelope == openai_envelope
                else schemas.AnthropicErrorEnvelope
            )
            model.model_validate(media["example"])
    assert (
        _resolve(doc, doc["paths"]["/v1/messages"]["post"]["responses"]["413"])["content"][
            "application/json"
        ]["example"]["error"]["type"]
        == "request_too_large"
    )


STREAMS = {
    "/v1/chat/completions": "ChatCompletionChunk",
    "/v1/responses": "ResponseStreamEvent",
    "/{provider_id}/v1/responses": "ResponseStreamEvent",
    "/v1/messages": "MessageStreamEvent",
    "/{provider_id}/v1/messages": "MessageStreamEvent",
}


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema validator for `schema`, resolving the document's `$ref`s."""
    return Draft202012Validator({**schema, "components": doc["components"]})


def _event_data_schema(doc: dict[str, Any], event_schema: dict[str, Any], data: str) -> Any:
    """The contentSchema that applies to an event's `data` (None for `[DONE]`)."""
    prop = event_schema["properties"]["data"]
    if "if" in prop:
        if _validator(doc, prop["if"]).is_valid(data):
            return None
        prop = prop["else"]
    assert prop["contentMediaType"] == "application/json"
    return prop["contentSchema"]


def test_streaming_routes_document_one_event_with_json_data(doc: dict[str, Any]) -> None:
    for path, event in STREAMS.items():
        content = doc["paths"][path]["post"]["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/event-stream"}
        sse = content["text/event-stream"]
        # One event, as OpenAPI 3.1 tools read an event stream's schema: its `data` is a
        # string of JSON whose schema contentSchema gives.
        schema = sse["schema"]
        assert schema["type"] == "object" and "data" in schema["required"]
        assert event in schema["description"]
        assert schema["properties"]["data"]["type"] == "string"
        content_schema = _event_data_schema(doc, schema, "{}")
        ref = {"$ref": f"#/components/schemas/{event}"}
        assert ref in content_schema.get("anyOf", [content_schema])
        assert event in doc["components"]["schemas"]
    chat = doc["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
    assert chat["application/json"]["schema"]["$ref"].endswith("/ChatCompletion")
    count = doc["paths"]["/v1/messages/count_tokens"]["post"]["responses"]["200"]["content"]
    assert set(count) == {"application/json"}


def test_message_stream_event_names_are_the_event_types(doc: dict[str, Any]) -> None:
    sse = doc["paths"]["/v1/messages"]["post"]["responses"]["200"]["content"]["text/event-stream"]
    assert "event" in sse["schema"]["required"]
    names = sse["schema"]["properties"]["event"]["enum"]
    union = doc["components"]["schemas"]["MessageStreamEvent"]["anyOf"]
    types = [_resolve(doc, member)["properties"]["type"]["const"] for member in union]
    assert names == types == list(schemas.MESSAGE_STREAM_EVENT_TYPES)
    assert len(types) == 8 and "ping" in types and "error" in types


def test_stream_examples_are_events_the_schema_accepts(doc: dict[str, Any]) -> None:
    """Each example is one event: its fields fit the event schema, its data the models."""
    models: dict[str, type[BaseModel]] = {
        "ChatCompletionChunk": schemas.ChatCompletionChunk,
        "MessageStreamEvent": schemas.MessageStreamEvent,
        "ResponseStreamEvent": schemas.ResponseStreamEvent,
    }
    for path, event in STREAMS.items():
        sse = doc["paths"][path]["post"]["responses"]["200"]["content"]["text/event-stream"]
        assert "example" not in sse
        examples = [example["value"] for example in sse["examples"].values()]
        assert all(example["summary"] for example in sse["examples"].values())
        for value in examples:
            _validator(doc, sse["schema"]).validate(value)
            content_schema = _event_data_schema(doc, sse["schema"], value["data"])
            if content_schema is None:
                continue
            data = json.loads(value["data"])
            _validator(doc, content_schema).validate(data)
            models[event].model_validate(data)
            if "event" in value:
                assert value["event"] == data["type"]
        if path == "/v1/chat/completions":
            assert [value["data"] for value in examples][-1] == "[DONE]"
        elif event == "ResponseStreamEvent":
            assert [value["event"] for value in examples] == [
                "response.created",
                "response.output_text.delta",
                "response.completed",
            ]
            assert [json.loads(value["data"])["sequence_number"] for value in examples] == [
                0,
                1,
                2,
            ]
            assert {value["event"] for value in examples} <= set(
                schemas.RESPONSE_STREAM_EVENT_TYPES
            )
        else:
            assert [value["event"] for value in examples] == [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop",
            ]


def test_stream_schema_refuses_data_of_the_wrong_shape(doc: dict[str, Any]) -> None:
    sse = doc["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"][
        "text/event-stream"
    ]
    chunk = json.loads(sse["examples"]["first"]["value"]["data"])
    content_schema = _event_data_schema(doc, sse["schema"], json.dumps(chunk))
    assert _validator(doc, content_schema).is_valid(chunk)
    assert not _validator(doc, content_schema).is_valid({**chunk, "object": "chat.completion"})
    assert not _validator(doc, content_schema).is_valid({**chunk, "choices": None})
    assert _validator(doc, content_schema).is_valid(
        {"error": {"message": "x", "type": "api_error"}}
    )
    azure = {"id": "", "object": "", "created": 0, "model": "", "choices": []}
    assert not _validator(doc, content_schema).is_valid(azure)
    assert _validator(doc, content_schema).is_valid({**azure, "prompt_filter_results": []})
    assert not _validator(doc, sse["schema"]).is_valid({"event": "message"})


def test_models_query_parameters(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/v1/models"]["get"]
    params = {p["name"]: p for p in op["parameters"]}
    assert set(params) == {"providerType", "limit", "offset"}
    assert all(p["in"] == "query" and p["required"] is False for p in params.values())
    assert params["providerType"]["schema"]["enum"] == [
        "openai",
        "anthropic",
        "gemini",
        "azure-openai",
        "openai-response",
    ]
    assert params["limit"]["schema"] == {"type": "integer", "minimum": 1}
    assert params["offset"]["schema"]["minimum"] == 0
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ModelList"
    )
    model = doc["components"]["schemas"]["Model"]
    assert set(model["required"]) == {
        "id",
        "object",
        "name",
        "created",
        "owned_by",
        "provider",
        "provider_name",
        "provider_type",
        "provider_model_id",
    }


def test_provider_routes_take_the_provider_id_path_parameter(doc: dict[str, Any]) -> None:
    for path in (
        "/{provider_id}/v1/messages",
        "/{provider_id}/v1/messages/count_tokens",
        "/{provider_id}/v1/embeddings",
    ):
        params = doc["paths"][path]["post"]["parameters"]
        (provider,) = [p for p in params if p["in"] == "path"]
        assert provider["name"] == "provider_id" and provider["required"] is True


def test_embeddings_are_documented_with_their_reply(doc: dict[str, Any]) -> None:
    components = doc["components"]["schemas"]
    request = components["EmbeddingsRequest"]
    assert set(request["required"]) == {"model", "input"}
    assert request["properties"]["encoding_format"]["anyOf"][0]["enum"] == ["float", "base64"]
    for path in ("/v1/embeddings", "/{provider_id}/v1/embeddings"):
        content = doc["paths"][path]["post"]["responses"]["200"]["content"]
        assert set(content) == {"application/json"}
        assert content["application/json"]["schema"]["$ref"].endswith("/EmbeddingList")
    reply = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -0.5]}],
        "model": "m",
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }
    schema = {"$ref": "#/components/schemas/EmbeddingList"}
    assert _validator(doc, schema).is_valid(reply)
    reply["data"][0]["embedding"] = "AAAAPwAAAL8="  # type: ignore[index]
    assert _validator(doc, schema).is_valid(reply)
    reply["data"][0]["embedding"] = None  # type: ignore[index]
    assert not _validator(doc, schema).is_valid(reply)


def test_openapi_30_view_is_valid_and_has_no_3_1_keywords(doc: dict[str, Any]) -> None:
    before = json.dumps(doc, sort_keys=True)
    old = openapi_30(doc)
    assert json.dumps(doc, sort_keys=True) == before  # the cached 3.1 document is untouched
    assert old["openapi"] == "3.0.3"
    validate(old)
    for node in _walk(old["components"]["schemas"]):
        if isinstance(node, dict):
            assert node.get("type") != "null"
            assert "const" not in node and "examples" not in node
            assert not ("$ref" in node and len(node) > 1), node
    for path in STREAMS:
        sse = old["paths"][path]["post"]["responses"]["200"]["content"]["text/event-stream"]
        # 3.0 has no content keywords: the event's data is a string its description explains.
        assert sse["schema"]["properties"]["data"] == {
            "type": "string",
            "description": sse["schema"]["properties"]["data"]["description"],
        }
        assert sse["examples"]
    request = old["components"]["schemas"]["ChatCompletionRequest"]["properties"]
    assert request["temperature"]["nullable"] is True
    assert request["temperature"]["maximum"] == 2
    assert request["stream_options"] == {
        "allOf": [{"$ref": "#/components/schemas/StreamOptions"}],
        "nullable": True,
        "default": None,
        "description": request["stream_options"]["description"],
    }


# ---- the docs page ---------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append((tag, value))


@pytest.fixture
def app() -> Quart:
    app = Quart(__name__)
    app.register_blueprint(docs_blueprint(get_openapi=lambda: build_openapi(version="1.2.3")))
    return app


async def test_docs_page_loads_only_local_assets(app: Quart) -> None:
    client = app.test_client()
    response = await client.get("/api-docs")
    assert response.status_code == 200
    assert response.content_type.startswith("text/html")
    page = await response.get_data(as_text=True)
    assert '<div id="swagger-ui">' in page
    # No URL to another host anywhere in the page: no CDN, nothing fetched from outside.
    assert re.findall(r"(?i)(?:https?:)?//[a-z0-9.\-]+", page.replace("<!DOCTYPE", "")) == []
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp

    parser = _Links()
    parser.feed(page)
    urls = dict((url.split("?")[0], tag) for tag, url in parser.urls)
    # Relative, so the page also works behind a path prefix (jupyter-server-proxy).
    assert not any(url.startswith(("/", "http:", "https:", "//")) for url in urls)
    for name in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f"api-docs/static/{name}" in urls, name

    expected_types = {"script": "text/javascript", "link": None, "a": "application/json"}
    for tag, relative in parser.urls:
        url = urljoin("/api-docs", relative)  # as the browser resolves it
        asset = await client.get(url)
        assert asset.status_code == 200, url
        data = await asset.get_data()
        assert data, url
        kind = expected_types[tag] or (
            "text/css" if url.split("?")[0].endswith(".css") else "image/png"
        )
        assert asset.content_type.split(";")[0] == kind, (url, asset.content_type)
        if "/static/" in url:
            assert asset.headers["X-Content-Type-Options"] == "nosniff"
            assert "max-age=31536000" in asset.headers["Cache-Control"]
            assert data == (SWAGGER_UI_DIR / url.split("?")[0].rsplit("/", 1)[1]).read_bytes()


async def test_page_initialises_swagger_ui_offline_with_the_3_0_view(app: Quart) -> None:
    client = app.test_client()
    script = await (await client.get("/api-docs/swagger-init.js")).get_data(as_text=True)
    assert "SwaggerUIBundle(" in script and "SwaggerUIStandalonePreset" in script
    assert '"validatorUrl": null' in script  # no calls to validator.swagger.io
    assert "http" not in script
    (spec_url,) = re.findall(r'"url": "([^"]+)"', script)
    response = await client.get(spec_url)
    assert response.status_code == 200
    spec = json.loads(await response.get_data())
    assert spec["openapi"].startswith("3.0.")  # what Swagger UI 4 can render
    validate(spec)


async def test_openapi_json_route_serves_the_document(app: Quart) -> None:
    client = app.test_client()
    response = await client.get("/api-docs.json")
    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert json.loads(await response.get_data()) == build_openapi(version="1.2.3")
    again = await client.get("/api-docs.json")
    assert await again.get_data() == await response.get_data()


async def test_default_blueprint_documents_this_package() -> None:
    from cherry_nb._version import __version__

    app = Quart(__name__)
    app.register_blueprint(docs_blueprint(openapi_json_url="/openapi.json"))
    client = app.test_client()
    doc = json.loads(await (await client.get("/openapi.json")).get_data())
    assert doc["info"]["version"] == __version__
    page = await (await client.get("/api-docs")).get_data(as_text=True)
    assert 'href="openapi.json"' in page
    assert (await client.get("/api-docs.json")).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        # swagger_ui_bundle/__init__.py exists two levels up from the assets folder.
        "/api-docs/static/../../__init__.py",
        "/api-docs/static/..%2F..%2F__init__.py",
        "/api-docs/static/%2e%2e/%2e%2e/__init__.py",
        "/api-docs/static/%2E%2E%2F%2E%2E%2F__init__.py",
        "/api-docs/static/..%5C..%5C__init__.py",
        "/api-docs/static/..\\..\\__init__.py",
        "/api-docs/static/./../../__init__.py",
        "/api-docs/static/swagger-ui.css/../../../__init__.py",
        "/api-docs/static/../../../../../../../../etc/passwd",
        "/api-docs/static/swagger-initializer.js",  # in the folder, but not served
        "/api-docs/static/index.j2",
        "/api-docs/static/nope.js",
    ],
)
async def test_static_route_refuses_anything_but_its_assets(app: Quart, path: str) -> None:
    response = await app.test_client().get(path)
    assert response.status_code == 404
    body = await response.get_data()
    assert b"swagger_ui_path" not in body and b"root:" not in body
