from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class BpijConfig(AppConfig):
    name = "bpij"
    verbose_name = "Platform"

    def ready(self) -> None:
        from bpij import signals  # noqa: F401


class HubAdminConfig(admin_apps.AdminConfig):
    """Installed in place of django.contrib.admin, so admin.site is the hub's."""

    default = False  # not the "bpij" app's configuration; named in INSTALLED_APPS
    default_site = "bpij.admin_site.HubAdminSite"
