"""A URLconf where the home page lives elsewhere, twice (tests.public.test_url_tag)."""

from django.http import HttpResponse
from django.urls import include, path

home = [path("", lambda request: HttpResponse(""), name="home")]

urlpatterns = [
    path("ailleurs/", include((home, "public"))),
    path("autre/", include((home, "public"), namespace="autre")),
]
