from django.apps import AppConfig
from django.db.models.signals import post_migrate

# Database aliases whose roll-ups a migration of this run has marked due (see
# migrations/0010_figures_definitions_v2.py): recomputed once the whole plan has run.
_ROLLUPS_DUE: set[str] = set()


def rollups_due(alias: str) -> None:
    """Ask for the roll-ups on ``alias`` to be recomputed when ``migrate`` finishes."""
    _ROLLUPS_DUE.add(alias)


def _recompute_due_rollups(sender, using: str = "default", **kwargs) -> None:
    if using not in _ROLLUPS_DUE:
        return
    from bpij import tenancy
    from reporting.services.rollups import rollup_rebuild

    # The roll-ups are written through the app's own connection, as ``manage.py rollup``
    # writes them: in the system scope, which every policy lets see and write all rows.
    with tenancy.system_scope():
        rollup_rebuild()
    _ROLLUPS_DUE.discard(using)


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Quarterly reporting"

    def ready(self) -> None:
        # The coalition page and list live in grantees, which may not import reporting:
        # hand them the to-do lists and the actuals through its hooks instead.
        from grantees import selectors as grantee_selectors
        from reporting import pagecache
        from reporting.selectors import home

        grantee_selectors.register_coalition_page_hook(home.coalition_page)
        grantee_selectors.register_coalition_list_hook(home.coalition_list_todos)
        pagecache.connect_signals()
        post_migrate.connect(
            _recompute_due_rollups, sender=self, dispatch_uid="reporting.rollups_due"
        )
