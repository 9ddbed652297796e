from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles import views as staticfiles_views
from django.urls import include, path, re_path

from enrolment import views as enrolment_views
from funding.support import lookup_view as funding_lookup_view
from operations.dashboard import dashboard_view
from support.views import lookup_view

admin.site.site_header = "Portail Ségur Numérique — back office ASP"
admin.site.site_title = "Back office Ségur Numérique"
admin.site.index_title = "Instruction des demandes d'enrôlement"

urlpatterns = [
    path("", include("public.urls")),
    path("", include("tracking.urls")),
    path("", include("accounts.urls")),
    path("espace/", include("portal.urls")),
    path("enrolement/", include("enrolment.urls")),
    path("", include("funding.urls")),
    # Before captcha.urls: its refresh is rate-limited (SECURITY A12).
    path("captcha/refresh/", enrolment_views.captcha_refresh),
    path("captcha/", include("captcha.urls")),
    path("admin/recherche-demande/", lookup_view, name="support_lookup"),
    path("admin/recherche-financement/", funding_lookup_view, name="funding_lookup"),
    path("admin/tableau-de-bord/", dashboard_view, name="admin_dashboard"),
    path("sante/", include("segurnum.health")),
    path("admin/", admin.site.urls),
    # Static files in development (`make run`: runserver --nostatic) go through the middleware and
    # get its security headers (SECURITY D5); the view answers 404 unless DEBUG. In production
    # nginx serves them (deploy/nginx).
    re_path(rf"^{settings.STATIC_URL.strip('/')}/(?P<path>.+)$", staticfiles_views.serve),
]

handler403 = "public.views.permission_denied"
handler404 = "public.views.page_not_found"
handler500 = "public.views.server_error"
