from django.contrib import admin
from django.urls import include, path

from funding.support import lookup_view as funding_lookup_view
from support.views import lookup_view

admin.site.site_header = "Portail Ségur Numérique — back office ASP"
admin.site.site_title = "Back office Ségur Numérique"
admin.site.index_title = "Instruction des demandes d'enrôlement"

urlpatterns = [
    path("", include("public.urls")),
    path("", include("accounts.urls")),
    path("espace/", include("portal.urls")),
    path("enrolement/", include("enrolment.urls")),
    path("", include("funding.urls")),
    path("captcha/", include("captcha.urls")),
    path("admin/recherche-demande/", lookup_view, name="support_lookup"),
    path("admin/recherche-financement/", funding_lookup_view, name="funding_lookup"),
    path("sante/", include("segurnum.health")),
    path("admin/", admin.site.urls),
]

handler403 = "public.views.permission_denied"
handler404 = "public.views.page_not_found"
handler500 = "public.views.server_error"
