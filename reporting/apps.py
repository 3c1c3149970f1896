from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Quarterly reporting"

    def ready(self) -> None:
        # The coalition page lives in grantees, which may not import reporting: hand it
        # the to-do list and the actuals through its hook instead.
        from grantees import selectors as grantee_selectors
        from reporting.selectors import home

        grantee_selectors.register_coalition_page_hook(home.coalition_page)
