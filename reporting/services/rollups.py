"""Roll-ups: the contract's figures per coalition and period, and program-wide.

(Being written in this session: see reporting.tasks.rollup_period.)
"""


def rollup_period(*, period_id: int) -> None:
    return None
