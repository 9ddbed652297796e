from django.contrib import admin

from portal.models import News
from segurnum.admin import FrenchTitlesMixin


@admin.register(News)
class NewsAdmin(FrenchTitlesMixin, admin.ModelAdmin):
    title_noun = "une actualité"
    list_display = ["title", "published_at", "published", "updated_at"]
    list_display_links = ["title"]
    list_filter = ["published", "published_at"]
    search_fields = ["title", "body"]
    date_hierarchy = "published_at"
    ordering = ["-published_at", "-id"]
    fields = ["title", "body", "published_at", "published", "created_at", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]
