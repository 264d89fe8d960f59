"""The generated sync facade mirrors the async surface, and --check sees drift."""

from __future__ import annotations

import inspect
import shutil
import typing
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterator,
)
from pathlib import Path
from typing import Any

import pytest

import nuextract_async
import nuextract_sync
from nuextract_async import AsyncNuExtract, AsyncProjects
from nuextract_async.compat import ProjectManagementApi as AsyncProjectManagementApi
from nuextract_sync import NuExtract, ProjectManagementApi, Projects
from nuextract_sync._codegen import HEADER, generate, main

PAIRS = [
    (AsyncNuExtract, NuExtract),
    (AsyncProjects, Projects),
    (AsyncProjectManagementApi, ProjectManagementApi),
]
PACKAGE = Path(nuextract_sync.__file__).parent
GENERATED = ["__init__.py", "_client.py"]


def _item_of(kind: Any) -> Any:
    """What iterating a value of the async type ``kind`` yields, or None."""
    origin = typing.get_origin(kind) or kind
    if origin in (AsyncGenerator, AsyncIterable, AsyncIterator):
        return typing.get_args(kind)[0]
    if not (isinstance(origin, type) and issubclass(origin, AsyncIterable)):
        return None
    for base in getattr(origin, "__orig_bases__", ()):
        if issubclass(typing.get_origin(base) or base, AsyncIterable):
            (item,) = typing.get_args(base)
            arguments = typing.get_args(kind)
            return item[arguments] if arguments else item
    raise AssertionError(f"no item type on {kind}")


def _async_methods(cls: type) -> dict[str, Callable[..., Any]]:
    """Public coroutine methods and methods returning an async iterable."""
    found: dict[str, Callable[..., Any]] = {}
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_"):
            continue
        returned = typing.get_type_hints(member)["return"]
        if (
            inspect.iscoroutinefunction(member)
            or inspect.isasyncgenfunction(member)
            or _item_of(returned) is not None
        ):
            found[name] = member
    return found


def _renamed(annotation: object) -> object:
    if isinstance(annotation, str):
        return annotation.replace("AsyncNuExtract", "NuExtract")
    return annotation


@pytest.mark.parametrize(("async_cls", "sync_cls"), PAIRS)
def test_every_async_method_has_a_sync_twin(async_cls: type, sync_cls: type) -> None:
    methods = _async_methods(async_cls)
    assert methods, f"{async_cls.__name__} lost its public methods"
    for name, method in methods.items():
        twin_name = "close" if name == "aclose" else name
        twin = getattr(sync_cls, twin_name, None)
        assert callable(twin), f"{sync_cls.__name__}.{twin_name} is missing"
        assert not inspect.iscoroutinefunction(twin)
        ours = inspect.signature(method)
        theirs = inspect.signature(twin)
        if name == "aclose":
            assert list(theirs.parameters) == ["self"]
            continue
        assert [
            (p.name, p.kind, p.default, _renamed(p.annotation))
            for p in ours.parameters.values()
        ] == [
            (p.name, p.kind, p.default, p.annotation)
            for p in theirs.parameters.values()
        ], f"{sync_cls.__name__}.{name}"
        assert inspect.getdoc(twin) == inspect.getdoc(method)

        returned = typing.get_type_hints(method)["return"]
        item = _item_of(returned)
        if item is None:
            assert theirs.return_annotation == ours.return_annotation
        else:
            hint = typing.get_type_hints(twin)["return"]
            assert typing.get_origin(hint) is Iterator
            assert typing.get_args(hint) == (item,)


def test_constructors_and_properties_match() -> None:
    assert inspect.signature(NuExtract) == inspect.signature(AsyncNuExtract)
    client_signature = inspect.signature(ProjectManagementApi)
    assert [(p.name, p.annotation) for p in client_signature.parameters.values()] == [
        ("client", "NuExtract")
    ]
    for name in ("base_url", "is_closed"):
        assert isinstance(getattr(NuExtract, name), property)
    client = NuExtract(api_key="k", base_url="http://127.0.0.1:9/")
    assert client.base_url == "http://127.0.0.1:9"
    assert repr(client) == "NuExtract(base_url='http://127.0.0.1:9')"
    client.close()


def test_every_resource_of_the_async_client_is_mirrored() -> None:
    client = AsyncNuExtract(api_key="k", base_url="http://127.0.0.1:9")
    resources = {
        name: type(value)
        for name, value in vars(client).items()
        if not name.startswith("_") and _async_methods(type(value))
    }
    assert resources == {"projects": AsyncProjects}
    assert typing.get_type_hints(NuExtract)["projects"] is Projects


def test_shared_names_are_the_async_packages_own_objects() -> None:
    twins = {
        AsyncNuExtract: NuExtract,
        AsyncProjects: Projects,
        AsyncProjectManagementApi: ProjectManagementApi,
    }
    for name in nuextract_async.__all__:
        value = getattr(nuextract_async, name)
        if value in twins:
            assert twins[value].__name__ in nuextract_sync.__all__
        elif name in nuextract_sync.__all__:
            assert getattr(nuextract_sync, name) is value
        else:
            assert _async_methods(value), f"{name} is not re-exported"
    for name in ("NOT_GIVEN", "ClientClosedError", "ProjectResponse", "APIError"):
        assert getattr(nuextract_sync, name) is getattr(nuextract_async, name)


def test_generated_files_start_with_one_header_line() -> None:
    for name in GENERATED:
        first, second = (PACKAGE / name).read_text().splitlines()[:2]
        assert first == HEADER
        assert "python -m nuextract_sync._codegen" in first
        assert not second.startswith("#")
    assert "Generated" not in (PACKAGE / "_portal.py").read_text()


def test_check_passes_on_the_committed_files(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--check"]) == 0
    assert capsys.readouterr().out == ""


def test_check_reports_an_edited_generated_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in GENERATED:
        shutil.copy(PACKAGE / name, tmp_path / name)
    assert main(["--check", "--output-dir", str(tmp_path)]) == 0

    edited = tmp_path / "_client.py"
    text = edited.read_text()
    edited.write_text(text.replace('"""Fetch one project."""', '"""Fetch it."""'))
    assert main(["--check", "--output-dir", str(tmp_path)]) == 1

    captured = capsys.readouterr()
    assert "--- a/nuextract_sync/_client.py" in captured.out
    assert '-        """Fetch it."""' in captured.out
    assert '+        """Fetch one project."""' in captured.out
    assert "stale: _client.py" in captured.err
    assert edited.read_text() != text  # --check wrote nothing


def test_regenerating_into_a_directory_restores_the_files(tmp_path: Path) -> None:
    (tmp_path / "_client.py").write_text("# hand-edited\n")
    assert main(["--output-dir", str(tmp_path)]) == 0
    for name in GENERATED:
        assert (tmp_path / name).read_text() == (PACKAGE / name).read_text()


async def _archive(
    self: AsyncProjects, project_id: str, *, note: str | None = None
) -> str:
    """Archive a project; returns where it went."""
    return f"archive/{project_id}/{note}"


async def _watch(self: AsyncProjects, project_id: str) -> AsyncIterator[int]:
    """Yield change numbers."""
    for number in range(3):
        yield number


def test_new_async_methods_are_picked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AsyncProjects, "archive", _archive, raising=False)
    monkeypatch.setattr(AsyncProjects, "watch", _watch, raising=False)

    text = generate()["_client.py"]
    namespace: dict[str, Any] = {
        "__name__": "nuextract_sync._probe",
        "__package__": "nuextract_sync",
    }
    exec(compile(text, "_client.py", "exec"), namespace)
    projects_cls = namespace["Projects"]

    archive = inspect.signature(projects_cls.archive)
    assert (
        str(archive)
        == "(self, project_id: 'str', *, note: 'str | None' = None) -> 'str'"
    )
    assert projects_cls.watch.__doc__ == "Yield change numbers."
    assert inspect.signature(projects_cls.watch).return_annotation == "Iterator[int]"
    with namespace["NuExtract"](api_key="k", base_url="http://127.0.0.1:9") as client:
        assert client.projects.archive("p-1", note="old") == "archive/p-1/old"
        assert list(client.projects.watch("p-1")) == [0, 1, 2]
