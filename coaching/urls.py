from django.urls import path

from coaching import views
from coaching.views import coalition as coalition_views
from coaching.views import dashboard as dashboard_views
from coaching.views import staff as staff_views

app_name = "coaching"

urlpatterns = [
    path("", views.home, name="home"),
    path("overview/", staff_views.overview, name="overview"),
    path("assignments/", staff_views.assignments, name="assignments"),
    path("assignments/<uuid:code>/assign/", staff_views.assign, name="assign"),
    path(
        "assignments/<uuid:code>/unassign/<uuid:coach_code>/",
        staff_views.unassign,
        name="unassign",
    ),
    path("coalitions/<uuid:code>/", coalition_views.coalition_coaching, name="coalition"),
    path("coalitions/<uuid:code>/sessions/new/", coalition_views.session_log, name="session-log"),
    path("coalitions/<uuid:code>/risk/", coalition_views.risk_set, name="risk-set"),
    path("sessions/<uuid:code>/", coalition_views.session_detail, name="session-detail"),
    path("sessions/<uuid:code>/edit/", coalition_views.session_edit, name="session-edit"),
    path("sessions/<uuid:code>/items/new/", coalition_views.item_add, name="item-add"),
    path("items/<uuid:code>/edit/", coalition_views.item_edit, name="item-edit"),
    path("items/<uuid:code>/status/", coalition_views.item_status, name="item-status"),
    path(
        "coalitions/<uuid:code>/dashboard/",
        dashboard_views.coalition_dashboard,
        name="coalition-dashboard",
    ),
]
