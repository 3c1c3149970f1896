from django.conf import settings


def site(request):
    return {"EMBEDDED_DEFAULT": settings.EMBEDDED_DEFAULT, "SITE_NAME": "BPIJ Reporting Hub"}
