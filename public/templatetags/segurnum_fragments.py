"""``{% constant %}…{% endconstant %}``: markup that depends on nothing of the page, rendered once
per process (R-PERF-1, R-PERF-5).

The page's shell repeats the same markup on every page: the design system's stylesheets and
scripts (their ``{% static %}`` addresses), the footer's links (``{% url %}``). A constant block is
rendered the first time with an **empty** context, then its text is kept on its node, which the
cached template loader keeps for the life of the process (in development, with templates read
again on every request, it is rendered every time). Being rendered without the page's context,
it cannot depend on it: a variable of the page inside it renders empty, at once, everywhere.
Addresses of static files and of views are fixed for the life of a process.
"""

from django import template
from django.template import Context
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


class ConstantNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist
        self.text: SafeString | None = None

    def render(self, context: Context) -> SafeString:
        if self.text is None:
            # Two threads may both render it the first time: the same text, kept once.
            # context.new(): no variable of the page, but the template and engine it renders in.
            self.text = mark_safe(self.nodelist.render(context.new()))  # noqa: S308
        return self.text


@register.tag
def constant(parser, token) -> ConstantNode:
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("« constant » ne prend pas d'argument.")
    nodelist = parser.parse(("endconstant",))
    parser.delete_first_token()
    return ConstantNode(nodelist)
