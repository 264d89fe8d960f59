"""The official ``numind`` 0.1.3 SDK accepts every answer of the emulator.

The SDK is synchronous (urllib3), so the emulator runs on its own thread and
event loop. Its strict pydantic models decode each response: a missing key,
a wrong type or an out-of-bounds setting fails the call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from numind.exceptions import ApiException
from numind.models import (
    CreateProjectRequest,
    ProjectResponse,
    ProjectSettingsResponse,
    UpdateProjectRequest,
    UpdateProjectSettingsRequest,
    UpdateProjectTemplateRequest,
)
from numind.openapi_client import ApiClient, Configuration, ProjectManagementApi

from nuextract_async.emulator import (
    DEFAULT_SETTINGS,
    TEMPLATES,
    RunningEmulator,
    run_emulator_in_thread,
)

ORDERS = TEMPLATES["order-delivery"]
VACATION = TEMPLATES["vacation"]


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    with run_emulator_in_thread() as running:
        yield running


def _api(emu: RunningEmulator, token: str) -> Iterator[ProjectManagementApi]:
    client = ApiClient(Configuration(host=emu.base_url, access_token=token))
    try:
        yield ProjectManagementApi(client)
    finally:
        client.rest_client.pool_manager.clear()


@pytest.fixture
def api(emu: RunningEmulator) -> Iterator[ProjectManagementApi]:
    yield from _api(emu, "test-token")


@pytest.fixture
def admin(emu: RunningEmulator) -> Iterator[ProjectManagementApi]:
    yield from _api(emu, "admin-token")


@pytest.fixture
def other(emu: RunningEmulator) -> Iterator[ProjectManagementApi]:
    yield from _api(emu, "other-token")


def create(api: ProjectManagementApi, **kw: Any) -> ProjectResponse:
    request = CreateProjectRequest(
        name=kw.pop("name", "Orders"), description="", template=ORDERS, **kw
    )
    project = api.post_api_projects(request)
    assert isinstance(project, ProjectResponse)
    return project


def test_all_thirteen_operations(
    api: ProjectManagementApi, admin: ProjectManagementApi
) -> None:
    project = create(api, name="Orders")
    pid = project.id
    assert project.owner_user == "user-1"
    assert project.owner_organization is None
    assert project.settings.to_dict() == DEFAULT_SETTINGS
    assert (project.lock_state, project.shared) == (False, False)

    listed = api.get_api_projects()
    assert all(isinstance(p, ProjectResponse) for p in listed)
    assert pid in [p.id for p in listed]
    assert pid in [p.id for p in api.get_api_projects(reference=False)]
    assert pid not in [p.id for p in api.get_api_projects(reference=True)]
    assert pid not in [p.id for p in api.get_api_projects(organization_id="org-1")]

    assert api.get_api_projects_projectid(pid) == project

    updated = api.patch_api_projects_projectid(
        pid, UpdateProjectRequest(name="Renamed", description="")
    )
    assert (updated.name, updated.description) == ("Renamed", "")

    settings = UpdateProjectSettingsRequest(
        temperature=0.5,
        rasterization_dpi=300,
        max_output_tokens=10,
        degraded_mode="Reject",
        max_tokens_smart_example=32000,
    )
    changed = api.patch_api_projects_projectid_settings(pid, settings)
    assert isinstance(changed.settings, ProjectSettingsResponse)
    assert changed.settings.temperature == 0.5
    assert changed.settings.rasterization_dpi == 300

    replaced = api.put_api_projects_projectid_template(
        pid, UpdateProjectTemplateRequest(template=VACATION)
    )
    assert replaced.template == VACATION

    reset = api.post_api_projects_projectid_reset_settings(pid)
    assert reset.settings.to_dict() == DEFAULT_SETTINGS

    copy = api.post_api_projects_projectid_duplicate(pid)
    assert copy.name == "Renamed (copy)"
    assert copy.id != pid
    into_org = api.post_api_projects_projectid_duplicate(pid, organization_id="org-1")
    assert (into_org.name, into_org.owner_organization) == ("Renamed", "org-1")

    assert api.post_api_projects_projectid_lock(pid) is None
    assert api.get_api_projects_projectid(pid).lock_state is True
    assert api.post_api_projects_projectid_unlock(pid) is None
    assert admin.post_api_projects_projectid_share(pid) is None
    assert pid in [p.id for p in api.get_api_projects(reference=True)]
    assert admin.post_api_projects_projectid_unshare(pid) is None
    assert api.get_api_projects_projectid(pid).owner_user == "user-1"

    assert api.delete_api_projects_projectid(pid) is None
    assert api.delete_api_projects_projectid(copy.id) is None


def test_organization_projects_and_temperature_as_int(
    api: ProjectManagementApi,
) -> None:
    project = create(api, owner_organization="org-1")
    assert project.owner_organization == "org-1"

    changed = api.patch_api_projects_projectid_settings(
        project.id, UpdateProjectSettingsRequest(temperature=1)
    )

    assert changed.settings.temperature == 1
    listed = api.get_api_projects(organization_id="org-1")
    assert project.id in [p.id for p in listed]


@pytest.mark.parametrize("pid", ["a/b", "x?y=1", "q#f", "s p", "é", "100%"])
def test_odd_ids_round_trip_through_the_sdk(
    emu: RunningEmulator, api: ProjectManagementApi, pid: str
) -> None:
    emu.store.add_project(owner_user="user-1", project_id=pid, template=ORDERS)

    assert api.get_api_projects_projectid(pid).id == pid
    assert api.post_api_projects_projectid_lock(pid) is None
    assert api.post_api_projects_projectid_unlock(pid) is None
    assert api.delete_api_projects_projectid(pid) is None


def _status(call: Any, *args: Any, **kw: Any) -> tuple[int, str]:
    with pytest.raises(ApiException) as info:
        call(*args, **kw)
    return info.value.status, str(info.value.body)


def test_locked_projects_raise_403_locked(api: ProjectManagementApi) -> None:
    pid = create(api).id
    api.post_api_projects_projectid_lock(pid)

    calls = [
        (api.patch_api_projects_projectid, UpdateProjectRequest(name="x")),
        (
            api.patch_api_projects_projectid_settings,
            UpdateProjectSettingsRequest(temperature=0.1),
        ),
        (
            api.put_api_projects_projectid_template,
            UpdateProjectTemplateRequest(template={}),
        ),
        (api.post_api_projects_projectid_reset_settings,),
        (api.delete_api_projects_projectid,),
    ]
    for call, *rest in calls:
        status, body = _status(call, pid, *rest)
        assert status == 403
        assert '"code":"Locked"' in body

    assert api.post_api_projects_projectid_duplicate(pid).lock_state is False


def test_errors_raise_api_exceptions(
    emu: RunningEmulator,
    api: ProjectManagementApi,
    other: ProjectManagementApi,
) -> None:
    pid = create(api).id

    assert _status(api.get_api_projects_projectid, "missing")[0] == 404
    assert _status(other.get_api_projects_projectid, pid)[0] == 403
    assert _status(api.post_api_projects_projectid_share, pid)[0] == 403
    assert _status(api.get_api_projects, organization_id="org-2")[0] == 403
    status, body = _status(
        api.post_api_projects_projectid_duplicate, pid, organization_id="org-2"
    )
    assert status == 403
    assert json.loads(body)["code"] == "Forbidden"

    unchecked = UpdateProjectSettingsRequest.model_construct(temperature=2.0)
    status, body = _status(api.patch_api_projects_projectid_settings, pid, unchecked)
    assert (status, body) == (400, "Invalid value for: body")

    with ApiClient(Configuration(host=emu.base_url, access_token="nope")) as client:
        try:
            status, _ = _status(ProjectManagementApi(client).get_api_projects)
        finally:
            client.rest_client.pool_manager.clear()
    assert status == 401
