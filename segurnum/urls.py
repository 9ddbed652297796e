from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("public.urls")),
    path("enrolement/", include("enrolment.urls")),
    path("captcha/", include("captcha.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "public.views.page_not_found"
handler500 = "public.views.server_error"
