"""The staff status board (every coalition × one quarter), its export and bulk
reminders, and the list of reminders sent."""

import uuid
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from bpij.http import AuthedRequest, attachment
from grantees.calendar import Quarter
from grantees.models import Coalition
from reporting import datapacks, forms, pagecache, permissions
from reporting.models import Reminder, ReportingPeriod
from reporting.selectors import board as selectors
from reporting.services import exports, reminders


def _require_staff(request: AuthedRequest) -> None:
    if not permissions.can_see_board(request.user):
        raise PermissionDenied


@dataclass
class Column:
    key: str
    label: str
    aria_sort: str
    query: str


COLUMNS = (
    ("coalition", "Coalition"),
    ("state", "Status"),
    ("due", "Due"),
    ("version", "Version"),
    ("errors", "Errors"),
    ("warnings", "Warnings"),
    ("coach", "Coach"),
    ("reminder", "Last reminder"),
)


@dataclass
class BoardRequest:
    form: forms.BoardFilterForm
    quarter: Quarter
    today: date
    filters: dict[str, str]
    sort: str

    @property
    def state(self) -> dict[str, str]:
        return {
            "quarter": str(self.quarter),
            **{k: v for k, v in self.filters.items() if v},
            "sort": self.sort,
        }


def _board_request(request: AuthedRequest) -> BoardRequest:
    _require_staff(request)
    today = timezone.localdate()
    form = forms.BoardFilterForm(request.GET or None)
    form.is_valid()
    # What was valid is used and what was not is dropped; the form says what is wrong.
    cleaned = getattr(form, "cleaned_data", {})
    return BoardRequest(
        form=form,
        quarter=cleaned.get("quarter") or selectors.current_quarter(today),
        today=today,
        filters={
            name: cleaned.get(name) or ""
            for name in ("status", "coach", "state", "sector", "track")
        },
        sort=cleaned.get("sort") or selectors.DEFAULT_SORT,
    )


def _board(request: AuthedRequest) -> tuple[forms.BoardFilterForm, selectors.Board, dict[str, str]]:
    asked = _board_request(request)
    data = selectors.board(
        request.user,
        quarter=asked.quarter,
        today=asked.today,
        filters=asked.filters,
        sort=asked.sort,
    )
    return asked.form, data, asked.state


def _query(state: dict[str, str], **changes: str) -> str:
    merged = {**state, **changes}
    if merged.get("sort") == selectors.DEFAULT_SORT:
        merged.pop("sort")
    return urlencode({k: v for k, v in merged.items() if v})


def board(request: AuthedRequest) -> HttpResponse:
    """Every coalition the person may see × the chosen quarter (the latest ended one by
    default), filtered and sorted through the URL so a view can be shared."""
    asked = _board_request(request)
    form, state, sort = asked.form, asked.state, asked.sort
    can_remind = permissions.can_remind(request.user)

    columns = []
    for key, label in COLUMNS:
        if sort.lstrip("-") == key:
            aria = "descending" if sort.startswith("-") else "ascending"
            toggled = key if sort.startswith("-") else f"-{key}"
        else:
            aria, toggled = "none", key
        columns.append(Column(key, label, aria, _query(state, sort=toggled)))
    context = {
        "form": form,
        "columns": columns,
        "query": _query(state),
        "state": state,
        "states": selectors.STATES,
        "no_coach": selectors.NO_COACH,
        "is_filtered": any(state.get(k) for k in ("status", "coach", "state", "sector", "track")),
        "can_remind": can_remind,
    }

    def build() -> tuple[selectors.Board, dict[str, str]]:
        data = selectors.board(
            request.user, quarter=asked.quarter, today=asked.today, filters=asked.filters, sort=sort
        )
        # Rendered without the request: nothing of this session (CSRF token, messages)
        # may be in what the cache keeps.
        pieces = {
            **context,
            "board": data,
            "quarters": selectors.quarters_with_periods(request.user, today=asked.today),
        }
        return data, {
            "filters_html": render_to_string("reporting/board.html#filters", pieces),
            "stats_html": render_to_string("reporting/board.html#stats", pieces),
            "rows_html": render_to_string("reporting/_board_rows.html", pieces),
        }

    # Kept in the page cache until anything it shows changes (the stamp: the versions,
    # reminders, periods, coalitions and coaches as this person sees them). The query
    # as asked is in the key: the filter form shows what was typed, errors included.
    data, html = pagecache.cached(
        "board",
        (
            str(asked.quarter),
            asked.today,
            sorted(asked.filters.items()),
            sort,
            sorted(request.GET.lists()),
            can_remind,
            pagecache.viewer(request.user),
        ),
        build,
        fresh=selectors.board_stamp(asked.quarter),
    )
    context |= {"board": data, **html}
    template = "reporting/board.html#results" if request.htmx else "reporting/board.html"
    return render(request, template, context)


def board_export(request: AuthedRequest, fmt: str) -> HttpResponse:
    """The board exactly as filtered and sorted, as XLSX or CSV, written like the data
    packs' status board sheet (every text cell neutralised against formula injection)."""
    if fmt not in ("xlsx", "csv"):
        raise Http404
    _, data, state = _board(request)
    table = datapacks.board_table(
        data, about=f"The status board for {data.quarter}, as filtered and sorted on the page."
    )
    exports.board_exported(
        actor=request.user,
        quarter=str(data.quarter),
        fmt=fmt,
        rows=len(table.rows),
        filters=state,
    )
    if fmt == "csv":
        response = HttpResponse(datapacks.table_csv(table), content_type="text/csv")
    else:
        response = HttpResponse(
            datapacks.table_xlsx(table),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = attachment(f"bpij-status-board-{data.quarter}.{fmt}")
    return response


@require_POST
def board_remind(request: AuthedRequest) -> HttpResponse:
    """Remind the selected coalitions (one manual reminder per period); a report already
    sent is refused with a message saying so."""
    _require_staff(request)
    # Back to the board as it was filtered; re-encoded, so it can only be a query string.
    query = QueryDict(request.POST.get("query", "")).urlencode()
    back = reverse("reporting:board") + (f"?{query}" if query else "")
    if not permissions.can_remind(request.user):
        raise PermissionDenied
    codes = []
    for value in request.POST.getlist("period"):
        try:
            codes.append(uuid.UUID(value))
        except ValueError:
            continue
    periods = list(
        ReportingPeriod.objects.visible_to(request.user)
        .filter(code__in=codes)
        .select_related("coalition")
        .order_by("coalition__name")
    )
    if not periods:
        messages.error(
            request, "Select at least one coalition (tick its box) before choosing “Remind”."
        )
        return redirect(back)
    reminded, refused = [], []
    for period in periods:
        try:
            reminders.reminder_send_manual(period=period, actor=request.user)
        except ValidationError as error:
            refused.append(" ".join(error.messages))
        else:
            reminded.append(period.coalition.name)
    if reminded:
        messages.success(
            request,
            f"Reminder sent to {len(reminded)} coalition{'s' if len(reminded) != 1 else ''}: "
            f"{', '.join(reminded)}. Their administrators and reporters get it by e-mail, "
            "with you in copy.",
        )
    for reason in refused:
        messages.error(request, reason)
    return redirect(back)


def reminder_list(request: AuthedRequest) -> HttpResponse:
    """Every reminder e-mail: when, to whom, which kind, whether it went (staff only;
    coaches see their coalitions')."""
    _require_staff(request)
    coalitions = list(Coalition.objects.visible_to(request.user).only("code", "name"))
    form = forms.ReminderFilterForm(request.GET or None, coalitions=coalitions)
    rows = Reminder.objects.visible_to(request.user).select_related("period__coalition", "sent_by")
    if form.is_valid():
        data = form.cleaned_data
        if data["coalition"]:
            rows = rows.filter(coalition__code=data["coalition"])
        if data["quarter"]:
            rows = rows.filter(period__quarter=data["quarter"])
        if data["kind"]:
            rows = rows.filter(kind=data["kind"])
        if data["status"]:
            rows = rows.filter(status=data["status"])
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": Paginator(rows.order_by("-claimed_at", "-pk"), 50).get_page(
            request.GET.get("page")
        ),
        "query_string": query.urlencode(),
    }
    template = "reporting/reminder_list.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)
