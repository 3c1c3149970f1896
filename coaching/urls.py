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
    path("assignments/<uuid:coalition_code>/assign/", staff_views.assign, name="assign"),
    path(
        "assignments/<uuid:coalition_code>/unassign/<uuid:coach_code>/",
        staff_views.unassign,
        name="unassign",
    ),
    path("coalitions/<uuid:coalition_code>/", coalition_views.coalition_coaching, name="coalition"),
    path(
        "coalitions/<uuid:coalition_code>/sessions/new/",
        coalition_views.session_log,
        name="session-log",
    ),
    path("coalitions/<uuid:coalition_code>/risk/", coalition_views.risk_set, name="risk-set"),
    path("sessions/<uuid:session_code>/", coalition_views.session_detail, name="session-detail"),
    path("sessions/<uuid:session_code>/edit/", coalition_views.session_edit, name="session-edit"),
    path("sessions/<uuid:session_code>/items/new/", coalition_views.item_add, name="item-add"),
    path("items/<uuid:item_code>/edit/", coalition_views.item_edit, name="item-edit"),
    path("items/<uuid:item_code>/status/", coalition_views.item_status, name="item-status"),
    path(
        "coalitions/<uuid:coalition_code>/dashboard/",
        dashboard_views.coalition_dashboard,
        name="coalition-dashboard",
    ),
]
