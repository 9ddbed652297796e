"""Reading a portal page as the vendor sees it: its text, its links, its forms."""

import html
import re


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def links(response) -> list[tuple[str, str]]:
    """(label, href) of every link of the page, labels as read aloud (hidden helper text included)."""
    found = []
    for match in re.finditer(r'<a\b[^>]*href="([^"]*)"[^>]*>(.*?)</a>', response.content.decode(), re.S):
        label = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(2))).split())
        found.append((label, html.unescape(match.group(1))))
    return found


def link_hrefs(response, label: str) -> list[str]:
    return [href for text, href in links(response) if text == label]
