from django.urls import path

from funding import views as funding_views
from public import views

app_name = "public"

urlpatterns = [
    path("", views.home, name="home"),
    path("simuler-fichier-json/", funding_views.public_simulator, name="json_simulator"),
    path("aide/questions-frequentes/", views.faq, name="faq"),
    path("aide/contacter-assistance/", views.contact, name="contact"),
    path("aide/contacter-assistance/envoyee/", views.contact_done, name="contact_done"),
    path("mentions-legales/", views.legal, name="legal"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("conditions-generales-utilisation/", views.terms, name="terms"),
    path("plan-du-site/", views.sitemap, name="sitemap"),
]
