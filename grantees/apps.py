from django.apps import AppConfig


class GranteesConfig(AppConfig):
    name = "grantees"
    verbose_name = "Coalitions and grants"
