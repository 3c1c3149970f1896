"""Services send tasks by name (reporting.services.recovery.send), found in Celery's
registry, so nothing imports reporting.tasks; ``recovery.held`` holds what a block
would send (the demo)."""

import pytest

from reporting.services import recovery


def test_a_task_is_found_by_name_in_celerys_registry():
    task = recovery.task("rollup_program")
    assert task.name == "reporting.tasks.rollup_program"
    with pytest.raises(KeyError):
        recovery.task("no_such_task")


def test_send_calls_the_named_task(monkeypatch):
    called = []
    task = recovery.task("rollup_program")
    monkeypatch.setattr(task, "delay", lambda *args: called.append(args))
    assert recovery.send("rollup_program", "2025Q3") is True
    assert called == [("2025Q3",)]


@pytest.mark.django_db
def test_held_holds_every_send_and_leaves_nothing_for_the_commit(
    monkeypatch, django_capture_on_commit_callbacks
):
    called = []
    task = recovery.task("rollup_program")
    monkeypatch.setattr(task, "delay", lambda *args: called.append(args))
    with django_capture_on_commit_callbacks() as callbacks, recovery.held() as held:
        recovery.send_on_commit("rollup_program", "2025Q3")
        assert recovery.send("rollup_program", "2025Q4") is True
    assert held == [("rollup_program", ("2025Q3",)), ("rollup_program", ("2025Q4",))]
    assert callbacks == []
    assert called == []

    # Outside the block, sending is as before.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        recovery.send_on_commit("rollup_program", "2025Q3")
    assert len(callbacks) == 1
    assert called == [("2025Q3",)]
