from django.contrib import admin

from grantees.models import CoachAssignment, Coalition, Grant, Invitation, Membership, Target


class GrantInline(admin.TabularInline):
    model = Grant
    extra = 0


@admin.register(Coalition)
class CoalitionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "lead_organization", "track"]
    search_fields = ["name", "slug", "lead_organization"]
    list_filter = ["track"]
    inlines = [GrantInline]


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["coalition", "measure", "value"]
    list_filter = ["measure"]
    list_select_related = ["coalition"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "coalition", "role"]
    list_filter = ["role"]
    list_select_related = ["user", "coalition"]
    search_fields = ["user__email", "coalition__name"]


@admin.register(CoachAssignment)
class CoachAssignmentAdmin(admin.ModelAdmin):
    list_display = ["coach", "coalition", "assigned_at"]
    list_select_related = ["coach", "coalition"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "coalition", "role", "created_at", "expires_at", "accepted_at"]
    readonly_fields = ["token_hash"]
    list_select_related = ["coalition"]
