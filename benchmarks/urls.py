"""The portal's URLs plus the benchmark's floor views, mounted only by benchmarks.settings."""

from django.urls import path

from benchmarks import views
from segurnum.urls import handler403, handler404, handler500
from segurnum.urls import urlpatterns as portal_urlpatterns

urlpatterns = [
    path("__bench__/floor/", views.floor, name="bench_floor"),
    path("__bench__/floor-upload/", views.floor_upload, name="bench_floor_upload"),
    *portal_urlpatterns,
]

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]
