from django.apps import AppConfig


class BpijConfig(AppConfig):
    name = "bpij"
    verbose_name = "Platform"

    def ready(self) -> None:
        from bpij import signals  # noqa: F401
