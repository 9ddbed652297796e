from django import template
from django.conf import settings
from django.urls import reverse

register = template.Library()


@register.simple_tag
def absolute_url(name: str, *args) -> str:
    """An address of the portal for a mail or a PDF: from SITE_URL, never from a request's Host."""
    return settings.SITE_URL + reverse(name, args=args)
