"""The one base of every sfjira step operator (sync and reconciliation): the mapping and connections a
step works with, the other steps' outputs it reads, and how its failures reach Airflow.

A step's inputs are the outputs of earlier steps, passed the Airflow way: as XComArgs
(`PlanOperator(salesforce=extract_salesforce.output, ...)`). They are template fields, so Airflow
draws the dependencies from them when the DAG is built and hands each step the rendered values when it
runs; nothing is pulled by task id, so the steps work under any task id or task group. XCom carries
paths, counts and tallies only: frames stay in Parquet under the run folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from airflow.sdk import BaseOperator, XComArg

from sfjira.operators.failures import fail_terminal_errors

CONNECTIONS = ("salesforce_conn_id", "jira_conn_id", "state_conn_id")


class StepOperator(BaseOperator):
    """Base of the sfjira steps.

    :param mapping_file: path of the mapping YAML (templated)
    :param salesforce_conn_id: Airflow connection of type `salesforce` (templated)
    :param jira_conn_id: Airflow connection of type `jira` (templated)
    :param state_conn_id: Airflow connection holding the state store's SQLAlchemy URL (templated)

    Subclasses name their inputs in `inputs` (each a required keyword argument: another step's output,
    an XComArg, or its value as a dict) and implement `make_run` and `step`.
    """

    template_fields: Sequence[str] = ("mapping_file", *CONNECTIONS)
    inputs: ClassVar[tuple[str, ...]] = ()
    ui_color = "#e8f4fa"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Inputs are templated: XComArgs in them become upstream dependencies and are resolved at run time.
        cls.template_fields = tuple(dict.fromkeys([*StepOperator.template_fields, *cls.inputs]))

    def __init__(self, *, mapping_file: str, salesforce_conn_id: str = "salesforce_default",
                 jira_conn_id: str = "jira_default", state_conn_id: str = "sfjira_state", **kwargs: Any) -> None:
        given = {name: kwargs.pop(name) for name in self.inputs if name in kwargs}
        super().__init__(**kwargs)
        name = type(self).__name__
        for field, value in (("mapping_file", mapping_file), ("salesforce_conn_id", salesforce_conn_id),
                             ("jira_conn_id", jira_conn_id), ("state_conn_id", state_conn_id)):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name}: {field} must be a non-empty string, got {value!r}")
        missing = [i for i in self.inputs if i not in given]
        if missing:
            raise TypeError(f"{name}: missing input(s) {', '.join(missing)}; it takes {', '.join(self.inputs)}, "
                            "each another step's output (e.g. `plan=plan.output`)")
        for field, value in given.items():
            self.check_input(field, value)
        self.mapping_file = mapping_file
        self.salesforce_conn_id = salesforce_conn_id
        self.jira_conn_id = jira_conn_id
        self.state_conn_id = state_conn_id
        for field, value in given.items():
            setattr(self, field, value)

    def check_input(self, name: str, value: Any) -> None:
        """An input is another step's output: an XComArg (`op.output`), or that output as a dict."""
        if not isinstance(value, XComArg | Mapping):
            raise TypeError(f"{type(self).__name__}: input `{name}` must be another step's output -- an XComArg "
                            f"such as `{name}=<operator>.output` -- or a dict, got {type(value).__name__} {value!r}")

    @property
    def group(self) -> str | None:
        """The task group the step runs in (its task id's prefix), if any: its files go in a sub-folder of
        the run folder, so two syncs embedded in one DAG never share files."""
        return self.task_id.rpartition(".")[0] or None

    @fail_terminal_errors
    def execute(self, context: Any) -> dict[str, Any]:
        return self.step(self.make_run(context))

    def make_run(self, context: Any) -> Any:
        """The run object the step works on (a SyncRun or ReconcileRun), built from the context."""
        raise NotImplementedError

    def step(self, run: Any) -> dict[str, Any]:
        raise NotImplementedError
