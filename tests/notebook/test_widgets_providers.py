"""The provider manager, driven through its widgets against a real simulator over HTTP."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import ipywidgets
import pytest

from cherry_nb.config.models import Provider
from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.diagnosis import Category
from cherry_nb.key_check import CheckResult
from cherry_nb.notebook.runtime import Runtime
from cherry_nb.notebook.widgets import ProviderManager, setup
from cherry_nb.notebook.widgets._common import (
    FAIL_COLOUR,
    OK_COLOUR,
    check_html,
    display_url,
    error_text,
    preview_html,
    provider_line_html,
)
from cherry_nb.simulator import DEFAULT_MODELS, EMBEDDING_MODELS, SimulatorThread

from .conftest import widgets_holding

SIM_KEY = "k-widgets-sim-0123456789"
SECRET = "sk-test-WIDGETSECRET0123456789"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorThread]:
    with SimulatorThread(api_key=SIM_KEY) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def open_sim() -> Iterator[SimulatorThread]:
    with SimulatorThread() as simulator:
        yield simulator


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(ProviderRegistry(tmp_path / "c.json"))
    yield rt
    rt.close()


@pytest.fixture
def manager(runtime: Runtime) -> Iterator[ProviderManager]:
    panel = ProviderManager(runtime, watch=False)  # refreshed by hand: no races in the test
    yield panel
    panel.close()


def fresh(runtime: Runtime) -> ProviderRegistry:
    """The config as saved in the file, read by a new registry."""
    return ProviderRegistry(runtime.registry.path)


def add_sim_provider(
    runtime: Runtime, sim: SimulatorThread, key: str = SIM_KEY, models: list[str] | None = None
) -> Provider:
    provider, _ = runtime.registry.add(
        id="sim",
        name="Sim",
        base_url=sim.base_url("openai"),
        api_key=key,
        models=["sim-chat"] if models is None else models,
    )
    return provider


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def visible(widget: ipywidgets.DOMWidget) -> bool:
    return widget.layout.display != "none"


# ---- pure helpers ------------------------------------------------------------------------


def test_preview_of_a_hand_typed_address_shows_the_request_url_and_the_notes() -> None:
    text = preview_html("http://127.0.0.1:8000/", "openai")
    assert "http://127.0.0.1:8000/v1/chat/completions" in text
    assert "Added /v1" in text
    assert "Dropped the trailing /" in text


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("127.0.0.1:8000", "Add http:// or https://"),
        ("ftp://example.com", "must start with http:// or https://"),
        ("http://host:99999", "port"),
        ("http://[::1", "cannot be parsed"),
    ],
)
def test_preview_of_invalid_input_is_the_error_text(typed: str, error: str) -> None:
    text = preview_html(typed, "openai")
    assert error in text
    assert FAIL_COLOUR in text and "Traceback" not in text


def test_preview_per_type() -> None:
    assert "/v1/messages" in preview_html("https://api.anthropic.com/v1", "anthropic")
    azure = preview_html("https://res.openai.azure.com", "azure-openai", "2025-01-01")
    assert "/openai/deployments/MODEL/chat/completions?api-version=2025-01-01" in azure
    placeholder = preview_html("https://YOUR-RESOURCE.openai.azure.com", "azure-openai")
    assert "placeholder YOUR-RESOURCE" in placeholder and FAIL_COLOUR in placeholder
    assert "enter the api address" in preview_html("  ", "openai").lower()


def test_preview_hides_credentials_in_the_address() -> None:
    text = preview_html("https://user:hunter2@relay.example.com/v1", "openai")
    assert "hunter2" not in text and "relay.example.com/v1/chat/completions" in text
    assert display_url("http://a:b@h:1/x") == "http://…@h:1/x"
    assert display_url("http://h/x") == "http://h/x"


def test_provider_line_shows_what_a_hand_written_address_calls() -> None:
    provider = Provider(id="vllm", base_url="http://user:pw@127.0.0.1:8000/")
    text = provider_line_html(provider)
    assert "calls http://…@127.0.0.1:8000/v1/chat/completions" in text
    assert "Added /v1" in text and "pw@" not in text
    broken = provider_line_html(Provider(id="b", base_url="localhost:8000"))
    assert "unusable base URL" in broken and "Add http:// or https://" in broken


def test_user_text_is_escaped() -> None:
    provider = Provider(id="x", name="<img src=x onerror=alert(1)>", base_url="http://h/v1")
    assert "<img" not in provider_line_html(provider)
    result = CheckResult("x", False, Category.BAD_KEY, 1.0, "✗ <b>bad</b>", hint="<script>")
    html_text = check_html(result)
    assert "<b>bad" not in html_text and "<script>" not in html_text
    assert "&lt;script&gt;" in html_text and FAIL_COLOUR in html_text and "bad key" in html_text


def test_unexpected_errors_read_well_and_are_redacted() -> None:
    text = error_text(RuntimeError(f"boom {SECRET}"))
    assert text.startswith("Unexpected error (RuntimeError)") and SECRET not in text


# ---- adding --------------------------------------------------------------------------------


def test_setup_returns_a_displayable_manager(runtime: Runtime) -> None:
    panel = setup(runtime)
    try:
        assert isinstance(panel, ipywidgets.VBox)
        assert "No providers yet" in panel.rows.children[0].value
    finally:
        panel.close()


def test_add_with_a_preset_saves_at_once_and_clears_the_key(
    runtime: Runtime, manager: ProviderManager
) -> None:
    form = manager.form
    manager.add_button.click()
    assert visible(form) and not visible(form.models_box) and visible(form.preset)
    form.preset.value = "vllm"
    assert (form.name.value, form.type.value) == ("vLLM", "openai")
    assert form.base_url.value == "http://127.0.0.1:8000/v1"
    assert "vllm serve" in form.preset_hint.value
    assert "http://127.0.0.1:8000/v1/chat/completions" in form.preview.value
    form.api_key.value = SECRET

    form.save_button.click()

    saved = fresh(runtime).get("vllm")
    assert (saved.name, saved.base_url, saved.api_key) == (
        "vLLM",
        "http://127.0.0.1:8000/v1",
        SECRET,
    )
    assert form.api_key.value == ""
    assert widgets_holding(SECRET) == []
    assert "Added vLLM as vllm" in form.message.value and OK_COLOUR in form.message.value
    assert form.provider_id == "vllm" and visible(form.models_box)  # now editing it
    assert "sk-…6789" in form.key_hint.value
    assert "vllm" in manager.switches and "sk-…6789" in manager.rows.children[0].children[1].value


def test_add_with_a_hand_typed_address_tells_about_v1(
    runtime: Runtime, manager: ProviderManager
) -> None:
    form = manager.form
    manager.add_button.click()
    form.name.value = "My server"
    form.base_url.value = "http://127.0.0.1:9999"
    assert "Added /v1" in form.preview.value  # live, before saving
    assert "http://127.0.0.1:9999/v1/chat/completions" in form.preview.value

    form.save_button.click()

    assert fresh(runtime).get("my-server").base_url == "http://127.0.0.1:9999/v1"
    assert "Added /v1" in form.message.value
    assert form.base_url.value == "http://127.0.0.1:9999/v1"  # the stored, normalised form


def test_registry_errors_are_shown_in_the_form(runtime: Runtime, manager: ProviderManager) -> None:
    form = manager.form
    manager.add_button.click()
    form.name.value = "Broken"
    form.base_url.value = "localhost:8000"
    form.api_key.value = SECRET

    form.save_button.click()

    assert "Add http:// or https://" in form.message.value and FAIL_COLOUR in form.message.value
    assert fresh(runtime).config.providers == []
    assert form.api_key.value == SECRET  # kept for the retry, and only there
    assert widgets_holding(SECRET) == [form.api_key]
    form.base_url.value = "http://localhost:8000/v1"
    form.save_button.click()
    assert fresh(runtime).get("broken").api_key == SECRET
    assert widgets_holding(SECRET) == []


def test_azure_shows_api_version_and_refuses_the_placeholder(
    runtime: Runtime, manager: ProviderManager
) -> None:
    form = manager.form
    manager.add_button.click()
    assert not visible(form.api_version)
    form.preset.value = "azure-openai"
    assert visible(form.api_version) and form.api_version.value
    form.save_button.click()
    assert "YOUR-RESOURCE" in form.message.value and fresh(runtime).config.providers == []
    form.base_url.value = "https://contoso.openai.azure.com"
    form.api_version.value = "2025-01-01-preview"
    assert "api-version=2025-01-01-preview" in form.preview.value
    form.save_button.click()
    saved = fresh(runtime).get("azure-openai")
    assert (saved.type, saved.api_version) == ("azure-openai", "2025-01-01-preview")
    form.type.value = "openai"
    assert not visible(form.api_version)


# ---- editing -------------------------------------------------------------------------------


def test_edit_renames_and_rotates_the_key(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim, key="sk-old-ROTATEME0123456789")
    manager.refresh()
    manager.edit_buttons["sim"].click()
    form = manager.form
    assert form.api_key.value == "" and "sk-…6789" in form.key_hint.value
    assert widgets_holding("sk-old-ROTATEME0123456789") == []

    form.name.value = "Renamed"
    form.save_button.click()  # no key typed: the stored one is kept
    assert (fresh(runtime).get("sim").name, fresh(runtime).get("sim").api_key) == (
        "Renamed",
        "sk-old-ROTATEME0123456789",
    )

    form.api_key.value = SECRET
    form.save_button.click()
    assert fresh(runtime).get("sim").api_key == SECRET
    assert form.api_key.value == ""
    assert widgets_holding(SECRET) == [] and widgets_holding("ROTATEME") == []


def test_enable_switch_toggles_and_saves(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim)
    manager.refresh()
    manager.switches["sim"].value = False
    assert fresh(runtime).get("sim").enabled is False
    assert "sim disabled" in manager.message.value
    manager.switches["sim"].value = True
    assert fresh(runtime).get("sim").enabled is True


# ---- check ---------------------------------------------------------------------------------


def test_check_success_shows_checking_then_a_green_line(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim)
    manager.refresh()
    manager.edit_buttons["sim"].click()
    shown: list[str] = []
    manager.form.check_result.observe(lambda change: shown.append(change["new"]), names="value")

    manager.form.check_button.click()

    assert "Checking…" in shown[0]
    assert OK_COLOUR in shown[-1] and "✓" in shown[-1] and "models listed" in shown[-1]


def test_check_with_a_wrong_key_says_it_was_rejected(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim, key="wrong-key-0123456789")
    manager.refresh()
    manager.edit_buttons["sim"].click()
    manager.form.check_button.click()
    result = manager.form.check_result.value
    assert FAIL_COLOUR in result and "rejected" in result and "bad key" in result
    assert "wrong-key-0123456789" not in result


def test_check_reports_every_key(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim, key=f"{SIM_KEY},wrong-key-0123456789")
    manager.refresh()
    manager.edit_buttons["sim"].click()
    manager.form.check_button.click()
    result = manager.form.check_result.value
    assert "key 1 " in result and "✓" in result and "key 2 wro…6789 ✗ 401 invalid key" in result
    assert FAIL_COLOUR in result and "wrong-key-0123456789" not in result
    assert SIM_KEY not in result
    assert "check failed" in manager.rows.children[0].children[1].value  # the status light


def test_check_tests_a_typed_key_without_saving_it(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim, key="wrong-key-0123456789")
    before = runtime.registry.path.read_bytes()
    manager.refresh()
    manager.edit_buttons["sim"].click()
    manager.form.api_key.value = SIM_KEY
    manager.form.check_button.click()
    result = manager.form.check_result.value
    assert "✓" in result and "not saved yet: press Save" in result
    assert runtime.registry.path.read_bytes() == before  # Check never saves
    assert fresh(runtime).get("sim").api_key == "wrong-key-0123456789"
    manager.form.save_button.click()  # saving is explicit
    assert fresh(runtime).get("sim").api_key == SIM_KEY and manager.form.api_key.value == ""


def test_check_of_an_unknown_model_lists_the_closest(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim)
    manager.refresh()
    manager.edit_buttons["sim"].click()
    manager.form.check_model.value = "sim-chta"
    manager.form.check_button.click()
    result = manager.form.check_result.value
    assert FAIL_COLOUR in result and "Closest" in result and "sim-chat" in result


def test_check_of_a_new_provider_tests_the_form_and_saves_nothing(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    manager.add_button.click()
    form = manager.form
    form.name.value = "Fresh"
    form.base_url.value = sim.base_url("openai")
    form.api_key.value = SIM_KEY
    form.check_button.click()
    assert "✓" in form.check_result.value and "press Add" in form.check_result.value
    assert fresh(runtime).config.providers == [] and form.provider_id is None
    assert [w for w in widgets_holding(SIM_KEY) if w is not form.api_key] == []
    # A failing Check (the vLLM preset, nothing listening) leaves no trace either.
    form.preset.value = "vllm"
    form.base_url.value = f"http://127.0.0.1:{dead_port()}/v1"
    form.check_button.click()
    assert FAIL_COLOUR in form.check_result.value
    assert fresh(runtime).config.providers == [] and "MODEL" not in form.check_result.value
    form.save_button.click()
    assert [p.id for p in fresh(runtime).config.providers] == ["fresh"]
    assert "Added Fresh as fresh. Fetch or add its models below." in form.message.value


# ---- models --------------------------------------------------------------------------------


def test_fetch_models_and_add_the_picked_ones(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim)
    manager.refresh()
    manager.edit_buttons["sim"].click()
    form = manager.form
    form.fetch_button.click()
    listed = [*DEFAULT_MODELS, *EMBEDDING_MODELS]
    assert list(form.fetched.options) == [m for m in listed if m != "sim-chat"]
    assert f"{len(listed)} models listed, {len(listed) - 1} not added yet" in (
        form.models_message.value
    )

    form.fetched.value = ("sim-fast", "sim-vision")
    form.add_picked_button.click()

    assert fresh(runtime).get("sim").model_ids() == ["sim-chat", "sim-fast", "sim-vision"]
    assert list(form.fetched.options) == ["sim-reasoner", *EMBEDDING_MODELS]
    assert [value for _, value in form.models.options] == ["sim-chat", "sim-fast", "sim-vision"]
    assert "sim-fast" in form.check_model.options


def test_fetch_failure_is_diagnosed(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim, key="wrong-key-0123456789")
    manager.refresh()
    manager.edit_buttons["sim"].click()
    manager.form.fetch_button.click()
    assert FAIL_COLOUR in manager.form.models_message.value
    assert "rejected" in manager.form.models_message.value
    assert manager.form.fetched.options == ()


def test_add_by_hand_and_remove(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim, models=["sim-chat", "sim-fast"])
    manager.refresh()
    manager.edit_buttons["sim"].click()
    form = manager.form
    form.manual_model.value = "  my-finetune:v2 "
    form.add_manual_button.click()
    assert fresh(runtime).get("sim").model_ids() == ["sim-chat", "sim-fast", "my-finetune:v2"]
    assert form.manual_model.value == ""

    form.models.value = ("sim-chat", "my-finetune:v2")
    form.remove_button.click()
    assert fresh(runtime).get("sim").model_ids() == ["sim-fast"]
    assert "1 model " in manager.rows.children[0].children[1].value

    form.remove_button.click()  # nothing selected
    assert "Select models to remove" in form.models_message.value
    assert fresh(runtime).get("sim").model_ids() == ["sim-fast"]


# ---- delete --------------------------------------------------------------------------------


def test_delete_asks_for_confirmation(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim)
    manager.refresh()
    manager.edit_buttons["sim"].click()
    form = manager.form
    assert not visible(form.confirm_box)

    form.delete_button.click()
    assert visible(form.confirm_box) and "Really delete Sim (sim)?" in form.confirm_text.value
    form.cancel_delete_button.click()
    assert not visible(form.confirm_box)
    assert fresh(runtime).get("sim").id == "sim"

    form.delete_button.click()
    form.confirm_button.click()
    assert fresh(runtime).config.providers == []
    assert not visible(form) and "sim" not in manager.switches
    assert "Deleted Sim (sim)" in manager.message.value


# ---- local servers --------------------------------------------------------------------------


def test_detect_local_servers_and_add_one(runtime: Runtime, open_sim: SimulatorThread) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    manager = ProviderManager(runtime, local_ports={"vllm": open_sim.port, "ollama": closed})
    try:
        manager.detect_button.click()
        assert [s.port for s in manager.detected_servers] == [open_sim.port]
        row = manager.detected.children[0]
        assert "vLLM" in row.children[0].value and "sim-chat" in row.children[0].value

        manager.detect_add_buttons[0].click()

        saved = fresh(runtime).get("vllm")
        assert (saved.type, saved.base_url) == ("openai", open_sim.base_url("openai"))
        assert saved.model_ids() == [*DEFAULT_MODELS, *EMBEDDING_MODELS]
        assert manager.detect_add_buttons[0].disabled
        assert manager.form.provider_id == "vllm" and "Added vLLM" in manager.message.value

        manager.detect_button.click()  # already configured: no second Add
        assert manager.detect_add_buttons[0].disabled
        assert manager.detect_add_buttons[0].description == "Added as vllm"
    finally:
        manager.close()


def test_detect_with_nothing_running_says_so(runtime: Runtime) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    manager = ProviderManager(runtime, local_ports={"vllm": closed})
    try:
        manager.detect_button.click()
        assert manager.detected_servers == []
        assert f"No local server answered on 127.0.0.1 (vllm {closed})" in (
            manager.detected.children[0].value
        )
    finally:
        manager.close()


# ---- changes made elsewhere -------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_the_list_follows_changes_from_code_and_from_another_process(runtime: Runtime) -> None:
    panel = ProviderManager(runtime)
    panel.watch_interval = 0.05
    try:
        assert panel.switches == {}
        # From code in this kernel ...
        runtime.registry.add(id="here", name="Here", base_url="http://127.0.0.1:9/v1")
        assert wait_for(lambda: "here" in panel.switches)
        # ... and from another process writing the same file.
        other = ProviderRegistry(runtime.registry.path)
        other.add(id="there", name="There", base_url="http://127.0.0.1:9/v1")
        os.utime(runtime.registry.path, ns=(time.time_ns(), time.time_ns() + 10**9))
        assert wait_for(lambda: "there" in panel.switches)
        other.disable("there")
        os.utime(runtime.registry.path, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
        assert wait_for(lambda: not panel.switches["there"].value)
        assert len(panel.rows.children) == 2  # redrawn, not appended to
    finally:
        panel.close()
    assert wait_for(
        lambda: (
            not any(
                t.name == "cherry-nb-provider-manager" and t.is_alive()
                for t in threading.enumerate()
            )
        )
    )


# ---- the settings page: lights, switches, key field, unsaved edits, models -------------------


def test_check_lights_the_list_and_switches_are_labelled_and_grey(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim)
    manager.refresh()
    line = manager.rows.children[0].children[1]
    assert "not checked" in line.value and manager.switches["sim"].description == "on"
    manager.edit_buttons["sim"].click()
    manager.form.check_button.click()
    line = manager.rows.children[0].children[1]
    assert "check passed" in line.value and OK_COLOUR in line.value
    manager.switches["sim"].value = False
    assert manager.switches["sim"].description == "off"
    assert "opacity:0.5" in manager.rows.children[0].children[1].value


def test_the_key_shows_and_hides_and_is_cleared_when_saved(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim, key="wrong-key-0123456789")
    manager.refresh()
    manager.edit_buttons["sim"].click()
    form = manager.form
    form.api_key.value = SIM_KEY
    form.show_key.value = True
    assert visible(form.api_key_shown) and not visible(form.api_key)
    assert form.api_key_shown.value == SIM_KEY
    form.api_key_shown.value = SIM_KEY + "x"  # typed while shown
    assert form.api_key.value == SIM_KEY + "x"
    form.show_key.value = False
    assert form.api_key_shown.value == "" and visible(form.api_key)
    form.api_key.value = SIM_KEY
    form.show_key.value = True
    form.save_button.click()
    assert fresh(runtime).get("sim").api_key == SIM_KEY
    assert widgets_holding(SIM_KEY) == [] and not form.show_key.value


def test_unsaved_edits_are_not_thrown_away_without_asking(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim)
    runtime.registry.add(id="other", name="Other", base_url="http://127.0.0.1:9/v1")
    manager.refresh()
    manager.edit_buttons["sim"].click()
    form = manager.form
    form.name.value = "Renamed but not saved"
    form.description.value = "for tests"
    manager.edit_buttons["other"].click()
    assert form.provider_id == "sim" and visible(form.leave_box)  # asked, not switched
    assert "Unsaved changes to Renamed but not saved" in form.leave_text.value
    form.keep_button.click()
    assert form.name.value == "Renamed but not saved" and not visible(form.leave_box)
    form.close_button.click()
    assert visible(form) and visible(form.leave_box)
    form.discard_button.click()
    assert not visible(form)
    manager.edit_buttons["other"].click()  # nothing unsaved now: at once
    assert form.provider_id == "other" and not visible(form.leave_box)
    assert fresh(runtime).get("sim").name == "Sim"


def test_description_and_tags_are_saved(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim)
    manager.refresh()
    manager.edit_buttons["sim"].click()
    manager.form.description.value = "The test upstream"
    manager.form.tags.value = "local, fast ,"
    manager.form.save_button.click()
    saved = fresh(runtime).get("sim")
    assert (saved.description, saved.tags) == ("The test upstream", ["local", "fast"])
    manager.edit_buttons["sim"].click()
    assert manager.form.tags.value == "local, fast" and not manager.form.unsaved()


def test_fetch_preselects_new_models_and_a_manual_model_not_listed_is_warned_about(
    runtime: Runtime, manager: ProviderManager, sim: SimulatorThread
) -> None:
    add_sim_provider(runtime, sim, models=["sim-chat"])
    manager.refresh()
    manager.edit_buttons["sim"].click()
    form = manager.form
    form.fetch_button.click()
    assert set(form.fetched.value) == {*DEFAULT_MODELS, *EMBEDDING_MODELS} - {"sim-chat"}
    assert "Ctrl/⌘-click" in form.fetched_hint.value
    form.manual_model.value = "sim-chatt"
    form.add_manual_button.click()
    assert "does not list it" in form.models_message.value
    assert FAIL_COLOUR in form.models_message.value
    assert "sim-chatt" in fresh(runtime).get("sim").model_ids()  # added all the same
