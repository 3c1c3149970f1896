from django.apps import AppConfig


class CoachingConfig(AppConfig):
    name = "coaching"
    verbose_name = "Coaching"

    def ready(self) -> None:
        # The coalition page lives in grantees, which may not import coaching: hand it the
        # action items a member may read (their own first) through its hook.
        from coaching import selectors
        from grantees import selectors as grantee_selectors

        grantee_selectors.register_coalition_page_hook(selectors.coalition_page)
