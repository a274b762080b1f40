"""Python functions as tools, images in the prompt, reasoning options: real kernels."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import plain, run_cells

WEATHER = '''
calls = []

def get_weather(city: str, unit: str = "C") -> str:
    """Current weather for a city.

    Args:
        city: The city's name.
        unit: C or F.
    """
    calls.append(city)
    return f"21 {unit} and sunny in {city}"
'''


def markdown_of(cell) -> str:
    return "\n".join(
        o.data["text/markdown"] for o in cell.outputs if "text/markdown" in o.get("data", {})
    )


def test_a_notebook_function_is_called_and_its_result_goes_back(nb_config, upstream):
    nb = run_cells(
        "%load_ext cherry_nb",
        WEATHER,
        "%%chat --tools get_weather\nUse get_weather for Paris, please.",
        "print(calls, _chat)",
        "%%chat\nAnd thanks.",
    )
    shown = markdown_of(nb.cells[2])
    assert "`get_weather(city='example')` → `21 C and sunny in example`" in shown
    assert "Tool get_weather returned: 21 C and sunny in example" in shown
    assert "1 tool call" in plain(nb.cells[2])
    assert plain(nb.cells[3]).startswith("['example'] Tool get_weather returned")
    chat_requests = [r.json for r in upstream.requests if r.path == "/v1/chat/completions"]
    first, second, third = chat_requests[-3:]
    tool = first["tools"][0]["function"]
    assert tool["name"] == "get_weather" and tool["description"] == "Current weather for a city."
    assert tool["parameters"]["properties"]["city"] == {
        "type": "string",
        "description": "The city's name.",
    }
    assert tool["parameters"]["required"] == ["city"]
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "tool"]
    assert second["messages"][2]["content"] == "21 C and sunny in example"
    # The next turn continues with the call and its result in the history.
    roles = [m["role"] for m in third["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant", "user"]


def test_tool_errors_limits_and_confirmation(nb_config, upstream):
    nb = run_cells(
        "%load_ext cherry_nb",
        WEATHER,
        "%%chat --tools nope\nhi",
        "%%chat --new --tools get_weather --max-steps 0\nUse get_weather now",
        "%%chat --new --tools get_weather --confirm\nUse get_weather now",
        "print(calls)",
        "%%chat -m sim:sim-chat -m ant:sim-chat --tools get_weather\nhi",
    )
    assert "No function named 'nope'" in plain(nb.cells[2])
    assert "Stopped at the step limit" in plain(nb.cells[3])
    # No front end to ask (nbclient has no stdin): the call is declined, not run.
    assert "declined" in markdown_of(nb.cells[4])
    assert plain(nb.cells[5]).strip() == "[]"
    assert "Tools work with one model" in plain(nb.cells[6])
    for cell in nb.cells[2:]:
        assert "Traceback" not in plain(cell)


def test_images_from_variables_and_files(nb_config, upstream, tmp_path: Path):
    picture = tmp_path / "dot.png"
    nb = run_cells(
        "%load_ext cherry_nb",
        "from PIL import Image\n"
        f"Image.new('RGB', (4, 4), 'red').save({str(picture)!r})\n"
        "img = Image.new('RGB', (8, 8), 'blue')",
        "%%chat\nWhat is in {img}? Compare with the file.\n",
        f"%%chat --new --image {picture}\nAnd this one?",
        "%%chat --new --image /nonexistent.png\nhi",
        "%%chat --new --image notes.txt\nhi",
    )
    assert "(2 images" not in plain(nb.cells[2]) and "1 image" in plain(nb.cells[2])
    assert "1 image" in plain(nb.cells[3])
    sent = [r.json for r in upstream.requests if r.path == "/v1/chat/completions"][-2]
    parts = sent["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url", "text"]
    assert parts[0]["text"] == "What is in" and parts[2]["text"].startswith("? Compare")
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert "Cannot send this prompt" in plain(nb.cells[4]) and "No such file" in plain(nb.cells[4])
    assert "PNG, JPEG, GIF or WebP" in plain(nb.cells[5])
    # Images are not written into the saved output (only the model's reply is).
    assert "base64" not in json.dumps(nb.cells[2].outputs)
