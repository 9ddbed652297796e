"""``{% url %}`` as Django's, with the address of a tag made of literals kept on its node (R-PERF-5).

Installed as a template builtin (settings ``TEMPLATES``): it takes the place of Django's ``url``
tag in every template, with the same syntax and output. A tag whose view name and arguments are
all written in the template (``{% url 'public:home' %}``, ``{% url 'enrolment:model_document'
name='mandat' %}``) gives the same address for the life of a process, as ``{% constant %}``
already assumes; that address is computed once for each URLconf, script prefix, language,
current application and escaping, then kept on the node, which the cached template loader keeps.
A tag with a variable (an ENR number, a reset token, a step) is reversed each time: no address
of one person is kept in memory.
"""

from django import template
from django.conf import settings
from django.template import defaulttags
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

register = template.Library()


class URLNode(defaulttags.URLNode):
    def __init__(self, view_name, args, kwargs, asvar) -> None:
        super().__init__(view_name, args, kwargs, asvar)
        expressions = [view_name, *args, *kwargs.values()]
        self.literal = not asvar and not any(expression.is_var or expression.filters for expression in expressions)
        self.rendered: dict[tuple, str] = {}

    def render(self, context) -> str:
        if not self.literal:
            return super().render(context)
        request = getattr(context, "request", None)
        key = (
            get_urlconf() or settings.ROOT_URLCONF,
            get_script_prefix(),
            get_language(),
            getattr(request, "current_app", None),
            getattr(getattr(request, "resolver_match", None), "namespace", None),
            context.autoescape,
        )
        url = self.rendered.get(key)
        if url is None:
            # Two threads may both reverse it the first time: the same address, kept once.
            url = self.rendered[key] = super().render(context)
        return url


@register.tag
def url(parser, token) -> URLNode:
    node = defaulttags.url(parser, token)
    return URLNode(node.view_name, node.args, node.kwargs, node.asvar)
