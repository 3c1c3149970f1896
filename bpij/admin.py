from django.contrib import admin
from django.contrib.admin.actions import delete_selected
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy

from bpij import services
from bpij.models import AuditAction, AuditEvent, User

# Django's own wording (and so its translations) for the action this one wraps.
DELETE_SELECTED = gettext_lazy("Delete selected %(verbose_name_plural)s")


@admin.action(permissions=["delete"], description=DELETE_SELECTED)
def delete_selected_audited(modeladmin, request, queryset):
    """Django's "delete selected" action, audited: Django logs a deletion of several
    objects with one bulk insert into LogEntry, which sends no signal, so the audit
    events for those are written here (one object goes through bpij.signals)."""
    doomed = [(str(obj.pk), str(obj)) for obj in queryset] if request.POST.get("post") else []
    response = delete_selected(modeladmin, request, queryset)
    if response is None and len(doomed) > 1:
        label = modeladmin.model._meta.label
        for object_id, object_repr in doomed:
            services.audit_record(
                action=AuditAction.ADMIN_CHANGED,
                actor=request.user,
                target=f"{label} {object_repr}"[:300],
                detail={"model": label, "object_id": object_id, "change": "deleted"},
            )
    return response


admin.site.add_action(delete_selected_audited, "delete_selected")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "staff_role", "is_active", "is_demo"]
    list_filter = ["staff_role", "is_active", "is_demo"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "staff_role", "is_demo"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "actor_email", "coalition_name", "target", "ip_address"]
    list_filter = ["action"]
    search_fields = ["actor_email", "coalition_name", "target"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
